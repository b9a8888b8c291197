// Evaluation datasets. Layout (two roots, so labels can live outside every sandbox and worktree):
//
//   <dataRoot>/<dataset>/dataset.json              {name, numClasses, description?}        (public)
//   <dataRoot>/<dataset>/baselines.json            fixed weak/strong baselines per split  (public)
//   <dataRoot>/<dataset>/<split>/items.jsonl       one item per line, no labels            (public)
//   <dataRoot>/<dataset>/train_label/labels.jsonl  labels of train_label only              (public)
//   <labelsRoot>/<dataset>/<split>.labels.jsonl    {"id","label"} per line, items' order   (hub only)
//
// The service reads labels only from labelsRoot; the public copy for train_label exists so agents can train.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { mulberry32, normal } from './stats';

export const SPLITS = ['train_label', 'train_unlabel', 'test', 'heldout'] as const;
export type Split = (typeof SPLITS)[number];

export function isSplit(s: string): s is Split {
  return (SPLITS as readonly string[]).includes(s);
}

export const DATASET_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface SplitBaseline {
  weak_acc: number;
  weak_se: number;
  strong_acc: number;
  strong_se: number;
  num_seeds: number;
}

export interface BaselinePair {
  weak_model: string;
  strong_model: string;
  /** The pair used when a request names no models. */
  default?: boolean;
  /** Other names of the same models (e.g. the AAR release's `Qwen/Qwen1.5-0.5B-Chat`): a request naming one
   * is scored against this pair. */
  weak_aliases?: string[];
  strong_aliases?: string[];
  splits: Partial<Record<Split, SplitBaseline>>;
}

export interface BaselinesFile {
  dataset: string;
  pairs: BaselinePair[];
}

export interface DatasetMeta {
  name: string;
  numClasses: number;
  description?: string;
}

export interface LoadedSplit {
  /** Number of items (public: the line count of items.jsonl). */
  n: number;
  /** Labels from labelsRoot, if the hub holds them. */
  labels?: Uint8Array;
}

export interface LoadedDataset {
  meta: DatasetMeta;
  baselines: BaselinesFile;
  splits: Partial<Record<Split, LoadedSplit>>;
}

export const itemsPath = (dataRoot: string, ds: string, split: Split) => path.join(dataRoot, ds, split, 'items.jsonl');
export const labelsPath = (labelsRoot: string, ds: string, split: Split) =>
  path.join(labelsRoot, ds, `${split}.labels.jsonl`);
export const publicLabelsPath = (dataRoot: string, ds: string) => path.join(dataRoot, ds, 'train_label', 'labels.jsonl');
export const baselinesPath = (dataRoot: string, ds: string) => path.join(dataRoot, ds, 'baselines.json');
export const metaPath = (dataRoot: string, ds: string) => path.join(dataRoot, ds, 'dataset.json');

export class DatasetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatasetError';
  }
}

function readJsonl(file: string): unknown[] {
  const text = fs.readFileSync(file, 'utf8');
  const out: unknown[] = [];
  let lineNo = 0;
  for (const line of text.split('\n')) {
    lineNo++;
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line));
    } catch {
      throw new DatasetError(`${file}:${lineNo}: invalid JSON`);
    }
  }
  return out;
}

/** Dataset names that exist under dataRoot (directories with a dataset.json). */
export function listDatasets(dataRoot: string): string[] {
  if (!fs.existsSync(dataRoot)) return [];
  return fs
    .readdirSync(dataRoot, { withFileTypes: true })
    .filter((d) => d.isDirectory() && DATASET_NAME_RE.test(d.name) && fs.existsSync(metaPath(dataRoot, d.name)))
    .map((d) => d.name)
    .sort();
}

/** Loads a dataset (items counts, hub-held labels, baselines), validating that labels align with items. */
export function loadDataset(dataRoot: string, labelsRoot: string, name: string): LoadedDataset {
  if (!DATASET_NAME_RE.test(name)) throw new DatasetError(`invalid dataset name`);
  const mp = metaPath(dataRoot, name);
  if (!fs.existsSync(mp)) throw new DatasetError(`unknown dataset ${name}`);
  const meta = JSON.parse(fs.readFileSync(mp, 'utf8')) as DatasetMeta;
  if (!Number.isInteger(meta.numClasses) || meta.numClasses < 2 || meta.numClasses > 255) {
    throw new DatasetError(`${mp}: numClasses must be an integer in [2, 255]`);
  }
  const bp = baselinesPath(dataRoot, name);
  const baselines: BaselinesFile = fs.existsSync(bp)
    ? (JSON.parse(fs.readFileSync(bp, 'utf8')) as BaselinesFile)
    : { dataset: name, pairs: [] };
  const splits: Partial<Record<Split, LoadedSplit>> = {};
  for (const split of SPLITS) {
    const ip = itemsPath(dataRoot, name, split);
    if (!fs.existsSync(ip)) continue;
    const items = readJsonl(ip) as { id?: unknown }[];
    const entry: LoadedSplit = { n: items.length };
    const lp = labelsPath(labelsRoot, name, split);
    if (fs.existsSync(lp)) {
      const rows = readJsonl(lp) as { id?: unknown; label?: unknown }[];
      if (rows.length !== items.length) throw new DatasetError(`${lp}: ${rows.length} labels for ${items.length} items`);
      const labels = new Uint8Array(rows.length);
      rows.forEach((r, i) => {
        if (items[i].id !== undefined && r.id !== items[i].id) throw new DatasetError(`${lp}:${i + 1}: id does not match items`);
        if (!Number.isInteger(r.label) || (r.label as number) < 0 || (r.label as number) >= meta.numClasses) {
          throw new DatasetError(`${lp}:${i + 1}: label out of range`);
        }
        labels[i] = r.label as number;
      });
      entry.labels = labels;
    }
    splits[split] = entry;
  }
  return { meta, baselines, splits };
}

/** The baseline pair for a request: the named pair, else the default (or only) pair. */
export function findBaselinePair(b: BaselinesFile, weak?: string, strong?: string): BaselinePair | undefined {
  if (weak === undefined && strong === undefined) return b.pairs.find((p) => p.default) ?? b.pairs[0];
  const is = (name: string, aliases: string[] | undefined, want: string) => name === want || (Array.isArray(aliases) && aliases.includes(want));
  return b.pairs.find(
    (p) => (weak === undefined || is(p.weak_model, p.weak_aliases, weak)) && (strong === undefined || is(p.strong_model, p.strong_aliases, strong)),
  );
}

/** A dataset's baselines file (no labels read). */
export function loadDatasetBaselines(dataRoot: string, name: string): BaselinesFile {
  if (!DATASET_NAME_RE.test(name)) throw new DatasetError(`invalid dataset name`);
  const bp = baselinesPath(dataRoot, name);
  return fs.existsSync(bp) ? (JSON.parse(fs.readFileSync(bp, 'utf8')) as BaselinesFile) : { dataset: name, pairs: [] };
}

// ---------------------------------------------------------------------------------------------------------
// Synthetic binary datasets (tests, demo, simulator). Deterministic from a seed.

export interface SyntheticOptions {
  dataRoot: string;
  labelsRoot: string;
  name: string;
  seed: number;
  sizes?: Partial<Record<Split, number>>;
  /** Feature dimension (default 8). The weak model sees only the first `weakFeatures` (default 2). */
  features?: number;
  weakFeatures?: number;
  weakModel?: string;
  strongModel?: string;
  /** Seeds used to estimate the fixed baselines (default 5). */
  baselineSeeds?: number;
}

export interface SyntheticDataset {
  name: string;
  labels: Record<Split, Uint8Array>;
  /** Per-item difficulty in [0, 1] (distance to the true boundary, inverted): used to simulate models. */
  difficulty: Record<Split, Float64Array>;
  baselines: BaselinesFile;
}

export const DEFAULT_SYNTHETIC_SIZES: Record<Split, number> = {
  train_label: 500,
  train_unlabel: 2000,
  test: 1000,
  heldout: 1000,
};

/**
 * Writes a synthetic binary classification dataset: features x ~ N(0, I), label = [w·x + ε > 0].
 * The weak "model" is a noisy linear classifier on the first features, the strong one on all features;
 * baselines are their mean accuracy and standard error across seeds, per split.
 */
export function generateSyntheticDataset(opts: SyntheticOptions): SyntheticDataset {
  const d = opts.features ?? 8;
  const dw = Math.min(d, opts.weakFeatures ?? 2);
  const sizes = { ...DEFAULT_SYNTHETIC_SIZES, ...opts.sizes };
  const weakModel = opts.weakModel ?? 'synthetic-weak';
  const strongModel = opts.strongModel ?? 'synthetic-strong';
  const rng = mulberry32(opts.seed);
  const w = Array.from({ length: d }, () => normal(rng));
  const labels = {} as Record<Split, Uint8Array>;
  const difficulty = {} as Record<Split, Float64Array>;
  const features = {} as Record<Split, number[][]>;
  const dsDir = path.join(opts.dataRoot, opts.name);
  fs.mkdirSync(dsDir, { recursive: true });
  fs.mkdirSync(path.join(opts.labelsRoot, opts.name), { recursive: true });
  for (const split of SPLITS) {
    const n = sizes[split];
    const y = new Uint8Array(n);
    const diff = new Float64Array(n);
    const xs: number[][] = [];
    const items: string[] = [];
    const lab: string[] = [];
    for (let i = 0; i < n; i++) {
      const x = Array.from({ length: d }, () => Math.round(normal(rng) * 1000) / 1000);
      const score = x.reduce((a, xi, j) => a + xi * w[j], 0) + 0.6 * normal(rng);
      y[i] = score > 0 ? 1 : 0;
      diff[i] = Math.exp(-Math.abs(score));
      xs.push(x);
      const id = `${split}-${String(i).padStart(6, '0')}`;
      items.push(JSON.stringify({ id, text: `synthetic item ${id}`, features: x }));
      lab.push(JSON.stringify({ id, label: y[i] }));
    }
    labels[split] = y;
    difficulty[split] = diff;
    features[split] = xs;
    fs.mkdirSync(path.join(dsDir, split), { recursive: true });
    fs.writeFileSync(itemsPath(opts.dataRoot, opts.name, split), items.join('\n') + (n ? '\n' : ''));
    fs.writeFileSync(labelsPath(opts.labelsRoot, opts.name, split), lab.join('\n') + (n ? '\n' : ''));
    if (split === 'train_label') fs.writeFileSync(publicLabelsPath(opts.dataRoot, opts.name), lab.join('\n') + (n ? '\n' : ''));
  }
  const seeds = opts.baselineSeeds ?? 5;
  const acc = (split: Split, dims: number, noise: number, s: number) => {
    const r = mulberry32(opts.seed * 7919 + s * 104729 + dims);
    // Each seed perturbs the weights (a differently trained model) and adds per-item noise.
    const ws = w.map((wi, j) => (j < dims ? wi + 0.25 * normal(r) : 0));
    let c = 0;
    features[split].forEach((x, i) => {
      const p = x.reduce((a, xi, j) => a + xi * ws[j], 0) + noise * normal(r) > 0 ? 1 : 0;
      if (p === labels[split][i]) c++;
    });
    return features[split].length ? c / features[split].length : 0;
  };
  const meanSe = (xs: number[]) => {
    const m = xs.reduce((a, b) => a + b, 0) / xs.length;
    const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1)) : 0;
    return { m: round6(m), se: round6(sd / Math.sqrt(xs.length)) };
  };
  const splitsBaselines: Partial<Record<Split, SplitBaseline>> = {};
  for (const split of ['test', 'heldout', 'train_label'] as const) {
    if (!sizes[split]) continue;
    const wk = meanSe(Array.from({ length: seeds }, (_, s) => acc(split, dw, 1.2, s)));
    const st = meanSe(Array.from({ length: seeds }, (_, s) => acc(split, d, 0.3, s)));
    splitsBaselines[split] = { weak_acc: wk.m, weak_se: wk.se, strong_acc: st.m, strong_se: st.se, num_seeds: seeds };
  }
  const baselines: BaselinesFile = {
    dataset: opts.name,
    pairs: [{ weak_model: weakModel, strong_model: strongModel, default: true, splits: splitsBaselines }],
  };
  fs.writeFileSync(baselinesPath(opts.dataRoot, opts.name), JSON.stringify(baselines, null, 2) + '\n');
  const meta: DatasetMeta = {
    name: opts.name,
    numClasses: 2,
    description: `Synthetic binary dataset (seed ${opts.seed}, ${d} features; weak model sees ${dw}).`,
  };
  fs.writeFileSync(metaPath(opts.dataRoot, opts.name), JSON.stringify(meta, null, 2) + '\n');
  return { name: opts.name, labels, difficulty, baselines };
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

/**
 * Predictions of a simulated model of roughly the given accuracy on a split, for tests and the simulator.
 * Hard items (high difficulty) are more likely wrong, so two independently trained models share some of
 * their mistakes, as real retrained models do; `seed` varies the model.
 */
export function simulatePredictions(
  labels: ArrayLike<number>,
  difficulty: ArrayLike<number>,
  accuracy: number,
  seed: number,
): number[] {
  const rng = mulberry32(seed);
  const n = labels.length;
  let meanD = 0;
  for (let i = 0; i < n; i++) meanD += difficulty[i];
  meanD = n ? meanD / n : 0.5;
  const errRate = 1 - accuracy;
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    // Error probability proportional to difficulty, scaled so the expected accuracy matches.
    const p = Math.min(1, (errRate * difficulty[i]) / Math.max(1e-9, meanD));
    out[i] = rng() < p ? 1 - labels[i] : labels[i];
  }
  return out;
}
