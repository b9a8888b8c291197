import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildArgv, shQuote } from '../../../src/runners/exec';
import { buildBatchScript, buildSbatchArgs } from '../../../src/runners/slurm';
import { buildJobEnv } from '../../../src/runners/env';
import type { JobSpec } from '../../../src/runners/types';

const job: JobSpec = {
  experimentId: 'exp-7',
  runDir: '/fleet/runs/exp-7',
  workdir: "/fleet/runs/exp-7/wt dir's",
  command: `python train.py --lr 0.1 && echo "done; $(whoami)" > out.txt`,
  env: { PATH: '/usr/bin:/bin', HOME: '/fleet/runs/exp-7/wt', OVERSEER_TOKEN: "tok,with'quote", CUDA_VISIBLE_DEVICES: '3' },
  gpus: 2,
  timeLimitSeconds: 90,
  logPath: '/fleet/runs/exp-7/job.log',
};

describe('runners/exec argv building', () => {
  it('runs locally without a shell: the argv is passed through untouched', () => {
    const a = buildArgv({}, 'sbatch', ['--parsable', 'a b', '$(x)']);
    assert.deepEqual(a, { file: 'sbatch', args: ['--parsable', 'a b', '$(x)'] });
  });

  it('goes through `ssh host --` with every remote word quoted for the remote shell', () => {
    const a = buildArgv({ sshHost: 'alice@login1', env: { SLURM_CONF: '/etc/slurm x.conf' } }, 'scancel', ['12', "it's; rm -rf /"]);
    assert.equal(a.file, 'ssh');
    const dd = a.args.indexOf('--');
    assert.ok(dd > 0 && a.args[dd - 1] === 'alice@login1', 'host comes right before --');
    assert.ok(a.args.includes('BatchMode=yes'));
    assert.equal(a.args.length, dd + 2, 'one remote command string');
    const remote = a.args[dd + 1]!;
    // the remote shell must see exactly the words we meant: check with a real POSIX shell
    const words = execFileSync('/bin/sh', ['-c', `for w in ${remote}; do printf '%s\\n' "$w"; done`], { encoding: 'utf8' }).split('\n').slice(0, -1);
    assert.deepEqual(words, ['env', 'SLURM_CONF=/etc/slurm x.conf', 'scancel', '12', "it's; rm -rf /"]);
  });

  it('refuses an ssh host that looks like an option', () => {
    assert.throws(() => buildArgv({ sshHost: '-oProxyCommand=x' }, 'squeue', []), /invalid ssh host/);
  });

  it('shQuote round-trips awkward strings through sh', () => {
    for (const s of ['', 'plain', "a'b", 'a b', '$HOME', '`x`', 'x\ny', '"q"']) {
      const out = execFileSync('/bin/sh', ['-c', `printf '%s' ${shQuote(s)}`], { encoding: 'utf8' });
      assert.equal(out, s);
    }
  });
});

describe('runners/slurm sbatch argv and batch script', () => {
  it('builds sbatch options from the config and the job', () => {
    const args = buildSbatchArgs({ partition: 'gpu', account: 'lab', gresName: 'gpu' }, job, '/fleet/runs/exp-7/job.sbatch');
    assert.deepEqual(args, [
      '--parsable',
      '--job-name=ovs-exp-7',
      '--output=/fleet/runs/exp-7/job.log',
      '--open-mode=append',
      "--chdir=/fleet/runs/exp-7/wt dir's",
      '--export=NONE',
      '--time=2',
      '--gres=gpu:2',
      '--partition=gpu',
      '--account=lab',
      '/fleet/runs/exp-7/job.sbatch',
    ]);
    const noGpu = buildSbatchArgs({ gresName: 'gpu' }, { ...job, gpus: 0 }, '/s');
    assert.ok(!noGpu.some((a) => a.startsWith('--gres')));
    assert.ok(!noGpu.some((a) => a.startsWith('--partition')));
  });

  it('the batch script runs the approved command verbatim under exactly the explicit environment', () => {
    assert.ok(buildBatchScript(job).includes(shQuote(job.command)), 'the approved text appears verbatim, quoted once');
    // Run it under a polluted environment, as slurmd would (it adds CUDA_VISIBLE_DEVICES and SLURM_JOB_ID).
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ovs-batch-'));
    const wt = path.join(dir, "wt dir's");
    fs.mkdirSync(wt);
    const s = buildBatchScript({ ...job, workdir: wt, command: `env | sort; printf '%s\\n' "$PWD"` });
    fs.writeFileSync(path.join(dir, 'job.sbatch'), s);
    const out = execFileSync('/bin/bash', [path.join(dir, 'job.sbatch')], {
      encoding: 'utf8',
      env: { SECRET_TOKEN: 'leak', CUDA_VISIBLE_DEVICES: '1', SLURM_JOB_ID: '99', PATH: process.env.PATH },
    });
    const lines = out.trim().split('\n');
    assert.equal(lines.pop(), wt);
    const keys = lines.map((l) => l.split('=')[0]).filter((k) => k !== '_' && k !== 'PWD' && k !== 'SHLVL');
    assert.deepEqual(keys.sort(), ['CUDA_VISIBLE_DEVICES', 'HOME', 'OVERSEER_TOKEN', 'PATH', 'SLURM_JOB_ID']);
    assert.ok(lines.includes("OVERSEER_TOKEN=tok,with'quote"));
    assert.ok(lines.includes('CUDA_VISIBLE_DEVICES=1'), 'Slurm-assigned devices pass through');
    assert.ok(!out.includes('leak'));
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('runners/env', () => {
  it('contains only the documented variables', () => {
    const env = buildJobEnv({ workdir: '/w', experimentId: 'exp-1', evalUrl: 'http://127.0.0.1:1', token: 't', gpuIds: [0, 2], path: '/bin', lang: 'C' });
    assert.deepEqual(env, {
      PATH: '/bin',
      HOME: '/w',
      LANG: 'C',
      OVERSEER_EXPERIMENT_ID: 'exp-1',
      OVERSEER_EVAL_URL: 'http://127.0.0.1:1',
      OVERSEER_TOKEN: 't',
      CUDA_VISIBLE_DEVICES: '0,2',
    });
    const bare = buildJobEnv({ workdir: '/w', experimentId: 'exp-1' });
    assert.deepEqual(Object.keys(bare).sort(), ['HOME', 'LANG', 'OVERSEER_EXPERIMENT_ID', 'PATH']);
  });
});
