// Dispatcher logic against an in-memory fake runner (real FleetService + real sandbox git, no job processes).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import type { Experiment } from '../../../src/core/model';
import { parseRunnersConfig } from '../../../src/runners/config';
import { seedJobDir, startDispatcher } from '../../../src/runners/dispatcher';
import type { JobRef, JobResult, JobSpec, JobStatus, LogChunk, Runner } from '../../../src/runners/types';
import { HUMAN, eventsOf, makeFleet, proposeAndApprove, stateOf, tmpDir, waitFor, type Fleet } from './helpers';

class FakeRunner implements Runner {
  readonly type = 'local' as const;
  jobs = new Map<string, { spec: JobSpec; st: JobStatus }>();
  submits = 0;
  failNextSubmits = 0;
  submitDelayMs = 0;
  cancels: string[] = [];
  private n = 0;
  constructor(readonly name: string) {}
  async submit(spec: JobSpec): Promise<JobRef> {
    this.submits++;
    if (this.submitDelayMs) await new Promise((r) => setTimeout(r, this.submitDelayMs));
    if (this.failNextSubmits > 0) {
      this.failNextSubmits--;
      throw new Error('runner temporarily unavailable');
    }
    const jobId = `fake-${++this.n}`;
    this.jobs.set(jobId, { spec, st: { phase: 'pending' } });
    return { jobId, runDir: spec.runDir, workdir: spec.workdir, logPath: spec.logPath };
  }
  set(jobId: string, st: JobStatus): void {
    this.jobs.get(jobId)!.st = st;
  }
  running(): string[] {
    return [...this.jobs].filter(([, j]) => j.st.phase === 'running' || j.st.phase === 'pending').map(([id]) => id);
  }
  async status(ref: JobRef): Promise<JobStatus> {
    return this.jobs.get(ref.jobId)?.st ?? { phase: 'unknown', reason: 'no such job' };
  }
  async cancel(ref: JobRef): Promise<JobStatus> {
    this.cancels.push(ref.jobId);
    const j = this.jobs.get(ref.jobId);
    if (!j) return { phase: 'unknown' };
    j.st = { phase: 'cancelled', rawState: 'CANCELLED' };
    return j.st;
  }
  async result(ref: JobRef): Promise<JobResult> {
    return { ...(await this.status(ref)), artifacts: {} };
  }
  async logs(): Promise<LogChunk> {
    return { data: '', offset: 0, nextOffset: 0, size: 0 };
  }
}

describe('runners/dispatcher with a fake runner', function () {
  this.timeout(30_000);
  let f: Fleet;
  afterEach(async () => {
    await f?.service.close();
    fs.rmSync(f.dir, { recursive: true, force: true });
  });

  it('fills runners by slots and GPUs in approval order and refills as jobs finish', async () => {
    f = await makeFleet(tmpDir('ovs-d1-'), ['a', 'b', 'c', 'd']);
    const xs: Experiment[] = [];
    for (const ag of ['a', 'b', 'c', 'd']) xs.push(await proposeAndApprove(f, ag, 'train', { gpus: 2 }));
    const big = new FakeRunner('big');
    const small = new FakeRunner('small');
    const config = parseRunnersConfig({
      runners: [
        { name: 'big', type: 'local', maxConcurrent: 5, gpus: 4 },
        { name: 'small', type: 'local', maxConcurrent: 1, gpus: 2 },
      ],
      dispatch: { perAgentConcurrency: 1, fleetConcurrency: 10 },
    });
    const d = startDispatcher(f.service, config, { runners: [big, small], pollMs: 20 });
    await waitFor('three dispatched', () => xs.filter((x) => stateOf(f, x.id) === 'dispatched').length === 3);
    await d.poke();
    assert.equal(big.submits, 2, 'big runner: 4 GPUs = two 2-GPU jobs');
    assert.equal(small.submits, 1);
    assert.equal(stateOf(f, xs[3]!.id), 'approved', 'the fourth waits for capacity');
    assert.deepEqual(
      xs.slice(0, 3).map((x) => f.service.state.experiment(x.id)!.run!.runner),
      ['big', 'big', 'small'],
    );
    const first = f.service.state.experiment(xs[0]!.id)!.run!.jobId;
    big.set(first, { phase: 'running', startedAt: new Date().toISOString() });
    await waitFor('running', () => stateOf(f, xs[0]!.id) === 'running');
    big.set(first, { phase: 'succeeded', exitCode: 0, startedAt: new Date().toISOString(), endedAt: new Date().toISOString() });
    await waitFor('fourth dispatched after a slot frees', () => stateOf(f, xs[3]!.id) === 'dispatched');
    assert.equal(stateOf(f, xs[0]!.id), 'succeeded');
    assert.equal(f.service.state.experiment(xs[3]!.id)!.run!.runner, 'big');
    await d.stop();
  });

  it('retries a transient submit failure, then gives up and records why', async () => {
    f = await makeFleet(tmpDir('ovs-d2-'), ['a', 'b']);
    const r = new FakeRunner('r');
    r.failNextSubmits = 1;
    const x = await proposeAndApprove(f, 'a', 'train');
    const warnings: string[] = [];
    const config = parseRunnersConfig({ runners: [{ name: 'r', type: 'local', maxConcurrent: 5 }] });
    const d = startDispatcher(f.service, config, { runners: [r], pollMs: 20, maxSubmitAttempts: 2, retryBackoffMs: 50, onWarning: (m) => warnings.push(m) });
    await waitFor('dispatched on the second attempt', () => stateOf(f, x.id) === 'dispatched', 10_000);
    assert.equal(r.submits, 2);
    assert.ok(warnings.some((w) => /will retry/.test(w)));
    r.failNextSubmits = 5;
    const y = await proposeAndApprove(f, 'b', 'train');
    await waitFor('failed after max attempts', () => stateOf(f, y.id) === 'failed', 15_000);
    assert.match(f.service.state.experiment(y.id)!.run!.reason!, /not started: runner temporarily unavailable/);
    assert.equal(eventsOf(f, y.id, 'experiment.dispatched').length, 1);
    await d.stop();
  });

  it('a veto that lands while the job is being submitted cancels the submitted job and records no dispatch', async () => {
    f = await makeFleet(tmpDir('ovs-d3-'), ['a']);
    const r = new FakeRunner('r');
    r.submitDelayMs = 300;
    const x = await proposeAndApprove(f, 'a', 'train');
    const d = startDispatcher(f.service, parseRunnersConfig({ runners: [{ name: 'r', type: 'local' }] }), { runners: [r], pollMs: 20 });
    await waitFor('submit started', () => r.submits === 1);
    await f.service.requestCancel(HUMAN, x.id, 'stop before it starts'); // approved → vetoed
    await waitFor('job cancelled', () => r.cancels.length === 1, 5000);
    await d.poke();
    assert.equal(stateOf(f, x.id), 'vetoed');
    assert.equal(eventsOf(f, x.id, 'experiment.dispatched').length, 0);
    assert.deepEqual(r.running(), []);
    await d.stop();
  });

  it('declares a job lost when the runner stops knowing it, and cancels any remains', async () => {
    f = await makeFleet(tmpDir('ovs-d4-'), ['a']);
    const r = new FakeRunner('r');
    const x = await proposeAndApprove(f, 'a', 'train');
    const d = startDispatcher(f.service, parseRunnersConfig({ runners: [{ name: 'r', type: 'local' }] }), { runners: [r], pollMs: 20, lostAfterMs: 200 });
    await waitFor('dispatched', () => stateOf(f, x.id) === 'dispatched');
    const jobId = f.service.state.experiment(x.id)!.run!.jobId;
    r.jobs.delete(jobId); // e.g. purged by a controller that lost its state
    const t0 = Date.now();
    await waitFor('failed', () => stateOf(f, x.id) === 'failed', 5000);
    assert.ok(Date.now() - t0 >= 150, 'not declared lost before the timeout');
    const lost = eventsOf(f, x.id, 'runner.lost');
    assert.equal(lost.length, 1);
    assert.equal((lost[0]!.data as { jobId: string }).jobId, jobId);
    assert.ok(r.cancels.includes(jobId));
    await d.stop();
  });

  it('never dispatches twice, even with two dispatchers on one service', async () => {
    f = await makeFleet(tmpDir('ovs-d5-'), ['a', 'b', 'c']);
    const r1 = new FakeRunner('r');
    const r2 = new FakeRunner('r');
    const xs: Experiment[] = [];
    for (const ag of ['a', 'b', 'c']) xs.push(await proposeAndApprove(f, ag, 'train'));
    const config = parseRunnersConfig({ runners: [{ name: 'r', type: 'local', maxConcurrent: 10 }], dispatch: { fleetConcurrency: 10 } });
    const d1 = startDispatcher(f.service, config, { runners: [r1], pollMs: 20 });
    const d2 = startDispatcher(f.service, config, { runners: [r2], pollMs: 20 });
    await waitFor('all dispatched', () => xs.every((x) => stateOf(f, x.id) === 'dispatched'));
    await Promise.all([d1.poke(), d2.poke()]);
    assert.equal(r1.submits + r2.submits, 3);
    for (const x of xs) assert.equal(eventsOf(f, x.id, 'experiment.dispatched').length, 1);
    await d1.stop();
    await d2.stop();
  });

  it('does not dispatch an experiment needing more GPUs than any runner has, and says so once', async () => {
    f = await makeFleet(tmpDir('ovs-d6-'), ['a']);
    const r = new FakeRunner('r');
    const x = await proposeAndApprove(f, 'a', 'train', { gpus: 8 });
    const warnings: string[] = [];
    const d = startDispatcher(f.service, parseRunnersConfig({ runners: [{ name: 'r', type: 'local', gpus: 2 }] }), { runners: [r], pollMs: 20, onWarning: (m) => warnings.push(m) });
    await new Promise((res) => setTimeout(res, 150));
    await d.poke();
    assert.equal(stateOf(f, x.id), 'approved');
    assert.equal(r.submits, 0);
    assert.equal(warnings.filter((w) => /needs 8 GPU/.test(w)).length, 1);
    await d.stop();
  });

  it('seed jobs: each seed its own job, run dir, token and seed; the experiment ends with its worst job', async () => {
    f = await makeFleet(tmpDir('ovs-d7-'), ['a']);
    const r = new FakeRunner('r');
    const x = await proposeAndApprove(f, 'a', 'train --seed {seed} --again={seed}', {}, {}, true, 3);
    const tokens: Array<[string, number, number]> = [];
    const config = parseRunnersConfig({ runners: [{ name: 'r', type: 'local', maxConcurrent: 5 }], dispatch: { perAgentConcurrency: 5 } });
    const d = startDispatcher(f.service, config, { runners: [r], pollMs: 20, tokenFor: (y, j) => (tokens.push([y.id, j.index, j.seed]), `tok-${j.index}`) });
    await waitFor('three seed jobs submitted', () => r.jobs.size === 3 && f.service.state.experiment(x.id)!.run?.jobs?.length === 3);
    assert.equal(stateOf(f, x.id), 'dispatched');
    const jobs = f.service.state.experiment(x.id)!.run!.jobs!;
    assert.deepEqual(jobs.map((j) => j.index), [0, 1, 2]);
    assert.equal(new Set(jobs.map((j) => j.seed)).size, 3, 'distinct seeds');
    const specs = [...r.jobs.values()].map((j) => j.spec).sort((p, q) => Number(p.env.OVERSEER_SEED_INDEX) - Number(q.env.OVERSEER_SEED_INDEX));
    assert.deepEqual(specs.map((s) => s.runDir), [0, 1, 2].map((k) => seedJobDir(f.dir, x.id, k)));
    assert.equal(new Set(specs.map((s) => s.workdir)).size, 3, 'each job its own worktree');
    for (const [k, spec] of specs.entries()) {
      const seed = jobs[k]!.seed!;
      assert.equal(spec.env.OVERSEER_SEED, String(seed));
      assert.equal(spec.command, `train --seed ${seed} --again=${seed}`);
      assert.equal(spec.sandbox?.proxy, undefined); // no evalUrl in this test: no proxy
    }
    assert.deepEqual(tokens.map(([id, k, seed]) => [id, k, seed]), jobs.map((j) => [x.id, j.index, j.seed]));
    const ids = jobs.map((j) => j.jobId);
    r.set(ids[0]!, { phase: 'running', startedAt: new Date().toISOString() });
    await waitFor('running', () => stateOf(f, x.id) === 'running');
    r.set(ids[0]!, { phase: 'failed', exitCode: 2, startedAt: new Date().toISOString() });
    r.set(ids[1]!, { phase: 'succeeded', exitCode: 0 });
    await waitFor('two seed jobs ended', () => f.service.state.experiment(x.id)!.run!.jobs!.filter((j) => j.endState).length === 2);
    assert.equal(stateOf(f, x.id), 'running', 'the experiment runs until its last seed job ends');
    r.set(ids[2]!, { phase: 'succeeded', exitCode: 0 });
    await waitFor('finished', () => stateOf(f, x.id) === 'failed');
    const e = f.service.state.experiment(x.id)!;
    assert.equal(e.run!.exitCode, 2);
    assert.match(e.run!.reason!, /1 of 3 seed jobs did not succeed; seed job 0: failed/);
    assert.equal(eventsOf(f, x.id, 'experiment.finished').length, 1);
    assert.equal(eventsOf(f, x.id, 'run.job_finished').length, 3);
    assert.equal(eventsOf(f, x.id, 'run.job_started').length, 1, 'only the job seen running');
    await d.stop();
  });

  it('seed jobs: a cancel cancels every submitted seed job and records the unsubmitted ones as cancelled', async () => {
    f = await makeFleet(tmpDir('ovs-d8-'), ['a']);
    const r = new FakeRunner('r');
    const x = await proposeAndApprove(f, 'a', 'train', {}, {}, true, 4);
    const config = parseRunnersConfig({ runners: [{ name: 'r', type: 'local', maxConcurrent: 2 }], dispatch: { perAgentConcurrency: 5 } });
    const d = startDispatcher(f.service, config, { runners: [r], pollMs: 20 });
    await waitFor('two seed jobs submitted', () => f.service.state.experiment(x.id)!.run?.jobs?.length === 2);
    await d.poke();
    assert.equal(r.submits, 2, 'two slots');
    await f.service.requestCancel(HUMAN, x.id, 'enough');
    await waitFor('cancelled', () => stateOf(f, x.id) === 'cancelled', 5000);
    assert.equal(r.cancels.length, 2);
    assert.deepEqual(r.running(), []);
    const jobs = f.service.state.experiment(x.id)!.run!.jobs!;
    assert.deepEqual(jobs.map((j) => [j.index, j.endState]), [[0, 'cancelled'], [1, 'cancelled'], [2, 'cancelled'], [3, 'cancelled']]);
    assert.match(jobs[3]!.reason!, /cancelled before it started/);
    await d.poke();
    assert.equal(r.submits, 2, 'nothing submitted after the cancel');
    await d.stop();
  });
});
