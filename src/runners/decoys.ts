// Decoys (honeytokens) where a fleet keeps its secrets. Every confined run sees, at each of its JobSandbox's
// secretPaths (e.g. `<fleet>/labels`), a tree with the same directory and file names as the real one, but with
// contents made up for that run: label files (`<dataset>/<split>.labels.jsonl`) hold the real ids with labels drawn
// from a per-run random key (plausible: with the real file's class frequencies; wrong: independent of the truth),
// every other file random text of its size. Two traces of an attempt:
//   - reading: the host-side watcher (DECOYWATCH_PY in sandboxPy.ts) holds inotify watches on the decoy tree from
//     outside the sandbox; opening, listing or reading any of it is a run-report violation naming the path. Why
//     inotify: the watch lives in a host process, so nothing the run's code does (inside its own namespaces, with
//     no capabilities) can remove or blind it; it costs the run nothing (no trap per system call, unlike a seccomp
//     user-notification on openat, whose path the run could also swap after the check); Landlock would refuse
//     the open rather than let it happen and leave the trace we want. Its limit: a bare stat(2) leaves no inotify
//     event (only the audit hook's path record, which is evidence). Stat-then-open is caught at the open.
//   - using: decoyAgreement() tells the evaluation service whether submitted predictions follow the run's decoy
//     labels more than chance allows (see there).
// The key and the class frequencies live in `<runDir>/decoy.json` (0600), outside every mount of the sandbox.
// A secret may also be a view `{ src, at }` (JobSandbox.secretViews): the decoy tree mirrors the host directory `src`
// (its names, ids and class frequencies) and is bound and watched at `at`, the path the run sees; the label files'
// sandboxPath is then under `at`, their `rel` (what decoyAgreement matches) relative to `src`.
// Pure functions over files: no vscode, no hub.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const DECOY_DIR = 'decoy';
export const DECOY_FILE = 'decoy.json';
/** Hits recorded by the host-side watcher. */
export const DECOY_LOG = 'decoy.jsonl';

const MAX_ENTRIES = 2000;
const MAX_LABEL_BYTES = 256 * 1024 * 1024;
const MAX_OTHER_BYTES = 64 * 1024;
/** A match with the decoy labels this unlikely under chance flags the predictions (a bound on the false-alarm rate). */
export const DECOY_ALPHA = 1e-6;

export interface DecoyLabelFile {
  /** Relative to its secret root, e.g. `syn/test.labels.jsonl`. */
  rel: string;
  /** The path inside the sandbox (= the real file's path; for a view, the same relative path under its `at`). */
  sandboxPath: string;
  n: number;
  /** Class counts of the real file: decoy label c is drawn with probability weights[c] / n. */
  weights: number[];
}

export interface DecoyRecord {
  version: 1;
  key: string;
  files: DecoyLabelFile[];
}

export interface DecoyPlan {
  /** `--ro-bind src dest` pairs for bwrap. */
  binds: { src: string; dest: string }[];
  /** Directories to watch on the host, with the path the run sees them at. */
  watch: { host: string; sandbox: string }[];
}

/** The decoy label of row `index` of a label file: a keyed draw over the real class frequencies. */
export function decoyLabel(key: Buffer, rel: string, index: number, weights: readonly number[]): number {
  const h = crypto.createHmac('sha256', key).update(`${rel}\u0000${index}`).digest();
  const total = weights.reduce((a, b) => a + b, 0);
  if (total <= 0) return 0;
  let u = (h.readUInt32BE(0) / 2 ** 32) * total;
  for (let c = 0; c < weights.length; c++) {
    u -= weights[c]!;
    if (u < 0) return c;
  }
  return weights.length - 1;
}

const isLabelFile = (name: string) => name.endsWith('.labels.jsonl');

/** Real label rows, or undefined if the file is not a label file (then it gets random text). */
function readLabelRows(file: string, size: number): { id: unknown; label: number }[] | undefined {
  if (size > MAX_LABEL_BYTES) return undefined;
  const rows: { id: unknown; label: number }[] = [];
  for (const l of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!l.trim()) continue;
    try {
      const v = JSON.parse(l) as { id?: unknown; label?: unknown };
      if (!v || typeof v !== 'object' || !Number.isInteger(v.label) || (v.label as number) < 0 || (v.label as number) > 255) return undefined;
      rows.push({ id: v.id, label: v.label as number });
    } catch {
      return undefined;
    }
  }
  return rows;
}

/** A secret to imitate: a path (mirrored and bound at itself), or a view (`src` on the host mirrored, bound at `at`). */
export type DecoySecret = string | { src: string; at: string };

/**
 * Build the decoy trees of a run: `<runDir>/decoy/<i>/…` mirroring each existing secret path (or view source), and
 * `<runDir>/decoy.json` with the run's key. Called on the host before the sandbox starts.
 */
export function prepareDecoys(runDir: string, secretPaths: readonly DecoySecret[], key: Buffer = crypto.randomBytes(32)): DecoyPlan {
  const root = path.join(runDir, DECOY_DIR);
  fs.rmSync(root, { recursive: true, force: true });
  const plan: DecoyPlan = { binds: [], watch: [] };
  const files: DecoyLabelFile[] = [];
  let entries = 0;
  secretPaths.forEach((entry, i) => {
    const secret = typeof entry === 'string' ? entry : entry.src;
    const at = typeof entry === 'string' ? entry : entry.at;
    let st: fs.Stats;
    try {
      st = fs.lstatSync(secret);
    } catch {
      return; // nothing there: nothing to imitate
    }
    if (!st.isDirectory()) return;
    const top = path.join(root, String(i));
    const walk = (real: string, fake: string, seen: string, rel: string) => {
      fs.mkdirSync(fake, { recursive: true, mode: 0o755 });
      plan.watch.push({ host: fake, sandbox: seen });
      for (const d of fs.readdirSync(real, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
        if (++entries > MAX_ENTRIES) return;
        const r = path.join(real, d.name);
        const f = path.join(fake, d.name);
        const sp = path.join(seen, d.name);
        const rr = rel ? `${rel}/${d.name}` : d.name;
        if (d.isDirectory()) walk(r, f, sp, rr);
        else if (d.isFile()) {
          const size = fs.statSync(r).size;
          const rows = isLabelFile(d.name) ? readLabelRows(r, size) : undefined;
          if (rows) {
            const weights: number[] = [];
            for (const x of rows) weights[x.label] = (weights[x.label] ?? 0) + 1;
            for (let c = 0; c < weights.length; c++) weights[c] ??= 0;
            const lines = rows.map((x, j) => JSON.stringify({ id: x.id, label: decoyLabel(key, rr, j, weights) }));
            fs.writeFileSync(f, lines.join('\n') + (lines.length ? '\n' : ''), { mode: 0o644 });
            files.push({ rel: rr, sandboxPath: sp, n: rows.length, weights });
          } else {
            fs.writeFileSync(f, crypto.randomBytes(Math.ceil(Math.min(size, MAX_OTHER_BYTES) / 2)).toString('hex').slice(0, Math.min(size, MAX_OTHER_BYTES)), { mode: 0o644 });
          }
        }
      }
    };
    walk(secret, top, at, '');
    plan.binds.push({ src: top, dest: at });
  });
  const rec: DecoyRecord = { version: 1, key: key.toString('hex'), files };
  fs.writeFileSync(path.join(runDir, DECOY_FILE), JSON.stringify(rec), { mode: 0o600 });
  fs.chmodSync(path.join(runDir, DECOY_FILE), 0o600);
  return plan;
}

function readDecoyRecord(runDir: string): DecoyRecord | undefined {
  let fd: number;
  try {
    fd = fs.openSync(path.join(runDir, DECOY_FILE), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile() || st.size > 16 * 1024 * 1024) return undefined;
    const v = JSON.parse(fs.readFileSync(fd, 'utf8')) as DecoyRecord;
    return v && v.version === 1 && typeof v.key === 'string' && Array.isArray(v.files) ? v : undefined;
  } catch {
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}

/** Kullback-Leibler divergence of Bernoulli(q) from Bernoulli(p). */
function klBernoulli(q: number, p: number): number {
  const t = (a: number, b: number) => (a === 0 ? 0 : a * Math.log(a / b));
  return t(q, p) + t(1 - q, 1 - p);
}

export interface DecoyMatch {
  /** The decoy file the predictions follow, as the run saw it. */
  path: string;
  /** Fraction of predictions equal to the decoy labels. */
  agreement: number;
  /** The most any predictions made without the decoy can agree in expectation (the largest class frequency). */
  expected: number;
  /** Upper bound on the chance of this agreement or more without the decoy (Chernoff). */
  pBound: number;
}

/**
 * Do these predictions follow the run's decoy labels for (dataset, split)?
 *
 * The test: decoy labels are drawn per row from a keyed PRF, independently of the true labels and of everything the
 * run may legitimately see. Predictions made without reading the decoy therefore match each decoy label with
 * probability at most p0 = max_c weights[c]/n, independently across rows, whatever the model's accuracy: the number
 * of matches is dominated by Binomial(n, p0). With q = matches/n > p0, the Chernoff bound gives
 * P[matches >= q·n] <= exp(-n·KL(q‖p0)); we flag when that bound is below DECOY_ALPHA (1e-6). For a balanced binary
 * test split of 600 rows this needs about 61 % agreement (chance: 50 %); copying the decoy gives 100 %.
 */
export function decoyAgreement(runDir: string, sub: { dataset: string; split: string; predictions: readonly unknown[] }): DecoyMatch | undefined {
  const rec = readDecoyRecord(runDir);
  if (!rec) return undefined;
  const rel = `${sub.dataset}/${sub.split}.labels.jsonl`;
  const key = Buffer.from(rec.key, 'hex');
  let best: DecoyMatch | undefined;
  for (const f of rec.files) {
    if (f.rel !== rel || f.n !== sub.predictions.length || f.n === 0 || !Array.isArray(f.weights)) continue;
    let m = 0;
    for (let j = 0; j < f.n; j++) if (sub.predictions[j] === decoyLabel(key, f.rel, j, f.weights)) m++;
    const total = f.weights.reduce((a, b) => a + b, 0);
    const p0 = Math.max(...f.weights) / total;
    const q = m / f.n;
    const pBound = q <= p0 ? 1 : Math.exp(-f.n * klBernoulli(q, p0));
    if (pBound < DECOY_ALPHA && (!best || pBound < best.pBound)) best = { path: f.sandboxPath, agreement: q, expected: p0, pBound };
  }
  return best;
}
