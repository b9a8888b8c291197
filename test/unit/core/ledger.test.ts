import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GENESIS, LEDGER_FILE, Ledger, LedgerCorruptError, verifyLedgerFile } from '../../../src/core/ledger';
import { EventValidationError } from '../../../src/core/events';
import { HUMAN, agentActor, tmpDir } from '../../support/tmp';

async function ledgerWith(n: number, dir: string): Promise<Ledger> {
  const l = await Ledger.open(dir);
  const ps = [];
  for (let i = 0; i < n; i++) ps.push(l.append('forum.voted', agentActor(`aar-${i % 3}`), { postId: `f-${i}`, vote: i % 2 ? 'up' : 'down' }));
  await Promise.all(ps);
  return l;
}

describe('Ledger', () => {
  let t: ReturnType<typeof tmpDir>;
  beforeEach(() => (t = tmpDir()));
  afterEach(() => t.cleanup());

  it('chains events: seq increments, prev is the previous hash, and reopening verifies', async () => {
    const l = await ledgerWith(25, t.dir);
    assert.equal(l.lastSeq, 25);
    const events = await l.readAfter(0);
    assert.equal(events.length, 25);
    assert.equal(events[0]!.prev, GENESIS);
    for (let i = 1; i < events.length; i++) {
      assert.equal(events[i]!.seq, i + 1);
      assert.equal(events[i]!.prev, events[i - 1]!.hash);
    }
    const head = l.headHash;
    await l.close();
    const again = await Ledger.open(t.dir);
    assert.equal(again.lastSeq, 25);
    assert.equal(again.headHash, head);
    await again.close();
    assert.deepEqual(verifyLedgerFile(path.join(t.dir, LEDGER_FILE)).ok, true);
  });

  it('group-commits concurrent appends into far fewer fsyncs than events', async () => {
    const l = await ledgerWith(2000, t.dir);
    assert.equal(l.stats.appended, 2000);
    assert.ok(l.stats.syncs < 200, `expected batching, got ${l.stats.syncs} fsyncs for 2000 appends`);
    assert.ok(l.stats.syncs >= 1);
    await l.close();
  });

  it('resolves an append only once it is durable, and notifies durable listeners in order', async () => {
    const l = await Ledger.open(t.dir);
    const seen: number[] = [];
    l.onDurable((e) => seen.push(e.seq));
    const e = await l.append('agent.resumed', HUMAN, { agentId: 'aar-1' });
    assert.equal(l.lastDurableSeq, e.seq);
    const size = fs.statSync(path.join(t.dir, LEDGER_FILE)).size;
    assert.ok(size > 0);
    await Promise.all([1, 2, 3].map((i) => l.append('agent.resumed', HUMAN, { agentId: `aar-${i}` })));
    assert.deepEqual(seen, [1, 2, 3, 4]);
    await l.close();
  });

  it('rejects invalid event data before writing anything', async () => {
    const l = await Ledger.open(t.dir);
    assert.throws(() => l.append('forum.voted', HUMAN, { postId: 'f-1', vote: 'sideways' } as never), EventValidationError);
    assert.throws(() => l.append('nope.never' as never, HUMAN, {} as never), EventValidationError);
    assert.equal(l.lastSeq, 0);
    await l.close();
    assert.equal(fs.readFileSync(path.join(t.dir, LEDGER_FILE), 'utf8'), '');
  });

  it('truncates a torn last line with a warning and keeps appending after it', async () => {
    const l = await ledgerWith(5, t.dir);
    await l.close();
    const file = path.join(t.dir, LEDGER_FILE);
    fs.appendFileSync(file, '{"actor":{"id":"x","kind":"agent"},"data":{"po');
    const warnings: string[] = [];
    const again = await Ledger.open(t.dir, { onWarning: (m) => warnings.push(m) });
    assert.equal(again.lastSeq, 5);
    assert.match(warnings.join('\n'), /torn last line after seq 5/);
    await again.append('agent.resumed', HUMAN, { agentId: 'aar-1' });
    await again.close();
    const v = verifyLedgerFile(file);
    assert.equal(v.ok, true);
    assert.equal(v.events, 6);
  });

  it('refuses an edited line, naming the first bad seq', async () => {
    const l = await ledgerWith(10, t.dir);
    await l.close();
    const file = path.join(t.dir, LEDGER_FILE);
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    lines[6] = lines[6]!.replace('"postId":"f-6"', '"postId":"f-9"');
    assert.ok(lines[6]!.includes('"f-9"'));
    fs.writeFileSync(file, lines.join('\n'));
    await assert.rejects(Ledger.open(t.dir), (err: unknown) => err instanceof LedgerCorruptError && err.seq === 7);
    const v = verifyLedgerFile(file);
    assert.equal(v.ok, false);
    assert.equal(v.badSeq, 7);
  });

  it('refuses a removed line and a swapped pair', async () => {
    const l = await ledgerWith(6, t.dir);
    await l.close();
    const file = path.join(t.dir, LEDGER_FILE);
    const lines = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
    fs.writeFileSync(file, [...lines.slice(0, 2), ...lines.slice(3)].join('\n') + '\n');
    assert.equal(verifyLedgerFile(file).badSeq, 3);
    fs.writeFileSync(file, [lines[0], lines[2], lines[1], ...lines.slice(3)].join('\n') + '\n');
    assert.equal(verifyLedgerFile(file).badSeq, 2);
  });

  it('detects a flip of any single byte of any line (tamper test)', async () => {
    const l = await ledgerWith(4, t.dir);
    await l.append('agent.paused', HUMAN, { agentId: 'aar-1', reason: 'budget — ünïcode ✓' });
    await l.close();
    const file = path.join(t.dir, LEDGER_FILE);
    const orig = fs.readFileSync(file);
    let checked = 0;
    for (let i = 0; i < orig.length; i++) {
      for (const mask of [0x01, 0x20, 0x80]) {
        const b = Buffer.from(orig);
        b[i] = b[i]! ^ mask;
        fs.writeFileSync(file, b);
        const v = verifyLedgerFile(file);
        assert.equal(v.ok, false, `flip of byte ${i} with mask ${mask} went undetected`);
        checked++;
      }
    }
    assert.equal(checked, orig.length * 3);
    fs.writeFileSync(file, orig);
    assert.equal(verifyLedgerFile(file).ok, true);
  });

  it('replays events after a given seq across checkpoints', async () => {
    const l = await ledgerWith(3000, t.dir);
    const tail = await l.readAfter(2990);
    assert.deepEqual(tail.map((e) => e.seq), [2991, 2992, 2993, 2994, 2995, 2996, 2997, 2998, 2999, 3000]);
    const mid = await l.readAfter(1023, 2);
    assert.deepEqual(mid.map((e) => e.seq), [1024, 1025]);
    await l.close();
  });
});
