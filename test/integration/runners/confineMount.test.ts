// A confined run mounted at another job's run directory (confine.ts mountRunDirAt, binds, secretViews), with real
// bubblewrap on the local runner: the run sees the mounted paths and the bound view, its results arrive in the
// real run directory.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findBwrap } from '../../../src/runners/confine';
import { LocalRunner } from '../../../src/runners/local';
import { TERMINAL_RUN, tmpDir, waitFor } from './helpers';

describe('runners: a confined run mounted at another run directory', function () {
  this.timeout(60_000);
  before(function () {
    if (!findBwrap()) this.skip();
  });

  it('runs at the mounted path, sees the bind dest with the src files and the view decoys, and its results reach the real <runDir>/out', async () => {
    const fleet = tmpDir('ovs-mount-run-');
    const f = (p: string) => path.join(fleet, p);
    fs.mkdirSync(f('datasets/syn'), { recursive: true });
    fs.writeFileSync(f('datasets/syn/visible-only.txt'), 'visible\n');
    fs.mkdirSync(f('labels/syn'), { recursive: true });
    fs.writeFileSync(f('labels/syn/test.labels.jsonl'), '{"id":"item-0","label":1}\n');
    fs.mkdirSync(f('runs'), { recursive: true });
    const runDir = f('replication/x1');
    const workdir = path.join(runDir, 'wt');
    fs.mkdirSync(workdir, { recursive: true });
    fs.writeFileSync(path.join(workdir, 'train.sh'), 'echo from-the-worktree\n');
    fs.mkdirSync(path.join(runDir, 'view/syn/test'), { recursive: true });
    fs.writeFileSync(path.join(runDir, 'view/syn/hidden-view.txt'), 'view\n');
    fs.writeFileSync(path.join(runDir, 'view/syn/test/items.jsonl'), '{"id":"hid-0"}\n');
    fs.mkdirSync(path.join(runDir, 'labelsview/syn'), { recursive: true });
    fs.writeFileSync(path.join(runDir, 'labelsview/syn/test.labels.jsonl'), '{"id":"hid-0","label":0}\n{"id":"hid-1","label":1}\n');
    const mounted = f('runs/x1');
    const logPath = path.join(runDir, 'job.log');
    const command = [
      'echo "pwd=$(pwd)"',
      'echo "out=$OVERSEER_OUTPUT_DIR"',
      `echo "ls=$(ls ${f('datasets/syn')} | tr '\\n' ' ')"`,
      `echo "labels=$(cat ${f('labels/syn/test.labels.jsonl')} | tr '\\n' ' ')"`,
      `[ -e ${runDir} ] && echo real-visible || echo real-hidden`,
      'bash train.sh',
      'echo \'{"accuracy": 0.5}\' > "$OVERSEER_OUTPUT_DIR/results.json"',
    ].join('; ');
    const r = new LocalRunner({ name: 'box', type: 'local', maxConcurrent: 1, gpus: 0 });
    const ref = await r.submit({
      experimentId: 'x1',
      runDir,
      workdir,
      command,
      env: { PATH: '/usr/bin:/bin' },
      gpus: 0,
      timeLimitSeconds: 30,
      logPath,
      sandbox: {
        taskMode: 'normal',
        readOnlyPaths: [f('datasets')],
        denyPaths: [f('runs'), f('replication'), f('repos')],
        secretPaths: [],
        secretViews: [{ src: path.join(runDir, 'labelsview'), at: f('labels') }],
        binds: [{ src: path.join(runDir, 'view/syn'), dest: f('datasets/syn') }],
        mountRunDirAt: mounted,
      },
    });
    const st = await waitFor('end', async () => {
      const s = await r.status(ref);
      return TERMINAL_RUN.includes(s.phase) && s;
    }, 30_000);
    const log = fs.readFileSync(logPath, 'utf8');
    assert.equal(st.phase, 'succeeded', log);
    assert.match(log, new RegExp(`^pwd=${path.join(mounted, 'wt')}$`, 'm'), log);
    assert.match(log, new RegExp(`^out=${path.join(mounted, 'out')}$`, 'm'), log);
    assert.match(log, /^ls=hidden-view.txt test $/m, 'the bind dest shows the view, not the visible dataset');
    assert.match(log, /^labels=\{"id": ?"hid-0", ?"label": ?[01]\} \{"id": ?"hid-1", ?"label": ?[01]\} $/m, 'decoys with the view ids');
    assert.match(log, /^real-hidden$/m);
    assert.match(log, /^from-the-worktree$/m);
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(runDir, 'out', 'results.json'), 'utf8')), { accuracy: 0.5 });
    assert.ok(!fs.existsSync(mounted), 'nothing is made at the mounted path on the host');
    const hits = fs.readFileSync(path.join(runDir, 'decoy.jsonl'), 'utf8');
    assert.ok(hits.includes(f('labels/syn/test.labels.jsonl')), `the decoy read is recorded at the inside path: ${hits}`);
  });
});
