// The must-show scenarios, run against one runner kind: success (with results.json and an explicit env), failure
// with its exit code, time limit, cancel, a GPU job that sees CUDA_VISIBLE_DEVICES, and a branch that moved
// after approval (the approved commit still runs). All jobs run concurrently to keep the wall time low.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Experiment } from '../../../src/core/model';
import type { FleetRunnersConfig } from '../../../src/runners/config';
import { type Dispatcher, startDispatcher } from '../../../src/runners/dispatcher';
import { readLog } from '../../../src/runners/logs';
import { type Fleet, HUMAN, TERMINAL_RUN, eventsOf, logOf, makeFleet, proposeAndApprove, stateOf, tmpDir, waitFor } from './helpers';

export interface ScenarioOptions {
  kind: 'local' | 'slurm';
  config: FleetRunnersConfig;
  /** Seconds per approved minute (1 for local: a 1-minute limit becomes 1 s; 60 for Slurm). */
  secondsPerMinute: number;
  /** How long to wait for everything to finish. */
  finishTimeoutMs: number;
}

// what a confined job sees: no token (the run's API proxy holds it), the proxy's URL, its outputs directory
const ALLOWED_ENV = new Set(['PATH', 'HOME', 'LANG', 'TMPDIR', 'OVERSEER_EXPERIMENT_ID', 'OVERSEER_SEED', 'OVERSEER_SEED_INDEX', 'OVERSEER_NUM_SEEDS', 'OVERSEER_EVAL_URL', 'ORCHESTRATOR_API_URL', 'OVERSEER_OUTPUT_DIR', 'OVERSEER_TASK_MODE', 'PYTHONPATH', 'PYTHONDONTWRITEBYTECODE', 'CUDA_VISIBLE_DEVICES', 'SLURM_JOB_ID', 'PWD', 'SHLVL', '_']);

export function runnerScenarios(o: ScenarioOptions): void {
  let f: Fleet;
  let d: Dispatcher;
  const x: Record<string, Experiment> = {};
  let approvedCommit = '';
  let movedCommit = '';
  const warnings: string[] = [];

  before(async function () {
    this.timeout(o.finishTimeoutMs + 60_000);
    process.env.OVERSEER_TEST_SECRET = 'hunter2-must-not-leak';
    f = await makeFleet(tmpDir(`ovs-${o.kind}-`), ['ok', 'fail', 'slow', 'cancel', 'gpu', 'moved']);
    x.ok = await proposeAndApprove(f, 'ok', `echo "exp=$OVERSEER_EXPERIMENT_ID"; env | sort > "$OVERSEER_OUTPUT_DIR/env.txt"; cat "$OVERSEER_OUTPUT_DIR/env.txt"; printf '{"accuracy": 0.75, "note": "<b>hi</b>"}' > "$OVERSEER_OUTPUT_DIR/results.json"; echo tamper > version.txt || echo "worktree is read-only"`);
    x.fail = await proposeAndApprove(f, 'fail', 'echo failing; exit 3');
    x.slow = await proposeAndApprove(f, 'slow', 'echo started; sleep 600', { timeLimitMinutes: 1 });
    x.cancel = await proposeAndApprove(f, 'cancel', 'echo waiting; sleep 600');
    x.gpu = await proposeAndApprove(f, 'gpu', 'echo "CVD=[$CUDA_VISIBLE_DEVICES]"', { gpus: 1 });
    x.moved = await proposeAndApprove(f, 'moved', 'echo "version=$(cat version.txt)"', {}, { 'version.txt': 'approved-v1\n' });
    approvedCommit = x.moved.commit;
    // after approval the agent moves its branch: the dispatcher must still run the approved commit
    movedCommit = await f.sandboxes.get('moved')!.commitFiles({ 'version.txt': 'moved-v2\n' }, 'sneaky change after approval');
    d = startDispatcher(f.service, o.config, {
      timeLimitSeconds: (e) => e.resources.timeLimitMinutes * o.secondsPerMinute,
      localKillGraceSeconds: 1,
      pollMs: 200,
      evalUrl: 'http://127.0.0.1:9/eval',
      tokenFor: (e) => `job-token-${e.id}`,
      onWarning: (m) => warnings.push(m),
    });
    await waitFor('the cancel job to run', () => stateOf(f, x.cancel!.id) === 'running', 60_000);
    await f.service.requestCancel(HUMAN, x.cancel!.id, 'changed my mind');
    await waitFor('all jobs to finish', () => Object.values(x).every((e) => TERMINAL_RUN.includes(stateOf(f, e.id))), o.finishTimeoutMs, 200);
  });

  after(async () => {
    await d?.stop();
    await f?.service.close();
    delete process.env.OVERSEER_TEST_SECRET;
  });

  it('a job that succeeds: state, exit code, artifacts from results.json, log, explicit environment', () => {
    const e = f.service.state.experiment(x.ok!.id)!;
    assert.equal(e.state, 'succeeded', `warnings: ${warnings.join(' | ')} log: ${logOf(f, e.id)}`);
    assert.equal(e.run!.exitCode, 0);
    assert.equal(e.run!.commit, x.ok!.commit);
    assert.deepEqual((e.run!.artifacts as { results: unknown }).results, { accuracy: 0.75, note: '<b>hi</b>' });
    const log = readLog(f.dir, e.id, 0).data;
    assert.match(log, new RegExp(`exp=${e.id}\\b`));
    assert.ok(!log.includes('hunter2'), 'hub environment leaked into the job');
    const envFile = fs.readFileSync(path.join(f.dir, 'runs', e.id, 'out', 'env.txt'), 'utf8');
    const keys = envFile.split('\n').filter(Boolean).map((l) => l.split('=')[0]!);
    for (const k of keys) assert.ok(ALLOWED_ENV.has(k), `unexpected variable ${k} in the job environment`);
    assert.ok(envFile.includes('HOME=/tmp/home\n'), 'HOME is private to the run');
    assert.ok(!envFile.includes('job-token-'), 'the job token is not in the job environment (the proxy holds it)');
    assert.ok(envFile.includes('OVERSEER_EVAL_URL=http://127.0.0.1:7480\n'), 'the eval URL is the in-sandbox forwarder to the run proxy');
    assert.match(log, /worktree is read-only/);
    assert.equal(fs.readFileSync(path.join(f.dir, 'runs', e.id, 'wt', 'version.txt'), 'utf8'), 'v0\n', 'the approved files are unchanged');
    assert.equal(fs.readFileSync(path.join(f.dir, 'runs', e.id, 'job.token'), 'utf8'), `job-token-${e.id}`, 'the host-side proxy has the token');
    const types = eventsOf(f, e.id).map((ev) => ev.type);
    // one seed job: its own events around the experiment's (seed jobs: runners/crash.test.ts, hub/seedJobs.test.ts)
    assert.deepEqual(types.slice(types.indexOf('experiment.approved')), ['experiment.approved', 'experiment.dispatched', 'run.job_dispatched', 'experiment.running', 'run.job_started', 'run.report', 'run.job_finished', 'experiment.finished']);
    assert.ok(envFile.includes(`OVERSEER_SEED=${e.run!.jobs![0]!.seed}\n`), 'the hub-chosen seed recorded in the ledger');
    assert.equal(e.run!.report!.violations, 0, e.run!.report!.summary);
  });

  it('a job that fails reports its exit code', () => {
    const e = f.service.state.experiment(x.fail!.id)!;
    assert.equal(e.state, 'failed');
    assert.equal(e.run!.exitCode, 3);
    assert.match(logOf(f, e.id), /failing/);
  });

  it('a job that exceeds its time limit is timed_out', () => {
    const e = f.service.state.experiment(x.slow!.id)!;
    assert.equal(e.state, 'timed_out', `reason: ${e.run?.reason}`);
    assert.match(logOf(f, e.id), /started/);
    const job = (e.run!.artifacts as { job: { startedAt: string; endedAt: string } }).job;
    const secs = (Date.parse(job.endedAt) - Date.parse(job.startedAt)) / 1000;
    assert.ok(secs >= o.secondsPerMinute * 0.9, `ran ${secs} s, limit ${o.secondsPerMinute} s`);
  });

  it('a cancelled job ends cancelled, confirmed by the runner state', () => {
    const e = f.service.state.experiment(x.cancel!.id)!;
    assert.equal(e.state, 'cancelled', `reason: ${e.run?.reason}`);
    assert.equal((e.run!.artifacts as { job: { runnerState: string } }).job.runnerState, 'CANCELLED');
    const types = eventsOf(f, e.id).map((ev) => ev.type);
    assert.ok(types.indexOf('experiment.cancel_requested') < types.indexOf('experiment.finished'));
    assert.equal(types.filter((t) => t === 'experiment.finished').length, 1);
  });

  it('a GPU job sees CUDA_VISIBLE_DEVICES', () => {
    const e = f.service.state.experiment(x.gpu!.id)!;
    assert.equal(e.state, 'succeeded');
    assert.match(logOf(f, e.id), /CVD=\[[0-9]\]/);
  });

  it('a branch that moved after approval still runs the approved commit', () => {
    const e = f.service.state.experiment(x.moved!.id)!;
    assert.notEqual(movedCommit, approvedCommit);
    assert.equal(e.state, 'succeeded');
    assert.equal(e.run!.commit, approvedCommit);
    const log = logOf(f, e.id);
    assert.match(log, /version=approved-v1/);
    assert.ok(!log.includes('moved-v2'));
  });

  it('records every finish exactly once and never dispatches twice', () => {
    for (const e of Object.values(x)) {
      assert.equal(eventsOf(f, e.id, 'experiment.dispatched').length, 1, e.id);
      assert.equal(eventsOf(f, e.id, 'experiment.finished').length, 1, e.id);
    }
  });
}
