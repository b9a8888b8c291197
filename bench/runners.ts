// Approval → job-running latency on the local runner (and Slurm when OVERSEER_SLURM=1), against a baseline of a
// bare child_process.spawn of the same command measured in the same run. "Running" = the job's own first
// instruction executed (it records a wall-clock timestamp); we also report approval → `experiment.running` in
// the ledger. Sandbox overhead, in the same run: confined (bubblewrap, the default) against `"sandbox": "none"`,
// for approve → job started and for a CPU-bound job of about 10 s (BENCH_CPU_SECONDS), runs interleaved. Seed jobs,
// in the same run: N seed jobs (BENCH_SEEDS, default 3) against one job running the same N seeds, approve →
// experiment finished (BENCH_SEEDS_N repetitions; 0 skips it).
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { FleetRunnersConfig } from '../src/runners/config';
import { parseRunnersConfig } from '../src/runners/config';
import { startDispatcher } from '../src/runners/dispatcher';
import { benchReplication } from './replication';
import { HUMAN, makeFleet, proposeAndApprove, stateOf, tmpDir, waitFor } from '../test/integration/runners/helpers';
import { SLURM_ENABLED, useCiSlurmConf } from '../test/integration/runners/slurmEnv';

const CMD = 'date +%s%3N > "$OVERSEER_OUTPUT_DIR/started.txt"';
/** A CPU-bound Python loop of `n` iterations; writes its own loop time (ms) to the outputs directory. */
// the same interpreter in both (PATH may differ: confined runs see only /usr)
const PY = '/usr/bin/python3';
const cpuCmd = (n: number) => `${PY} -c "import time,os
t=time.perf_counter(); c=time.process_time(); x=0
for i in range(${n}): x=(x*31+i)%1000003
open(os.environ['OVERSEER_OUTPUT_DIR']+'/cpu.txt','w').write('%f %f' % ((time.perf_counter()-t)*1000, (time.process_time()-c)*1000))"`;

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
    const child = spawn('bash', ['-c', CMD], { cwd: dir, stdio: 'ignore', env: { ...process.env, OVERSEER_OUTPUT_DIR: dir } });
    await new Promise((r) => child.once('exit', r));
    out.push(Number(fs.readFileSync(file, 'utf8')) - t0);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  return out;
}

async function viaDispatcher(config: FleetRunnersConfig, n: number, cmd = CMD): Promise<{ started: number[]; ledgerRunning: number[]; cpuMs: number[]; procMs: number[]; jobMs: number[]; supervisorMs: number[] }> {
  const f = await makeFleet(tmpDir('ovs-bench-disp-'), ['bench']);
  const d = startDispatcher(f.service, config, { pollMs: 100, onWarning: () => undefined });
  const started: number[] = [];
  const ledgerRunning: number[] = [];
  const cpuMs: number[] = [];
  const procMs: number[] = [];
  const jobMs: number[] = [];
  const supervisorMs: number[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const x = await proposeAndApprove(f, 'bench', cmd, { timeLimitMinutes: 10 }, {}, false);
      let runningAt = 0;
      const off = f.service.onEvent((e) => {
        if (e.type === 'experiment.running' && e.data.experimentId === x.id) runningAt = Date.now();
      });
      const t0 = Date.now();
      await f.service.approve(HUMAN, x.id, { commit: x.commit, tree: x.tree });
      const out = path.join(f.dir, 'runs', x.id, 'out');
      await waitFor('job finished', () => ['succeeded', 'failed'].includes(stateOf(f, x.id)), 300_000, 5);
      off();
      if (stateOf(f, x.id) !== 'succeeded') throw new Error(`${x.id} ${stateOf(f, x.id)}: ${fs.readFileSync(path.join(f.dir, 'runs', x.id, 'job.log'), 'utf8').slice(-500)}`);
      if (fs.existsSync(path.join(out, 'started.txt'))) started.push(Number(fs.readFileSync(path.join(out, 'started.txt'), 'utf8')) - t0);
      if (fs.existsSync(path.join(out, 'cpu.txt'))) {
        const [wall, proc] = fs.readFileSync(path.join(out, 'cpu.txt'), 'utf8').trim().split(' ').map(Number);
        cpuMs.push(Math.round(wall!));
        procMs.push(Math.round(proc!));
      }
      const sbx = path.join(f.dir, 'runs', x.id, 'sandbox.jsonl');
      for (const l of fs.existsSync(sbx) ? fs.readFileSync(sbx, 'utf8').split('\n') : []) {
        if (l.includes('"supervisorCpu"')) supervisorMs.push(Math.round((JSON.parse(l) as { supervisorCpu: number }).supervisorCpu * 1000));
      }
      const job = (f.service.state.experiment(x.id)!.run!.artifacts as { job?: { startedAt?: string; endedAt?: string } }).job;
      if (job?.startedAt && job.endedAt) jobMs.push(Date.parse(job.endedAt) - Date.parse(job.startedAt));
      if (runningAt) ledgerRunning.push(runningAt - t0);
    }
  } finally {
    await d.stop();
    await f.service.close();
  }
  return { started, ledgerRunning, cpuMs, procMs, jobMs, supervisorMs };
}

/** `reps` seeds of a CPU loop of `n` iterations in one Python process (one job running N seeds, or one seed). */
const seedLoopCmd = (n: number, reps: number) => `${PY} -c "import os
for s in range(${reps}):
  x=0
  for i in range(${n}): x=(x*31+i)%1000003
open(os.environ['OVERSEER_OUTPUT_DIR']+'/done.txt','w').write(os.environ.get('OVERSEER_SEED','-'))"`;

/** Approve → experiment finished, for one experiment of `seeds` seed jobs running `cmd` each. */
async function seedExperiment(config: FleetRunnersConfig, seeds: number, cmd: string): Promise<{ ms: number; jobs: number }> {
  const f = await makeFleet(tmpDir('ovs-bench-seeds-'), ['bench']);
  const d = startDispatcher(f.service, config, { pollMs: 50, onWarning: () => undefined });
  try {
    const x = await proposeAndApprove(f, 'bench', cmd, { timeLimitMinutes: 10 }, {}, false, seeds);
    const t0 = Date.now();
    await f.service.approve(HUMAN, x.id, { commit: x.commit, tree: x.tree });
    await waitFor('experiment finished', () => ['succeeded', 'failed'].includes(stateOf(f, x.id)), 600_000, 5);
    const e = f.service.state.experiment(x.id)!;
    if (e.state !== 'succeeded') throw new Error(`${x.id} ${e.state}: ${e.run?.reason}`);
    return { ms: Date.parse(e.run!.endedAt!) - t0, jobs: e.run!.jobs!.length };
  } finally {
    await d.stop();
    await f.service.close();
  }
}

/** N seed jobs against one job running the same N seeds, interleaved in the same run. */
async function benchSeedJobs(): Promise<void> {
  const seeds = Number(process.env.BENCH_SEEDS ?? 3);
  const reps = Number(process.env.BENCH_SEEDS_N ?? 3);
  const iters = calibrate(Number(process.env.BENCH_SEED_SECONDS ?? 1));
  const sequential = parseRunnersConfig({ runners: [{ name: 'box', type: 'local', maxConcurrent: 1 }] });
  const parallel = parseRunnersConfig({ runners: [{ name: 'box', type: 'local', maxConcurrent: seeds }], dispatch: { perAgentConcurrency: seeds } });
  const one: number[] = [];
  const seq: number[] = [];
  const par: number[] = [];
  for (let i = 0; i < reps; i++) {
    one.push((await seedExperiment(sequential, 1, seedLoopCmd(iters, seeds))).ms);
    seq.push((await seedExperiment(sequential, seeds, seedLoopCmd(iters, 1))).ms);
    par.push((await seedExperiment(parallel, seeds, seedLoopCmd(iters, 1))).ms);
  }
  const b = median(one);
  console.log(`runners: ${seeds} seed jobs against one job running ${seeds} seeds (~${process.env.BENCH_SEED_SECONDS ?? 1} s of CPU per seed), approve -> experiment finished, interleaved, n=${reps} each`);
  console.log(line(`one confined job running ${seeds} seeds`, one, b));
  console.log(line(`${seeds} confined seed jobs, one slot (sequential)`, seq, b));
  console.log(line(`${seeds} confined seed jobs, ${seeds} slots (${os.cpus().length} CPUs)`, par, b));
  console.log(`seed-job overhead: +${(median(seq) - b).toFixed(0)} ms for ${seeds} sequential jobs (+${((median(seq) - b) / Math.max(1, seeds - 1)).toFixed(0)} ms per extra job, ${pct(median(seq), b)}); parallel slots ${pct(median(par), b)}`);
}

/** Iterations of the CPU loop that take about `seconds` here (Python measured unconfined, outside any runner). */
function calibrate(seconds: number): number {
  const probe = 2_000_000;
  const r = execFileSync(PY, ['-c', `import time\nt=time.perf_counter(); x=0\nfor i in range(${probe}): x=(x*31+i)%1000003\nprint(time.perf_counter()-t)`], { encoding: 'utf8' });
  return Math.max(probe, Math.round((probe * seconds) / Math.max(0.01, Number(r.trim()))));
}

const pct = (a: number, b: number) => `${(((a - b) / Math.max(b, 1e-9)) * 100).toFixed(1)} %`;

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
  const confined = parseRunnersConfig({ runners: [{ name: 'box', type: 'local' }] });
  const open = parseRunnersConfig({ runners: [{ name: 'box', type: 'local', sandbox: 'none' }] });
  const localOpen = await viaDispatcher(open, n);
  const local = await viaDispatcher(confined, n);
  console.log(line('local runner, unconfined: approve -> job started', localOpen.started, b));
  console.log(line('local runner, confined: approve -> job started', local.started, b));
  console.log(line('local runner, confined: approve -> ledger running', local.ledgerRunning, b));
  console.log(`sandbox overhead, approve -> job started: +${(median(local.started) - median(localOpen.started)).toFixed(0)} ms (median confined ${median(local.started).toFixed(0)} vs unconfined ${median(localOpen.started).toFixed(0)}; target <= +100 ms)`);
  const secs = Number(process.env.BENCH_CPU_SECONDS ?? 10);
  const reps = Number(process.env.BENCH_CPU_N ?? 3);
  if (secs > 0 && reps > 0) {
    const iters = calibrate(secs);
    const cpuOpen: number[] = [];
    const cpuBox: number[] = [];
    const procOpen: number[] = [];
    const procBox: number[] = [];
    const jobOpen: number[] = [];
    const jobBox: number[] = [];
    const sup: number[] = [];
    for (let i = 0; i < reps; i++) {
      const o = await viaDispatcher(open, 1, cpuCmd(iters));
      const c = await viaDispatcher(confined, 1, cpuCmd(iters));
      cpuOpen.push(...o.cpuMs);
      cpuBox.push(...c.cpuMs);
      procOpen.push(...o.procMs);
      procBox.push(...c.procMs);
      jobOpen.push(...o.jobMs);
      jobBox.push(...c.jobMs);
      sup.push(...c.supervisorMs);
    }
    console.log(`runners: CPU-bound job (${iters} iterations, ~${secs} s), interleaved, n=${reps} each`);
    console.log(line('unconfined: loop time', cpuOpen, median(cpuOpen)));
    console.log(line('confined: loop time', cpuBox, median(cpuOpen)));
    console.log(line('unconfined: job wall time (runner)', jobOpen, median(jobOpen)));
    console.log(line('confined: job wall time (runner)', jobBox, median(jobOpen)));
    console.log(line('unconfined: loop CPU time', procOpen, median(procOpen)));
    console.log(line('confined: loop CPU time', procBox, median(procOpen)));
    console.log(line('confined: the supervisor\'s own CPU time', sup, median(jobBox)));
    console.log(`sandbox overhead, CPU-bound job: loop wall ${pct(median(cpuBox), median(cpuOpen))}, job wall ${pct(median(jobBox), median(jobOpen))}, loop CPU ${pct(median(procBox), median(procOpen))}; supervisor CPU ${((median(sup) / Math.max(1, median(jobBox))) * 100).toFixed(2)} % of the job's wall time (target <= 3 %; wall numbers are noisy when the machine is shared)`);
  }
  if (Number(process.env.BENCH_SEEDS_N ?? 3) > 0) await benchSeedJobs();
  if (SLURM_ENABLED) {
    useCiSlurmConf();
    const sn = Math.max(2, Math.min(n, Number(process.env.BENCH_SLURM_N ?? 4)));
    const slurm = await viaDispatcher(parseRunnersConfig({ runners: [{ name: 'cluster', type: 'slurm', pollMs: 250 }] }), sn);
    console.log(line('slurm runner: approve -> job started', slurm.started, b));
    console.log(line('slurm runner: approve -> ledger running', slurm.ledgerRunning, b));
  } else {
    console.log('slurm runner: skipped (set OVERSEER_SLURM=1 with a cluster from scripts/slurm.sh)');
  }
  // replication on the hidden task (its own area when every area runs, or when named too)
  const areas = process.argv.slice(2);
  if (process.env.BENCH_REPLICATION !== '0' && areas.includes('runners') && !areas.includes('replication')) await benchReplication();
}

if (require.main === module) {
  benchRunners().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
