// Against the REAL single-node Slurm cluster from scripts/slurm.sh (skipped unless OVERSEER_SLURM=1).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseRunnersConfig } from '../../../src/runners/config';
import { startDispatcher } from '../../../src/runners/dispatcher';
import { buildJobEnv } from '../../../src/runners/env';
import { runChecked } from '../../../src/runners/exec';
import { SlurmRunner } from '../../../src/runners/slurm';
import { statusFromSacct, statusFromScontrol } from '../../../src/runners/slurmStates';
import { prepareWorktree } from '../../../src/runners/worktree';
import { eventsOf, logOf, makeFleet, proposeAndApprove, stateOf, tmpDir, waitFor } from './helpers';
import { runnerScenarios } from './scenarios';
import { SLURM_ENABLED, useCiSlurmConf } from './slurmEnv';

(SLURM_ENABLED ? describe : describe.skip)('runners: Slurm runner via the dispatcher (real cluster)', function () {
  this.timeout(240_000);
  before(() => useCiSlurmConf());

  describe('must-show scenarios', () => {
    runnerScenarios({
      kind: 'slurm',
      config: parseRunnersConfig({
        runners: [{ name: 'cluster', type: 'slurm', maxConcurrent: 10, gpus: 2, pollMs: 500 }],
        dispatch: { perAgentConcurrency: 1, fleetConcurrency: 10 },
      }),
      secondsPerMinute: 60,
      finishTimeoutMs: 170_000,
    });
  });

  it('reports an unknown job id as unknown, and scancel of it is not mistaken for success', async () => {
    const r = new SlurmRunner({ name: 'c', type: 'slurm', maxConcurrent: 1, gpus: 0, gresName: 'gpu' });
    const dir = tmpDir('ovs-slurm-unknown-');
    const ref = { jobId: '99999999', runDir: dir, workdir: dir, logPath: path.join(dir, 'job.log') };
    const st = await r.status(ref);
    assert.equal(st.phase, 'unknown');
    const c = await r.cancel(ref, 1000);
    assert.equal(c.phase, 'unknown');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('rejects a job asking for more GPUs than the cluster has, with sbatch\'s error', async () => {
    const r = new SlurmRunner({ name: 'c', type: 'slurm', maxConcurrent: 1, gpus: 0, gresName: 'gpu' });
    const dir = tmpDir('ovs-slurm-big-');
    await assert.rejects(
      r.submit({ experimentId: 'exp-big', runDir: dir, workdir: dir, command: 'true', env: { PATH: '/usr/bin:/bin' }, gpus: 64, timeLimitSeconds: 60, logPath: path.join(dir, 'job.log') }),
      /sbatch.*(not available|Invalid generic resource)/i,
    );
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('adopts a Slurm job submitted just before a crash, found by name and output path in squeue', async () => {
    const f = await makeFleet(tmpDir('ovs-slurm-adopt-'), ['z']);
    const x = await proposeAndApprove(f, 'z', 'echo "start $SLURM_JOB_ID"; sleep 3; echo end');
    const runDir = path.join(f.dir, 'runs', x.id);
    const wt = await prepareWorktree(f.service.state.agent('z')!.repoPath, runDir, x.commit, x.tree);
    // what the dispatcher writes before submitting: the runner and the hub's seed
    fs.writeFileSync(path.join(runDir, 'dispatch.json'), JSON.stringify({ runner: 'cluster', seed: 777 }));
    const r = new SlurmRunner({ name: 'cluster', type: 'slurm', maxConcurrent: 1, gpus: 0, gresName: 'gpu' });
    const ref = await r.submit({ experimentId: x.id, runDir, workdir: wt, command: x.command, env: buildJobEnv({ workdir: wt, experimentId: x.id }), gpus: 0, timeLimitSeconds: 60, logPath: path.join(runDir, 'job.log') });
    fs.rmSync(path.join(runDir, 'job.json')); // crashed before even recording the id locally
    const d = startDispatcher(f.service, parseRunnersConfig({ runners: [{ name: 'cluster', type: 'slurm', pollMs: 300 }] }), { pollMs: 300 });
    await waitFor('finish', () => stateOf(f, x.id) === 'succeeded', 60_000, 100);
    await d.stop();
    assert.equal(f.service.state.experiment(x.id)!.run!.jobId, ref.jobId);
    assert.equal(f.service.state.experiment(x.id)!.run!.jobs![0]!.seed, 777, 'the adopted job keeps the seed of its intent file');
    assert.equal(eventsOf(f, x.id, 'experiment.dispatched').length, 1);
    assert.equal(logOf(f, x.id).match(/^start /gm)?.length, 1);
    await f.service.close();
  });

  it('squeue, scontrol and sacct -c (the fallback after purge) agree on a finished job', async () => {
    const r = new SlurmRunner({ name: 'c', type: 'slurm', maxConcurrent: 1, gpus: 0, gresName: 'gpu' });
    const dir = tmpDir('ovs-slurm-sources-');
    const ref = await r.submit({ experimentId: 'exp-src', runDir: dir, workdir: dir, command: 'exit 5', env: { PATH: '/usr/bin:/bin' }, gpus: 0, timeLimitSeconds: 60, logPath: path.join(dir, 'job.log') });
    const fromQueue = await waitFor('finished', async () => {
      const st = await r.status(ref);
      return st.phase === 'failed' && st;
    }, 60_000, 250);
    const sc = statusFromScontrol(await runChecked({}, 'scontrol', ['show', 'job', '-o', ref.jobId]))!;
    const sa = await waitFor('jobcomp record', async () => statusFromSacct(await runChecked({}, 'sacct', ['-c', '-P', '-n', '-j', ref.jobId, '-o', 'jobid,state,exitcode,start,end']), ref.jobId), 20_000, 250);
    for (const st of [fromQueue, sc, sa]) {
      assert.equal(st.phase, 'failed');
      assert.equal(st.exitCode, 5);
      assert.equal(st.rawState, 'FAILED');
    }
    assert.equal(sa.startedAt, sc.startedAt);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
