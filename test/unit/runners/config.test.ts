import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RunnerConfigError, loadRunnersConfig, parseRunnersConfig } from '../../../src/runners/config';

describe('runners/config', () => {
  it('parses runners and dispatch limits with defaults, ignoring other fleet.json keys', () => {
    const c = parseRunnersConfig({
      name: 'fleet',
      datasets: ['x'],
      runners: [
        { name: 'local', type: 'local', maxConcurrent: 2 },
        { name: 'cluster', type: 'slurm', maxConcurrent: 8, gpus: 16, partition: 'gpu', sshHost: 'me@login', pollMs: 1000 },
      ],
      dispatch: { perAgentConcurrency: 2 },
    });
    assert.equal(c.runners.length, 2);
    assert.deepEqual(c.runners[0], { name: 'local', type: 'local', maxConcurrent: 2, gpus: 0 });
    const s = c.runners[1]!;
    assert.equal(s.type, 'slurm');
    if (s.type === 'slurm') {
      assert.equal(s.gresName, 'gpu');
      assert.equal(s.sshHost, 'me@login');
    }
    assert.deepEqual(c.dispatch, { perAgentConcurrency: 2, fleetConcurrency: 4 });
  });

  it('sandbox, limits and read-only paths: accepted when sane, refused with the field named otherwise', () => {
    const c = parseRunnersConfig({
      runners: [{ name: 'box', type: 'local', sandbox: 'none', limits: { memoryMB: 4096, processes: 64, wallSeconds: 3600, logMB: 50 }, readOnlyPaths: ['/opt/conda'], bwrap: '/usr/local/bin/bwrap' }],
    });
    const r = c.runners[0]!;
    assert.equal(r.sandbox, 'none');
    assert.deepEqual(r.limits, { memoryMB: 4096, processes: 64, wallSeconds: 3600, logMB: 50 });
    assert.equal(parseRunnersConfig({ runners: [{ name: 'b', type: 'local' }] }).runners[0]!.sandbox, undefined, 'absent means confined (bwrap)');
    const bad: [unknown, RegExp][] = [
      [{ sandbox: 'docker' }, /runners\[0\]\.sandbox/],
      [{ limits: { memoryMB: 1 } }, /runners\[0\]\.limits\.memoryMB/],
      [{ limits: { processes: 0 } }, /runners\[0\]\.limits\.processes/],
      [{ limits: { cpus: 2 } }, /runners\[0\]\.limits/],
      [{ readOnlyPaths: ['relative/dir'] }, /read-only paths must be absolute/],
      [{ bwrap: 'bwrap' }, /bwrap must be an absolute path/],
    ];
    for (const [extra, re] of bad) {
      assert.throws(() => parseRunnersConfig({ runners: [{ name: 'b', type: 'local', ...(extra as object) }] }), (e: unknown) => e instanceof RunnerConfigError && re.test(e.message), JSON.stringify(extra));
    }
  });

  it('defaults to one local runner without GPUs', () => {
    const c = parseRunnersConfig({});
    assert.deepEqual(c.runners, [{ name: 'local', type: 'local', maxConcurrent: 1, gpus: 0 }]);
  });

  it('gives clear errors naming the field', () => {
    const bad = (raw: unknown, re: RegExp) => {
      assert.throws(
        () => parseRunnersConfig(raw),
        (e: unknown) => e instanceof RunnerConfigError && re.test(e.message),
      );
    };
    bad({ runners: [{ name: 'x', type: 'kubernetes' }] }, /runners\[0\]\.type/);
    bad({ runners: [{ name: 'x', type: 'local', partition: 'gpu' }] }, /runners\[0\].*partition|Unrecognized key/i);
    bad({ runners: [{ name: 'x', type: 'local', maxConcurrent: 0 }] }, /runners\[0\]\.maxConcurrent/);
    bad({ runners: [{ name: 'x', type: 'slurm', sshHost: '-oProxyCommand=evil' }] }, /sshHost/);
    bad({ runners: [{ name: 'x', type: 'slurm', partition: 'a;b' }] }, /partition/);
    bad({ runners: [{ name: 'a', type: 'local' }, { name: 'a', type: 'local' }] }, /duplicate runner name/);
    bad({ dispatch: { fleetConcurrency: -1 } }, /dispatch\.fleetConcurrency/);
    bad([], /expected a JSON object/);
  });

  it('loads fleet.json from a fleet directory and reports broken JSON', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ovs-cfg-'));
    try {
      assert.equal(loadRunnersConfig(dir).runners[0]!.name, 'local', 'missing file = defaults');
      fs.writeFileSync(path.join(dir, 'fleet.json'), JSON.stringify({ runners: [{ name: 'gpu-box', type: 'local', gpus: 4 }] }));
      assert.equal(loadRunnersConfig(dir).runners[0]!.gpus, 4);
      fs.writeFileSync(path.join(dir, 'fleet.json'), '{"runners": [');
      assert.throws(() => loadRunnersConfig(dir), /not valid JSON/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
