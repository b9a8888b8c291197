// Crash test: the dispatcher runs in a child process, is SIGKILLed while jobs run, and is restarted. Every job
// must be reattached and its finish recorded exactly once; none may be started twice.
import * as assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AnyEvent } from '../../../src/core/events';
import { FleetService } from '../../../src/core/service';
import type { Experiment } from '../../../src/core/model';
import { parseRunnersConfig } from '../../../src/runners/config';
import { seedJobDir, startDispatcher } from '../../../src/runners/dispatcher';
import { buildJobEnv } from '../../../src/runners/env';
import { LocalRunner, procInfo } from '../../../src/runners/local';
import { prepareWorktree } from '../../../src/runners/worktree';
import { type Fleet, TERMINAL_RUN, eventsOf, logOf, makeFleet, proposeAndApprove, stateOf, tmpDir, waitFor } from './helpers';
import { SLURM_ENABLED, useCiSlurmConf } from './slurmEnv';

const CHILD = path.join(__dirname, 'crashChild.ts');

function ledgerEvents(dir: string): AnyEvent[] {
  const out: AnyEvent[] = [];
  for (const l of fs.readFileSync(path.join(dir, 'ledger.jsonl'), 'utf8').split('\n')) {
    try {
      if (l) out.push(JSON.parse(l) as AnyEvent);
    } catch {
      /* torn line being written */
    }
  }
  return out;
}

function stateFromLedger(dir: string, id: string): string | undefined {
  let s: string | undefined;
  for (const e of ledgerEvents(dir)) {
    if ((e.data as { experimentId?: string }).experimentId !== id) continue;
    if (e.type === 'experiment.approved') s = 'approved';
    else if (e.type === 'experiment.dispatched') s = 'dispatched';
    else if (e.type === 'experiment.running') s = 'running';
    else if (e.type === 'experiment.finished') s = e.data.state;
  }
  return s;
}

/** Live (non-zombie) processes whose process group is `pgid`. */
function liveInGroup(pgid: number): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      if (Number(f[2]) === pgid && f[0] !== 'Z' && f[0] !== 'X') out.push(Number(d));
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

function startChild(fleetDir: string, configFile: string): Promise<{ child: ChildProcess; out: string[] }> {
  const child = spawn(process.execPath, ['--import=tsx', CHILD, fleetDir, configFile], { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
  const out: string[] = [];
  child.stdout!.setEncoding('utf8').on('data', (s: string) => out.push(...s.split('\n').filter(Boolean)));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => out.push(...s.split('\n').filter(Boolean).map((l) => `stderr: ${l}`)));
  return waitFor('child ready', () => out.some((l) => l.startsWith('ready')) && { child, out }, 30_000);
}

function killed(child: ChildProcess): Promise<void> {
  return new Promise((r) => {
    if (child.exitCode !== null || child.signalCode !== null) r();
    else child.once('exit', () => r());
  });
}

async function crashScenario(kind: 'local' | 'slurm', runner: Record<string, unknown>, jobSeconds: number, n: number): Promise<void> {
  const f: Fleet = await makeFleet(tmpDir(`ovs-crash-${kind}-`), Array.from({ length: n }, (_, i) => `ag${i}`));
  const xs: Experiment[] = [];
  for (let i = 0; i < n; i++) xs.push(await proposeAndApprove(f, `ag${i}`, `echo "start $OVERSEER_EXPERIMENT_ID $$"; sleep ${jobSeconds}; echo "end $OVERSEER_EXPERIMENT_ID"`));
  await f.service.close(); // the child process owns the fleet from now on
  const configFile = path.join(f.dir, 'runners.json');
  fs.writeFileSync(configFile, JSON.stringify({ runners: [runner], dispatch: { perAgentConcurrency: 1, fleetConcurrency: n } }));

  const first = await startChild(f.dir, configFile);
  try {
    await waitFor('all jobs running', () => xs.every((x) => stateFromLedger(f.dir, x.id) === 'running'), 90_000, 100);
  } catch (err) {
    first.child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n${first.out.join('\n')}`);
  }
  first.child.kill('SIGKILL');
  await killed(first.child);
  for (const x of xs) assert.equal(stateFromLedger(f.dir, x.id), 'running', 'still running while the hub is down');
  // let at least one job finish while no dispatcher is watching
  await new Promise((r) => setTimeout(r, 1000));

  const second = await startChild(f.dir, configFile);
  const readyLine = second.out.find((l) => l.startsWith('ready'))!;
  for (const x of xs) assert.ok(readyLine.includes(x.id), `restarted dispatcher reattached ${x.id}: ${readyLine}`);
  try {
    await waitFor('all jobs finished', () => xs.every((x) => TERMINAL_RUN.includes(stateFromLedger(f.dir, x.id) ?? '')), 120_000, 100);
  } finally {
    second.child.kill('SIGTERM');
    await killed(second.child);
  }

  const service = await FleetService.open(f.dir, { noSync: true });
  try {
    for (const x of xs) {
      const e = service.state.experiment(x.id)!;
      assert.equal(e.state, 'succeeded', `${x.id}: ${e.run?.reason} ${second.out.join('\n')}`);
      assert.equal(eventsOf(service, x.id, 'experiment.dispatched').length, 1, `${x.id} dispatched once`);
      assert.equal(eventsOf(service, x.id, 'experiment.running').length, 1, `${x.id} running recorded once`);
      assert.equal(eventsOf(service, x.id, 'experiment.finished').length, 1, `${x.id} finish recorded once`);
      const log = logOf(f, x.id);
      assert.equal(log.match(/^start /gm)?.length, 1, `${x.id} started exactly once:\n${log}`);
      assert.equal(log.match(/^end /gm)?.length, 1, `${x.id} ran to the end once`);
    }
  } finally {
    await service.close();
  }
}

async function seedCrashScenario(kind: 'local' | 'slurm', runner: Record<string, unknown>): Promise<void> {
  const f: Fleet = await makeFleet(tmpDir(`ovs-crash-seeds-${kind}-`), ['s']);
  // prints its seed from the environment and from the substituted command: they must agree
  const x = await proposeAndApprove(f, 's', 'echo "start $OVERSEER_SEED_INDEX $OVERSEER_SEED {seed} $OVERSEER_NUM_SEEDS"; sleep 3; echo "end $OVERSEER_SEED_INDEX"', {}, {}, true, 3);
  assert.equal(x.seedJobs, 3);
  await f.service.close();
  const configFile = path.join(f.dir, 'runners.json');
  // two slots for three seed jobs: the third is still unsubmitted when the dispatcher dies
  fs.writeFileSync(configFile, JSON.stringify({ runners: [{ ...runner, maxConcurrent: 2, gpus: 0 }], dispatch: { perAgentConcurrency: 2, fleetConcurrency: 2 } }));
  const jobEvents = (type: string) => ledgerEvents(f.dir).filter((e) => e.type === type && (e.data as { experimentId?: string }).experimentId === x.id);
  const first = await startChild(f.dir, configFile);
  try {
    await waitFor('two seed jobs running', () => jobEvents('run.job_started').length === 2, 60_000, 100);
  } catch (err) {
    first.child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\n${first.out.join('\n')}`);
  }
  first.child.kill('SIGKILL');
  await killed(first.child);
  assert.equal(jobEvents('run.job_dispatched').length, 2, 'the third seed job waits for a slot');
  await new Promise((r) => setTimeout(r, 1000));

  const second = await startChild(f.dir, configFile);
  assert.ok(second.out.find((l) => l.startsWith('ready'))!.includes(x.id), 'the experiment was reattached');
  try {
    await waitFor('the experiment finished', () => TERMINAL_RUN.includes(stateFromLedger(f.dir, x.id) ?? ''), 120_000, 100);
  } finally {
    second.child.kill('SIGTERM');
    await killed(second.child);
  }
  const service = await FleetService.open(f.dir, { noSync: true });
  try {
    const e = service.state.experiment(x.id)!;
    assert.equal(e.state, 'succeeded', `${e.run?.reason} ${second.out.join('\n')}`);
    for (const t of ['experiment.dispatched', 'experiment.running', 'experiment.finished']) assert.equal(eventsOf(service, x.id, t).length, 1, `${t} once`);
    const dispatched = eventsOf(service, x.id, 'run.job_dispatched') as Array<{ data: { index: number; seed: number; jobId: string } }>;
    assert.deepEqual(dispatched.map((d) => d.data.index).sort(), [0, 1, 2], 'each seed job recorded once');
    assert.deepEqual(eventsOf(service, x.id, 'run.job_finished').map((d) => (d.data as { index: number }).index).sort(), [0, 1, 2]);
    const seeds = dispatched.map((d) => d.data.seed);
    assert.equal(new Set(seeds).size, 3, `distinct seeds ${seeds}`);
    for (const d of dispatched) {
      const log = fs.readFileSync(path.join(seedJobDir(f.dir, x.id, d.data.index), 'job.log'), 'utf8');
      assert.equal(log.match(/^start /gm)?.length, 1, `seed job ${d.data.index} started exactly once:\n${log}`);
      assert.equal(log.match(/^end /gm)?.length, 1, `seed job ${d.data.index} ran to the end once`);
      assert.match(log, new RegExp(`^start ${d.data.index} ${d.data.seed} ${d.data.seed} 3$`, 'm'), 'OVERSEER_SEED and {seed} are the recorded seed');
    }
    assert.deepEqual(e.run!.jobs!.map((j) => [j.index, j.seed, j.endState]), dispatched.map((d) => [d.data.index, d.data.seed, 'succeeded']).sort((a, b) => (a[0] as number) - (b[0] as number)));
  } finally {
    await service.close();
  }
}

describe('runners: dispatcher crash and reattach', function () {
  this.timeout(200_000);

  it('local jobs survive a SIGKILLed dispatcher and are reattached, each finish recorded once', async () => {
    await crashScenario('local', { name: 'box', type: 'local', maxConcurrent: 4, gpus: 0 }, 3, 3);
  });

  (SLURM_ENABLED ? it : it.skip)('Slurm jobs survive a SIGKILLed dispatcher and are reattached, each finish recorded once', async () => {
    useCiSlurmConf();
    await crashScenario('slurm', { name: 'cluster', type: 'slurm', maxConcurrent: 4, gpus: 0, pollMs: 300 }, 8, 2);
  });

  it('seed jobs: a restart in the middle of an experiment reattaches every recorded seed job, dispatches the rest, and runs none twice', async () => {
    await seedCrashScenario('local', { name: 'box', type: 'local' });
  });

  (SLURM_ENABLED ? it : it.skip)('seed jobs on Slurm: a restart in the middle of an experiment reattaches every recorded seed job and runs none twice', async () => {
    useCiSlurmConf();
    await seedCrashScenario('slurm', { name: 'cluster', type: 'slurm', pollMs: 300 });
  });

  it('adopts a job submitted just before a crash (not yet in the ledger) instead of starting it again', async () => {
    const f = await makeFleet(tmpDir('ovs-adopt-'), ['z']);
    const x = await proposeAndApprove(f, 'z', 'echo "start $$"; sleep 1; echo end');
    // what the dispatcher does up to the crash: worktree, intent file, submit, record the job id in the run dir
    const runDir = path.join(f.dir, 'runs', x.id);
    const wt = await prepareWorktree(f.service.state.agent('z')!.repoPath, runDir, x.commit, x.tree);
    // (the intent file holds the hub's seed before the job exists, so the adopted job keeps it)
    fs.writeFileSync(path.join(runDir, 'dispatch.json'), JSON.stringify({ runner: 'box', seed: 424242 }));
    const r = new LocalRunner({ name: 'box', type: 'local', maxConcurrent: 1, gpus: 0 });
    const ref = await r.submit({ experimentId: x.id, runDir, workdir: wt, command: x.command, env: buildJobEnv({ workdir: wt, experimentId: x.id, seed: 424242 }), gpus: 0, timeLimitSeconds: 60, logPath: path.join(runDir, 'job.log') });
    assert.equal(stateOf(f, x.id), 'approved');
    const d = startDispatcher(f.service, parseRunnersConfig({ runners: [{ name: 'box', type: 'local' }] }), { pollMs: 50 });
    await waitFor('finish', () => stateOf(f, x.id) === 'succeeded', 20_000);
    await d.stop();
    assert.equal(f.service.state.experiment(x.id)!.run!.jobId, ref.jobId, 'the pre-crash job was adopted');
    assert.deepEqual(f.service.state.experiment(x.id)!.run!.jobs!.map((j) => [j.index, j.jobId, j.seed]), [[0, ref.jobId, 424242]], 'with the seed of its intent file');
    assert.equal(logOf(f, x.id).match(/^start /gm)?.length, 1);
    await f.service.close();
  });

  it('a job whose process vanished is declared lost: runner.lost then failed', async () => {
    const f = await makeFleet(tmpDir('ovs-lost-'), ['l']);
    const x = await proposeAndApprove(f, 'l', 'sleep 60');
    const warnings: string[] = [];
    const d = startDispatcher(f.service, parseRunnersConfig({}), { pollMs: 50, lostAfterMs: 300, onWarning: (m) => warnings.push(m) });
    await waitFor('running', () => stateOf(f, x.id) === 'running', 10_000);
    await waitFor('the wrapper set up its watchdog', () => fs.existsSync(path.join(f.dir, 'runs', x.id, 'watchdog.pgid')), 5000);
    const job = JSON.parse(fs.readFileSync(path.join(f.dir, 'runs', x.id, 'job.json'), 'utf8')) as { pid: number };
    const pgid = Number(fs.readFileSync(path.join(f.dir, 'runs', x.id, 'job.pgid'), 'utf8'));
    process.kill(-job.pid, 'SIGKILL'); // the wrapper dies without recording an exit status
    process.kill(-pgid, 'SIGKILL');
    await waitFor('wrapper gone', () => !procInfo(job.pid) || procInfo(job.pid)!.state === 'Z', 5000);
    await waitFor('failed', () => stateOf(f, x.id) === 'failed', 10_000);
    await d.stop();
    const watchdog = Number(fs.readFileSync(path.join(f.dir, 'runs', x.id, 'watchdog.pgid'), 'utf8'));
    // (killed processes may linger as zombies until init reaps them: count only live ones)
    await waitFor('the time-limit watchdog of the lost job is cleaned up', () => liveInGroup(watchdog).length === 0, 5000);
    assert.deepEqual(liveInGroup(pgid), [], 'nothing of the job is left running');
    const lost = eventsOf(f, x.id, 'runner.lost');
    assert.equal(lost.length, 1);
    assert.match(f.service.state.experiment(x.id)!.run!.reason!, /runner lost: .*wrapper/);
    assert.ok(f.service.state.auditTrail().some((a) => a.type === 'runner.lost'));
    await f.service.close();
  });
});
