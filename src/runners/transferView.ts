// What a replication job receives of a hidden transfer dataset (core/replication.ts): a per-job view in the dataset
// layout of evaluation/datasets.ts, built on the host inside the job's own run directory and bound read-only where
// the visible dataset is (`<fleet>/datasets/<visible>`), so that the approved command, unchanged, reads it:
//   - dataset.json: the visible dataset's own (its name and description: nothing in the metadata tells them apart);
//   - baselines.json: the hidden dataset's fixed baselines, measured by the hub, under the visible name;
//   - every split's items.jsonl; train_label cut to the protocol's gold labels (chosen per job by its seed), with
//     exactly those labels in train_label/labels.jsonl (the weak teacher's budget, nothing more);
//   - any other top-level file of the visible dataset, copied as is.
// A labels view (`<runDir>/labelsview/<visible>/<split>.labels.jsonl`, host side only, never mounted) is what the
// run's decoys are made from, so the decoys at `<fleet>/labels` carry the ids the job's data has.
// The hidden files live under `<fleet>/transfer/datasets/<hidden>` and `<fleet>/transfer/labels/<hidden>`, which no
// sandbox, route or agent-visible file names. Pure file I/O, no hub, no vscode.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chooseIndices } from '../core/replication';
import { SPLITS } from '../evaluation/datasets';

export const TRANSFER_DIR = 'transfer';
export const VIEW_DIR = 'view';
export const LABELS_VIEW_DIR = 'labelsview';

export class TransferViewError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TransferViewError';
  }
}

export const transferDataRoot = (fleetDir: string) => path.join(fleetDir, TRANSFER_DIR, 'datasets');
export const transferLabelsRoot = (fleetDir: string) => path.join(fleetDir, TRANSFER_DIR, 'labels');

export interface TransferViewInput {
  fleetDir: string;
  runDir: string;
  /** Visible dataset name → hidden dataset name. */
  datasets: Record<string, string>;
  goldLabels: number;
  /** The replication job's seed (chooses its gold labels). */
  seed: number;
}

export interface TransferView {
  binds: { src: string; dest: string }[];
  labelsView: string;
}

function lines(file: string): string[] {
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim());
}

export function buildTransferView(i: TransferViewInput): TransferView {
  const viewRoot = path.join(i.runDir, VIEW_DIR);
  const labelsView = path.join(i.runDir, LABELS_VIEW_DIR);
  fs.rmSync(viewRoot, { recursive: true, force: true });
  fs.rmSync(labelsView, { recursive: true, force: true });
  const binds: TransferView['binds'] = [];
  for (const [visible, hidden] of Object.entries(i.datasets)) {
    const src = path.join(transferDataRoot(i.fleetDir), hidden);
    const lab = path.join(transferLabelsRoot(i.fleetDir), hidden);
    const vis = path.join(i.fleetDir, 'datasets', visible);
    if (!fs.existsSync(path.join(src, 'dataset.json'))) throw new TransferViewError(`the transfer dataset ${hidden} of ${visible} is missing (${path.join(TRANSFER_DIR, 'datasets', hidden)} in the fleet)`);
    const out = path.join(viewRoot, visible);
    const lout = path.join(labelsView, visible);
    fs.mkdirSync(out, { recursive: true });
    fs.mkdirSync(lout, { recursive: true });
    const meta = fs.existsSync(path.join(vis, 'dataset.json')) ? path.join(vis, 'dataset.json') : path.join(src, 'dataset.json');
    fs.copyFileSync(meta, path.join(out, 'dataset.json'));
    if (fs.existsSync(path.join(src, 'baselines.json'))) {
      const b = JSON.parse(fs.readFileSync(path.join(src, 'baselines.json'), 'utf8')) as Record<string, unknown>;
      fs.writeFileSync(path.join(out, 'baselines.json'), JSON.stringify({ ...b, dataset: visible }, null, 2) + '\n');
    }
    if (fs.existsSync(vis)) {
      for (const e of fs.readdirSync(vis, { withFileTypes: true })) {
        if (!e.isFile() || e.name === 'dataset.json' || e.name === 'baselines.json') continue;
        fs.copyFileSync(path.join(vis, e.name), path.join(out, e.name));
      }
    }
    for (const split of SPLITS) {
      const items = path.join(src, split, 'items.jsonl');
      if (!fs.existsSync(items)) continue;
      fs.mkdirSync(path.join(out, split), { recursive: true });
      const labelsFile = path.join(lab, `${split}.labels.jsonl`);
      if (split === 'train_label') {
        const rows = lines(items);
        const gold = fs.existsSync(labelsFile) ? lines(labelsFile) : fs.existsSync(path.join(src, split, 'labels.jsonl')) ? lines(path.join(src, split, 'labels.jsonl')) : [];
        if (gold.length !== rows.length) throw new TransferViewError(`the transfer dataset ${hidden}: ${gold.length} train_label labels for ${rows.length} items`);
        const pick = chooseIndices(rows.length, i.goldLabels, i.seed);
        fs.writeFileSync(path.join(out, split, 'items.jsonl'), pick.map((k) => rows[k] + '\n').join(''));
        fs.writeFileSync(path.join(out, split, 'labels.jsonl'), pick.map((k) => gold[k] + '\n').join(''));
        fs.writeFileSync(path.join(lout, `${split}.labels.jsonl`), pick.map((k) => gold[k] + '\n').join(''));
      } else {
        fs.copyFileSync(items, path.join(out, split, 'items.jsonl'));
        if (fs.existsSync(labelsFile)) fs.copyFileSync(labelsFile, path.join(lout, `${split}.labels.jsonl`));
      }
    }
    binds.push({ src: out, dest: vis });
  }
  return { binds, labelsView };
}

/** The gold-label indices of train_label a replication job with this seed received. */
export function goldIndices(n: number, goldLabels: number, seed: number): number[] {
  return chooseIndices(n, goldLabels, seed);
}
