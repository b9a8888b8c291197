// The demo's real weak-to-strong codebase and dataset (fixtures/w2s-demo): a pure-Python (standard library)
// weak teacher and strong student on the UCI optical digits (CC BY 4.0), several honest ideas whose PGR
// differs, and an evaluation client that uses the run's hub URL. Found from source or from the bundle.
import * as fs from 'node:fs';
import * as path from 'node:path';

export const DEMO_DATASET = 'w2s-digits';

/** The honest ideas train.py implements (`--idea`). */
export const DEMO_IDEAS = ['baseline', 'soft_labels', 'confidence', 'aux_conf', 'bootstrap'] as const;
export type DemoIdea = (typeof DEMO_IDEAS)[number];

/** fixtures/w2s-demo, from source (src/fleet), the bundle (dist/) or the working directory. */
export function demoRoot(): string {
  const candidates = [
    path.resolve(__dirname, '..', '..', 'fixtures', 'w2s-demo'),
    path.resolve(__dirname, '..', 'fixtures', 'w2s-demo'),
    path.resolve(process.cwd(), 'fixtures', 'w2s-demo'),
  ];
  const f = candidates.find((c) => fs.existsSync(path.join(c, 'code', 'train.py')));
  if (!f) throw new Error('fixtures/w2s-demo not found');
  return f;
}

function walk(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.name === '__pycache__' || e.name.startsWith('.')) continue;
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...walk(dir, r));
    else if (e.isFile()) out.push(r);
  }
  return out;
}

let cached: Record<string, string> | undefined;

/** The codebase's files (path → content), as every demo sandbox starts with them. */
export function demoCodeFiles(): Record<string, string> {
  if (!cached) {
    const root = path.join(demoRoot(), 'code');
    cached = {};
    for (const p of walk(root)) cached[p] = fs.readFileSync(path.join(root, p), 'utf8');
  }
  return { ...cached };
}

/** Copy the demo dataset into a fleet: public files under <fleet>/datasets, labels under <fleet>/labels; and its
 * hidden transfer task (MNIST digits reduced to 8x8, the same question) under <fleet>/transfer, which no agent and no
 * agent-visible job sees. */
export function installDemoDataset(fleetDir: string, name = DEMO_DATASET): void {
  const root = demoRoot();
  fs.cpSync(path.join(root, 'dataset', DEMO_DATASET), path.join(fleetDir, 'datasets', name), { recursive: true });
  fs.cpSync(path.join(root, 'labels', DEMO_DATASET), path.join(fleetDir, 'labels', name), { recursive: true });
  for (const part of ['datasets', 'labels']) {
    fs.cpSync(path.join(root, 'transfer', part, DEMO_TRANSFER_DATASET), path.join(fleetDir, 'transfer', part, DEMO_TRANSFER_DATASET), { recursive: true });
  }
}

/** The demo's hidden transfer dataset (fixtures/w2s-demo/transfer, built by make_dataset.py). */
export const DEMO_TRANSFER_DATASET = 'w2s-mnist';

/** fleet.json `tasks` that make every result of the demo dataset replicate on its hidden transfer task. */
export function demoTransferTask(dataset = DEMO_DATASET, opts: { seeds?: number } = {}): Record<string, unknown> {
  return { w2s: { transfer: { datasets: { [dataset]: DEMO_TRANSFER_DATASET }, ...(opts.seeds ? { seeds: opts.seeds } : {}), protocol: { goldLabels: 60 } } } };
}

export interface DemoRunSpec {
  idea: DemoIdea;
  /** Seeds to run. The hub runs each seed as its own job with a seed it chooses (`{seed}` in the command), so
   * only their number matters to a proposal (`seeds: spec.seeds.length`); `hubSeeds: false` runs these values
   * in one job instead (a run outside the hub). */
  seeds: readonly number[];
  hubSeeds?: boolean;
  threshold?: number;
  auxWeight?: number;
  rounds?: number;
  /** Entry script (default train.py). */
  script?: string;
}

/** The command of one experiment: the dataset path is the fleet's public copy, which runs see read-only. */
export function demoCommand(fleetDir: string, spec: DemoRunSpec, dataset = DEMO_DATASET): string {
  const data = path.join(path.resolve(fleetDir), 'datasets', dataset);
  const q = (s: string) => (/^[A-Za-z0-9_./,=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  const parts = ['python3', spec.script ?? 'train.py', '--data', q(data), '--idea', spec.idea, '--seeds', spec.hubSeeds === false ? spec.seeds.join(',') : '{seed}'];
  if (dataset !== path.basename(data)) parts.push('--dataset', q(dataset));
  if (spec.threshold !== undefined) parts.push('--threshold', String(spec.threshold));
  if (spec.auxWeight !== undefined) parts.push('--aux-weight', String(spec.auxWeight));
  if (spec.rounds !== undefined) parts.push('--rounds', String(spec.rounds));
  return parts.join(' ');
}

/** The command of an experiment whose settings are in a committed config file (`train.py --config`); each seed
 * job runs the hub's seed (`{seed}`), not the seeds listed in the file. */
export function demoConfigCommand(fleetDir: string, configFile: string, dataset = DEMO_DATASET): string {
  const data = path.join(path.resolve(fleetDir), 'datasets', dataset);
  const q = (s: string) => (/^[A-Za-z0-9_./,=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  return ['python3', 'train.py', '--data', q(data), ...(dataset !== path.basename(data) ? ['--dataset', q(dataset)] : []), '--config', q(configFile), '--seeds', '{seed}'].join(' ');
}
