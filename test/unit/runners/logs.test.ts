import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LogRequestError, readLog, readLogFile } from '../../../src/runners/logs';

describe('runners/logs', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ovs-logs-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads a run log in chunks that concatenate to the whole file, never splitting a character', () => {
    const text = 'héllo wörld → 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ok\n'.repeat(50);
    fs.mkdirSync(path.join(dir, 'runs', 'exp-1'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'runs', 'exp-1', 'job.log'), text);
    let off = 0;
    let acc = '';
    for (let i = 0; i < 10_000; i++) {
      const c = readLog(dir, 'exp-1', off, 7);
      assert.ok(!c.data.includes('\uFFFD'), 'no replacement characters from split sequences');
      acc += c.data;
      if (c.nextOffset === off) break;
      off = c.nextOffset;
    }
    assert.equal(acc, text);
    assert.equal(off, Buffer.byteLength(text));
  });

  it('tails with a negative offset', () => {
    const f = path.join(dir, 'x.log');
    fs.writeFileSync(f, 'aaaa\nbbbb\nécc\n');
    const c = readLogFile(f, -4);
    assert.equal(c.data, 'cc\n', 'the last 4 bytes start inside é: its continuation byte is skipped');
    assert.equal(c.nextOffset, c.size);
  });

  it('returns an empty chunk for a run that has no log yet', () => {
    const c = readLog(dir, 'exp-404', 0);
    assert.equal(c.exists, false);
    assert.equal(c.data, '');
    assert.equal(c.nextOffset, 0);
  });

  it('rejects path-traversal ids and bad offsets', () => {
    assert.throws(() => readLog(dir, '../../etc', 0), LogRequestError);
    assert.throws(() => readLog(dir, 'a/b', 0), LogRequestError);
    assert.throws(() => readLogFile(path.join(dir, 'x'), 1.5), LogRequestError);
  });
});
