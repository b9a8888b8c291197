// `overseer ledger verify` through the built CLI (npm test builds dist/ before integration tests).
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LEDGER_FILE, Ledger } from '../../../src/core/ledger';
import { HUMAN, tmpDir } from '../../support/tmp';

const CLI = path.resolve(__dirname, '../../../dist/cli.js');

describe('overseer ledger verify (CLI)', () => {
  let t: ReturnType<typeof tmpDir>;
  before(function () {
    if (!fs.existsSync(CLI)) this.skip();
  });
  beforeEach(() => (t = tmpDir()));
  afterEach(() => t.cleanup());

  const verify = (dir: string) => spawnSync(process.execPath, [CLI, 'ledger', 'verify', dir], { encoding: 'utf8' });

  it('exits 0 on a good ledger and non-zero naming the bad seq after an edit', async () => {
    const l = await Ledger.open(t.dir);
    for (let i = 1; i <= 8; i++) await l.append('budget.set', HUMAN, { agentId: `aar-${i}`, gpuHours: i });
    await l.close();
    const good = verify(t.dir);
    assert.equal(good.status, 0, good.stderr);
    assert.match(good.stdout, /ok: 8 events/);
    const file = path.join(t.dir, LEDGER_FILE);
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('"gpuHours":5', '"gpuHours":50'));
    const bad = verify(t.dir);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stdout, /BAD at seq 5/);
  });

  it('takes the fleet as --fleet like every other command, and as its argument; the two agree', async () => {
    const l = await Ledger.open(t.dir);
    for (let i = 1; i <= 3; i++) await l.append('budget.set', HUMAN, { agentId: `aar-${i}`, gpuHours: i });
    await l.close();
    const flag = spawnSync(process.execPath, [CLI, 'ledger', 'verify', '--fleet', t.dir], { encoding: 'utf8' });
    assert.equal(flag.status, 0, flag.stderr);
    assert.equal(flag.stdout, verify(t.dir).stdout);
    assert.match(flag.stdout, /ok: 3 events/);
    const env = spawnSync(process.execPath, [CLI, 'ledger', 'verify'], { encoding: 'utf8', env: { ...process.env, OVERSEER_FLEET: t.dir } });
    assert.equal(env.status, 0, env.stderr);
    const both = spawnSync(process.execPath, [CLI, 'ledger', 'verify', '--fleet', t.dir, t.dir], { encoding: 'utf8' });
    assert.equal(both.status, 1);
    assert.match(both.stderr, /name one fleet/);
    const missing = spawnSync(process.execPath, [CLI, 'ledger', 'verify', '--fleet', path.join(t.dir, 'nope')], { encoding: 'utf8' });
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /no ledger at/);
  });

  it('fails clearly on a missing ledger and on bad usage', () => {
    const r = verify(path.join(t.dir, 'nope'));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /no ledger/);
    const u = spawnSync(process.execPath, [CLI, 'ledger'], { encoding: 'utf8' });
    assert.equal(u.status, 1);
    assert.match(u.stderr, /usage/);
  });
});
