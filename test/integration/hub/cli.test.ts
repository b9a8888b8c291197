// `overseer hub` and `overseer token` as real processes.
import * as assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { verifyLedgerFile } from '../../../src/core/ledger';
import { HubClient } from '../../../src/hub/client';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../../..');
const MAIN = path.join(ROOT, 'src/cli/main.ts');
const node = (args: string[]) => [process.execPath, ['--import=tsx', MAIN, ...args]] as const;

describe('overseer hub / token CLI', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-cli-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('refuses a directory without a fleet unless --init --name is given', async () => {
    const [cmd, args] = node(['hub', '--fleet', path.join(dir, 'empty')]);
    await assert.rejects(run(cmd, [...args], { cwd: ROOT }), (err: { code: number; stderr: string }) => {
      assert.equal(err.code, 1);
      assert.match(err.stderr, /--init --name/);
      return true;
    });
  });

  it('inits a fleet, serves it, accepts a token made by the CLI while running, and closes cleanly on SIGTERM', async () => {
    const fleet = path.join(dir, 'f1');
    const [cmd, args] = node(['hub', '--fleet', fleet, '--init', '--name', 'cli-fleet', '--agents', 'aar-1,aar-2', '--port', '0']);
    const child = spawn(cmd, [...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const t0 = Date.now();
    while (!/human token .*: (\S+)/.test(out) && Date.now() - t0 < 30_000) {
      if (child.exitCode !== null) assert.fail(`hub exited early: ${err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
    const human = /human token .*: (\S+)/.exec(out)?.[1];
    assert.ok(url && human, out + err);
    const h = new HubClient(url, human);
    assert.equal((await h.fleet()).counts.agents, 2);

    const [tcmd, targs] = node(['token', 'create', '--fleet', fleet, '--agent', 'aar-1']);
    const { stdout } = await run(tcmd, [...targs], { cwd: ROOT });
    const agentToken = stdout.trim();
    const a = new HubClient(url, agentToken);
    assert.deepEqual((await a.whoami()).actor, { kind: 'agent', id: 'aar-1' });

    child.kill('SIGTERM');
    assert.equal(await exited, 0, err);
    assert.match(out, /closed/);
    assert.ok(!fs.existsSync(path.join(fleet, 'hub.json')), 'lock file removed');
    const v = verifyLedgerFile(path.join(fleet, 'ledger.jsonl'));
    assert.ok(v.ok, v.why);
    const ledger = fs.readFileSync(path.join(fleet, 'ledger.jsonl'), 'utf8');
    assert.ok(!ledger.includes(agentToken));
    const created = ledger.split('\n').filter((l) => l.includes('"auth.token_created"'));
    assert.equal(created.length, 2, 'both tokens recorded once (admin + CLI agent token)');

    // With no hub running, the CLI records the event itself.
    const [t2, a2] = node(['token', 'create', '--fleet', fleet, '--human', 'bob']);
    const second = (await run(t2, [...a2], { cwd: ROOT })).stdout.trim();
    assert.match(second, /^ovs_[0-9a-f]{16}_/);
    const after = fs.readFileSync(path.join(fleet, 'ledger.jsonl'), 'utf8');
    assert.equal(after.split('\n').filter((l) => l.includes('"auth.token_created"')).length, 3);
    assert.ok(verifyLedgerFile(path.join(fleet, 'ledger.jsonl')).ok);
    const [t3, a3] = node(['token', 'create', '--fleet', fleet, '--agent', 'ghost']);
    await assert.rejects(run(t3, [...a3], { cwd: ROOT }));
  });
});
