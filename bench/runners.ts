// Approval → job-running latency on the local runner (and Slurm when OVERSEER_SLURM=1), against a baseline of a
// bare child_process.spawn of the same command measured in the same run. "Running" = the job's own first
// instruction executed (it records a wall-clock timestamp); we also report approval → `experiment.running` in
// the ledger.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FleetRunnersConfig } from '../src/runners/config';
import { parseRunnersConfig } from '../src/runners/config';
import { startDispatcher } from '../src/runners/dispatcher';
import { HUMAN, makeFleet, proposeAndApprove, stateOf, tmpDir, waitFor } from '../test/integration/runners/helpers';
import { SLURM_ENABLED, useCiSlurmConf } from '../test/integration/runners/slurmEnv';

const CMD = 'date +%s%3N > started.txt';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function baseline(n: number): Promise<number[]> {
  const dir = tmpDir('ovs-bench-spawn-');
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const file = path.join(dir, 'started.txt');
    fs.rmSync(file, { force: true });
    const t0 = Date.now();
    const child = spawn('bash', ['-c', CMD], { cwd: dir, stdio: 'ignore' });
    await new Promise((r) => child.once('exit', r));
    out.push(Number(fs.readFileSync(file, 'utf8')) - t0);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  return out;
}

async function viaDispatcher(config: FleetRunnersConfig, n: number): Promise<{ started: number[]; ledgerRunning: number[] }> {
  const f = await makeFleet(tmpDir('ovs-bench-disp-'), ['bench']);
  const d = startDispatcher(f.service, config, { pollMs: 100 });
  const started: number[] = [];
  const ledgerRunning: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const x = await proposeAndApprove(f, 'bench', CMD, {}, {}, false);
      let runningAt = 0;
      const off = f.service.onEvent((e) => {
        if (e.type === 'experiment.running' && e.data.experimentId === x.id) runningAt = Date.now();
      });
      const t0 = Date.now();
      await f.service.approve(HUMAN, x.id, { commit: x.commit, tree: x.tree });
      const file = path.join(f.dir, 'runs', x.id, 'wt', 'started.txt');
      await waitFor('job finished', () => ['succeeded', 'failed'].includes(stateOf(f, x.id)), 120_000, 5);
      off();
      if (stateOf(f, x.id) !== 'succeeded') throw new Error(`${x.id} ${stateOf(f, x.id)}`);
      started.push(Number(fs.readFileSync(file, 'utf8')) - t0);
      if (runningAt) ledgerRunning.push(runningAt - t0);
    }
  } finally {
    await d.stop();
    await f.service.close();
  }
  return { started, ledgerRunning };
}

function line(label: string, xs: number[], base: number): string {
  const m = median(xs);
  return `${label.padEnd(44)} median ${m.toFixed(0).padStart(5)} ms  (min ${Math.min(...xs)}, max ${Math.max(...xs)}, n=${xs.length})  ${(m / Math.max(base, 1)).toFixed(1)}x baseline`;
}

export async function benchRunners(): Promise<void> {
  const n = Number(process.env.BENCH_RUNNERS_N ?? 10);
  const base = await baseline(n);
  const b = median(base);
  console.log('runners: approval -> job running latency');
  console.log(line('baseline: bare child_process.spawn', base, b));
  const local = await viaDispatcher(parseRunnersConfig({ runners: [{ name: 'box', type: 'local' }] }), n);
  console.log(line('local runner: approve -> job started', local.started, b));
  console.log(line('local runner: approve -> ledger running', local.ledgerRunning, b));
  if (SLURM_ENABLED) {
    useCiSlurmConf();
    const sn = Math.max(2, Math.min(n, Number(process.env.BENCH_SLURM_N ?? 4)));
    const slurm = await viaDispatcher(parseRunnersConfig({ runners: [{ name: 'cluster', type: 'slurm', pollMs: 250 }] }), sn);
    console.log(line('slurm runner: approve -> job started', slurm.started, b));
    console.log(line('slurm runner: approve -> ledger running', slurm.ledgerRunning, b));
  } else {
    console.log('slurm runner: skipped (set OVERSEER_SLURM=1 with a cluster from scripts/slurm.sh)');
  }
}

if (require.main === module) {
  benchRunners().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
