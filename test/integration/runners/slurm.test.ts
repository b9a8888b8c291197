// Against the REAL single-node Slurm cluster from scripts/slurm.sh (skipped unless OVERSEER_SLURM=1).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseRunnersConfig } from '../../../src/runners/config';
import { SlurmRunner } from '../../../src/runners/slurm';
import { tmpDir } from './helpers';
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
});
