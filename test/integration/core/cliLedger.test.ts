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

  it('fails clearly on a missing ledger and on bad usage', () => {
    const r = verify(path.join(t.dir, 'nope'));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /no ledger/);
    const u = spawnSync(process.execPath, [CLI, 'ledger'], { encoding: 'utf8' });
    assert.equal(u.status, 1);
    assert.match(u.stderr, /usage/);
  });
});
