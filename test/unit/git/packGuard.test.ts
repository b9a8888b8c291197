// The push-quota reader of receive-pack request bodies, fed packs made by real git (pack-objects) in chunks of
// every size, honest ones and bombs: a huge highly compressible blob, many objects, a small delta that expands
// past the limit, a header that lies about the object count or an object's size.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { PackGuard, PushRefused } from '../../../src/git/packGuard';
import { DEFAULT_PUSH_LIMITS, type PushLimits, parsePushLimits } from '../../../src/git/pushLimits';

const ZERO = '0'.repeat(40);

function pkt(s: string): Buffer {
  return Buffer.from((s.length + 4).toString(16).padStart(4, '0') + s);
}

/** A receive-pack request body: one command with capabilities, flush, then the pack. */
function body(pack: Buffer, newSha = '1'.repeat(40)): Buffer {
  return Buffer.concat([pkt(`${ZERO} ${newSha} refs/heads/x\0 report-status side-band-64k agent=git/2\n`), Buffer.from('0000'), pack]);
}

async function feedAll(g: PackGuard, data: Buffer, chunk: number): Promise<void> {
  for (let i = 0; i < data.length; i += chunk) await g.feed(data.subarray(i, i + chunk));
}

describe('packGuard: push quotas on the receive-pack stream', function () {
  this.timeout(60_000);
  let dir: string;
  const git = (args: string[], input?: Buffer | string) => execFileSync('git', args, { cwd: dir, input, maxBuffer: 256 << 20, env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' } });
  /** A pack of the given blobs (as git packs them: deltas where it finds them). */
  const packOf = (blobs: Buffer[]) => {
    const shas = blobs.map((b) => git(['hash-object', '-w', '--stdin'], b).toString().trim());
    return git(['pack-objects', '--stdout', '-q', '--window=10'], shas.join('\n') + '\n');
  };

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'packguard-'));
    git(['init', '-q', '--bare', '.']);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('an honest pack passes whole and in chunks of 1, 7, 4096 and 65536 bytes, and reads the capabilities', async () => {
    const blobs = Array.from({ length: 60 }, (_, i) => Buffer.from(`file ${i}\n`.repeat(50 + i)));
    blobs.push(crypto.randomBytes(600_000)); // one large object streams through zlib's thread pool
    const small = body(packOf(blobs.slice(0, 20)));
    const data = body(packOf(blobs));
    for (const [d, size] of [[data, data.length], [small, 1], [data, 7], [data, 4096], [data, 65536]] as const) {
      const g = new PackGuard(DEFAULT_PUSH_LIMITS);
      await feedAll(g, d, size);
      assert.equal(g.finished, true, `chunk ${size}`);
      assert.ok(g.capabilities.has('report-status') && g.capabilities.has('side-band-64k'));
      assert.deepEqual(g.refs, ['refs/heads/x']);
    }
  });

  it('a deletion-only push (no pack) and the auth probe (a lone flush) pass', async () => {
    const g = new PackGuard(DEFAULT_PUSH_LIMITS);
    await g.feed(Buffer.concat([pkt(`${'1'.repeat(40)} ${ZERO} refs/heads/x\0 report-status\n`), Buffer.from('0000')]));
    assert.equal(g.finished, true);
    const p = new PackGuard(DEFAULT_PUSH_LIMITS);
    await p.feed(Buffer.from('0000'));
    assert.equal(p.finished, true);
  });

  it('a huge highly compressible blob is refused at its header, before its data', async () => {
    const pack = packOf([Buffer.alloc(64 * 1024 * 1024)]);
    assert.ok(pack.length < 200_000, `64 MiB of zeros packs to ${pack.length} bytes`);
    const g = new PackGuard(DEFAULT_PUSH_LIMITS);
    const data = body(pack);
    // Only the commands, the pack header and the object's 4-byte size header are needed to decide.
    const upTo = data.indexOf('PACK') + 12 + 5;
    await assert.rejects(g.feed(data.subarray(0, upTo)), (err: Error) => {
      assert.ok(err instanceof PushRefused);
      assert.equal(err.message, 'object 1 of the pack is a blob of 67108864 bytes (at most 20971520, push.maxObjectBytes of fleet.json)');
      return true;
    });
  });

  it('many objects are refused from the pack header, and a header claiming 2^32-1 objects too', async () => {
    const limits: PushLimits = { ...DEFAULT_PUSH_LIMITS, maxObjects: 100 };
    const pack = packOf(Array.from({ length: 150 }, (_, i) => Buffer.from(`blob ${i}\n`)));
    await assert.rejects(new PackGuard(limits).feed(body(pack)), /the pack holds 150 objects \(at most 100, push\.maxObjects of fleet\.json\); push in smaller steps/);
    const liar = Buffer.concat([Buffer.from('PACK'), Buffer.from([0, 0, 0, 2, 0xff, 0xff, 0xff, 0xff])]);
    await assert.rejects(new PackGuard(DEFAULT_PUSH_LIMITS).feed(body(liar)), /holds 4294967295 objects/);
    await new PackGuard(limits).feed(body(packOf(Array.from({ length: 100 }, (_, i) => Buffer.from(`blob ${i}\n`)))));
  });

  it('a small delta whose result is over the limit is refused (the delta itself is tiny)', async () => {
    // A thin pack, as a push sends it: the base is in the repository already, the 1.9 MiB blob is a delta on it
    // (git deltas only when the size difference is under half the target's size).
    const base = crypto.randomBytes(1 << 20);
    const big = Buffer.concat([base, base.subarray(0, 900 * 1024)]);
    const commitOf = (blob: Buffer, parent?: string) => {
      const sha = git(['hash-object', '-w', '--stdin'], blob).toString().trim();
      const tree = git(['mktree'], `100644 blob ${sha}\tf\n`).toString().trim();
      return git(['-c', 'user.name=m', '-c', 'user.email=m@x', 'commit-tree', tree, '-m', 'c', ...(parent ? ['-p', parent] : [])]).toString().trim();
    };
    const a = commitOf(base);
    const b = commitOf(big, a);
    const pack = git(['pack-objects', '--stdout', '-q', '--thin', '--revs'], `${b}\n^${a}\n`);
    assert.ok(pack.length < 100_000, `the 1.9 MiB object travels as a delta (${pack.length} bytes)`);
    const limits: PushLimits = { ...DEFAULT_PUSH_LIMITS, maxObjectBytes: 1.5 * (1 << 20) };
    await assert.rejects(feedAll(new PackGuard(limits), body(pack), 65536), /is a delta that makes an object of 1970176 bytes \(at most 1572864, push\.maxObjectBytes/);
    await feedAll(new PackGuard({ ...limits, maxObjectBytes: 2 << 20 }), body(pack), 65536);
  });

  it('a pack larger than maxPackBytes is refused once the bytes pass the limit, and a declared length at once', async () => {
    const pack = packOf([crypto.randomBytes(3 << 20)]);
    const limits: PushLimits = { ...DEFAULT_PUSH_LIMITS, maxPackBytes: 1 << 20 };
    await assert.rejects(feedAll(new PackGuard(limits), body(pack), 65536), /the push is larger than 1 MiB \(push\.maxPackBytes of fleet\.json\)/);
    await assert.rejects(new PackGuard(limits, 50 << 20).feed(body(pack).subarray(0, 200)), /the push is 50 MiB \(at most 1 MiB/);
  });

  it('an object header that lies about its size is refused', async () => {
    const content = Buffer.from('blob 10\0' + 'x'.repeat(10)).subarray(8);
    const z = zlib.deflateSync(Buffer.concat([content, Buffer.alloc(1000, 1)]));
    // type blob (3), size 10: 0b0_011_1010
    const pack = Buffer.concat([Buffer.from('PACK'), Buffer.from([0, 0, 0, 2, 0, 0, 0, 1]), Buffer.from([0x3a]), z, Buffer.alloc(20)]);
    await assert.rejects(new PackGuard(DEFAULT_PUSH_LIMITS).feed(body(pack)), /malformed pack: object 1/);
  });

  it('fleet.json push limits: defaults, overrides, and clear errors for bad values', () => {
    assert.deepEqual(parsePushLimits(undefined), DEFAULT_PUSH_LIMITS);
    assert.equal(parsePushLimits({ maxObjects: 10 }).maxObjects, 10);
    assert.throws(() => parsePushLimits({ maxObjects: -1 }), /push\.maxObjects must be a positive integer, got -1/);
    assert.throws(() => parsePushLimits({ maxBlob: 1 }), /unknown setting push\.maxBlob/);
    assert.throws(() => parsePushLimits('big'), /"push" must be an object/);
  });
});
