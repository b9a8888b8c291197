// Push quotas on the smart-HTTP receive path (issue 24 item 5), with a real git client against a real hub: pack
// bombs (a 128 MiB blob of zeros that packs to about half a MiB, a pack of many objects, a pack over the byte
// quota, a hand-made header claiming 2^32-1 objects) are refused with a message git prints, nothing of them
// stays in the hub repository, and GET /api/health keeps answering within 1 s throughout. Honest pushes pass.
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { type HubFixture, startHubFixture } from '../../support/hubFixture';

function git(cwd: string, args: string[]): Promise<{ status: number; out: string }> {
  return new Promise((resolve) => {
    execFile(
      'git',
      args,
      { cwd, encoding: 'utf8', maxBuffer: 16 << 20, env: { PATH: process.env.PATH!, HOME: cwd, GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0', GIT_AUTHOR_NAME: 'm', GIT_AUTHOR_EMAIL: 'm@x', GIT_COMMITTER_NAME: 'm', GIT_COMMITTER_EMAIL: 'm@x' } },
      (err, stdout, stderr) => resolve({ status: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: `${stdout}\n${stderr}` }),
    );
  });
}

describe('push quotas: pack bombs are refused on the stream while the hub keeps answering', function () {
  this.timeout(300_000);
  let fx: HubFixture;
  let clone: string;
  let hubRepo: string;
  const auth = () => ['-c', `http.extraHeader=Authorization: Bearer ${fx.agentTokens['mallory']}`];
  const push = (ref: string) => git(clone, [...auth(), 'push', 'origin', `HEAD:refs/heads/${ref}`]);

  /** Poll GET /api/health every 50 ms while `work` runs; the slowest answer in ms. */
  async function whileTimingHealth<T>(work: () => Promise<T>): Promise<{ result: T; slowest: number; answers: number }> {
    let stop = false;
    let slowest = 0;
    let answers = 0;
    const poll = (async () => {
      while (!stop) {
        const t0 = performance.now();
        const r = await fetch(`${fx.url}/api/health`, { headers: { authorization: `Bearer ${fx.humanToken}` } });
        assert.equal(r.status, 200);
        assert.equal((await r.json()).ok, true);
        slowest = Math.max(slowest, performance.now() - t0);
        answers++;
        await new Promise((res) => setTimeout(res, 50));
      }
    })();
    try {
      const result = await work();
      return { result, slowest, answers };
    } finally {
      stop = true;
      await poll;
    }
  }

  const reset = async () => {
    assert.equal((await git(clone, ['reset', '-q', '--hard', 'origin/main'])).status, 0);
    assert.equal((await git(clone, ['clean', '-qfdx'])).status, 0);
  };
  const commitFiles = async (files: Record<string, Buffer | string>, msg: string) => {
    for (const [f, c] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(clone, f)), { recursive: true });
      fs.writeFileSync(path.join(clone, f), c);
    }
    assert.equal((await git(clone, ['add', '-A'])).status, 0);
    assert.equal((await git(clone, ['commit', '-q', '-m', msg])).status, 0);
    return (await git(clone, ['rev-parse', 'HEAD'])).out.trim().split('\n')[0]!;
  };
  const hubHas = async (sha: string) => (await git(hubRepo, ['cat-file', '-e', sha])).status === 0;
  const noQuarantine = () => assert.deepEqual(fs.readdirSync(path.join(hubRepo, 'objects')).filter((d) => d.startsWith('incoming-')), []);

  before(async () => {
    fx = await startHubFixture({ agentIds: ['mallory'] });
    // Quotas of this fleet (read on every push): 8 MiB objects, 4 MiB packs, 500 objects.
    const cfgFile = path.join(fx.dir, 'fleet.json');
    const cfg = JSON.parse(fs.readFileSync(cfgFile, 'utf8'));
    cfg.push = { maxObjectBytes: 8 << 20, maxPackBytes: 4 << 20, maxObjects: 500 };
    fs.writeFileSync(cfgFile, JSON.stringify(cfg, null, 2));
    hubRepo = fx.service.hubRepo('mallory');
    clone = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-quota-clone-'));
    const r = await git(os.tmpdir(), [...auth(), 'clone', '-q', `${fx.url}/git/mallory.git`, clone]);
    assert.equal(r.status, 0, r.out);
  });
  // Each attempt starts from the hub's main branch, whatever the previous one left behind.
  beforeEach(() => reset());
  after(async () => {
    await fx.close();
    fs.rmSync(clone, { recursive: true, force: true });
  });

  it('an honest push under the quotas is accepted (a 3 MiB file, a few hundred objects)', async () => {
    const files: Record<string, Buffer | string> = { 'data.bin': crypto.randomBytes(3 << 20) };
    for (let i = 0; i < 300; i++) files[`src/m${i}.py`] = `x = ${i}\n`;
    const c = await commitFiles(files, 'honest');
    const r = await push('honest');
    assert.equal(r.status, 0, r.out);
    assert.equal(await hubHas(c), true);
  });

  it('a 128 MiB blob of zeros (about 0.5 MiB on the wire) is refused at its header; health answers within 1 s', async () => {
    const c = await commitFiles({ 'zeros.bin': Buffer.alloc(128 << 20) }, 'bomb');
    const blob = (await git(clone, ['rev-parse', 'HEAD:zeros.bin'])).out.trim().split('\n')[0]!;
    const pack = fs.statSync(path.join(clone, '.git', 'objects', blob.slice(0, 2), blob.slice(2))).size;
    assert.ok(pack < 4 << 20, `the bomb is small on disk (${pack} bytes)`);
    const { result: r, slowest, answers } = await whileTimingHealth(() => push('bomb'));
    assert.notEqual(r.status, 0, r.out);
    assert.match(r.out, /remote: overseer: refusing the push: object \d+ of the pack is a blob of 134217728 bytes \(at most 8388608, push\.maxObjectBytes of fleet\.json\)/);
    assert.match(r.out, /\[remote rejected\] HEAD -> bomb \(push quota: /);
    assert.ok(slowest < 1000, `slowest health answer ${slowest.toFixed(0)} ms`);
    assert.ok(answers >= 1);
    assert.equal(await hubHas(c), false);
    noQuarantine();
    console.log(`      pack bomb: ${pack} bytes on disk for 128 MiB; ${answers} health answers, slowest ${slowest.toFixed(0)} ms`);
  });

  it('a pack of too many objects is refused from its header', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 600; i++) files[`many/f${i}.txt`] = `file ${i}\n`;
    const c = await commitFiles(files, 'many');
    const { result: r, slowest } = await whileTimingHealth(() => push('many'));
    assert.notEqual(r.status, 0, r.out);
    assert.match(r.out, /the pack holds 60\d objects \(at most 500, push\.maxObjects of fleet\.json\); push in smaller steps/);
    assert.ok(slowest < 1000, `slowest health answer ${slowest.toFixed(0)} ms`);
    assert.equal(await hubHas(c), false);
    noQuarantine();
  });

  it('a pack over the byte quota is refused once its bytes pass it', async () => {
    const c = await commitFiles({ 'a.bin': crypto.randomBytes(3 << 20), 'b.bin': crypto.randomBytes(3 << 20) }, 'large');
    const { result: r, slowest } = await whileTimingHealth(() => push('large'));
    assert.notEqual(r.status, 0, r.out);
    assert.match(r.out, /the push is (larger than 4 MiB \(|\d+(\.\d)? MiB \(at most 4 MiB, )push\.maxPackBytes of fleet\.json/);
    assert.ok(slowest < 1000, `slowest health answer ${slowest.toFixed(0)} ms`);
    assert.equal(await hubHas(c), false);
    noQuarantine();
  });

  it('hand-made bodies: a header claiming 2^32-1 objects and a gzip-encoded body are refused', async () => {
    const cmd = `${'0'.repeat(40)} ${'1'.repeat(40)} refs/heads/liar\0 report-status\n`;
    const pktLine = (cmd.length + 4).toString(16).padStart(4, '0') + cmd;
    const liar = Buffer.concat([Buffer.from(pktLine + '0000'), Buffer.from('PACK'), Buffer.from([0, 0, 0, 2, 0xff, 0xff, 0xff, 0xff]), Buffer.alloc(64)]);
    const url = `${fx.url}/git/mallory.git/git-receive-pack`;
    const headers = { authorization: `Bearer ${fx.agentTokens['mallory']}`, 'content-type': 'application/x-git-receive-pack-request' };
    const r = await fetch(url, { method: 'POST', headers, body: liar });
    assert.equal(r.status, 200);
    const text = await r.text();
    assert.match(text, /unpack the pack holds 4294967295 objects \(at most 500/);
    assert.match(text, /ng refs\/heads\/liar push quota: /);
    const gz = await fetch(url, { method: 'POST', headers: { ...headers, 'content-encoding': 'gzip' }, body: zlib.gzipSync(liar) });
    assert.equal(gz.status, 415);
    assert.match((await gz.json()).error.message, /Content-Encoding "gzip" is not accepted/);
    assert.equal((await git(hubRepo, ['rev-parse', '-q', '--verify', 'refs/heads/liar'])).status, 1);
    noQuarantine();
  });

  it('after the bombs an honest push still goes through', async () => {
    const c = await commitFiles({ 'after.py': 'print("still fine")\n' }, 'after');
    const r = await push('after');
    assert.equal(r.status, 0, r.out);
    assert.equal(await hubHas(c), true);
  });
});
