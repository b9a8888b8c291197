// `startEmbeddedFleet`: creates the fleet from a directions file, starts the hub in-process, runs one Claude agent
// per direction through the real SDK against the loopback fake, and stops cleanly.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FleetService } from '../../../src/core/service';
import { startEmbeddedFleet } from '../../../src/fleet/runtime';
import { startFakeAnthropic, textMessage, toolUseMessage } from '../../support/fakeAnthropic';
import { tmpDir } from '../../support/tmp';

describe('fleet runtime (embedded hub + fake Messages API)', function () {
  this.timeout(60_000);

  it('runs one agent per direction with its own sandbox, budget and state file', async () => {
    const { dir, cleanup } = tmpDir('overseer-rt-');
    const fake = await startFakeAnthropic((req) => {
      const who = /You are (agent-\d+),/.exec(req.body.system as string)![1]!;
      const turns = (req.body.messages as unknown[]).length;
      return turns === 1
        ? toolUseMessage('write_file', { path: `notes-${who}.md`, content: `notes of ${who}\n` }, { input_tokens: 100, output_tokens: 10 })
        : toolUseMessage('list_files', {}, { input_tokens: 120, output_tokens: 5 });
    });
    try {
      const directions = path.join(dir, 'directions.md');
      fs.writeFileSync(directions, '## Alpha\nlabel noise\n## Beta\nlinear probes\n## Gamma\nself-training\n');
      const fleetDir = path.join(dir, 'fleet');
      const fleet = await startEmbeddedFleet({ fleetDir, agents: 3, directionsFile: directions, model: 'claude-haiku-4-5', maxUsd: 2, apiKey: 'test-key', baseUrl: fake.url, maxCalls: 2 });
      const results = await fleet.done;
      await fleet.close();
      assert.deepEqual(results.map((r) => r.stopped), ['max_calls', 'max_calls', 'max_calls']);
      assert.equal(fake.requests.length, 6);
      const svc = await FleetService.open(fleetDir);
      try {
        for (const [i, title] of ['Alpha', 'Beta', 'Gamma'].entries()) {
          const a = svc.state.agent(`agent-${i + 1}`)!;
          assert.match(a.direction, new RegExp(`^${title}`));
          assert.equal(a.budget.usd, 2);
          // 100×$1/M + 10×$5/M + 120×$1/M + 5×$5/M
          assert.ok(Math.abs(a.used.usd - (100 + 50 + 120 + 25) / 1e6) < 1e-12, String(a.used.usd));
          assert.equal(fs.readFileSync(path.join(a.repoPath, `notes-agent-${i + 1}.md`), 'utf8'), `notes of agent-${i + 1}\n`);
          assert.ok(fs.existsSync(path.join(fleetDir, 'agents', a.id, 'state.json')));
        }
      } finally {
        await svc.close();
      }
    } finally {
      await fake.close();
      cleanup();
    }
  });

  it('`overseer fleet start` runs the agents as a real process against ANTHROPIC_BASE_URL and reports spend', async () => {
    const { dir, cleanup } = tmpDir('overseer-rtcli-');
    const fake = await startFakeAnthropic(() => toolUseMessage('list_files', {}, { input_tokens: 1000, output_tokens: 100 }));
    try {
      const directions = path.join(dir, 'd.md');
      fs.writeFileSync(directions, '## One\nfirst\n## Two\nsecond\n');
      const root = path.join(__dirname, '..', '..', '..');
      const child = spawn(
        process.execPath,
        ['--import=tsx', path.join(root, 'src', 'cli', 'main.ts'), 'fleet', 'start', '--fleet', path.join(dir, 'fleet'), '--agents', '2', '--directions', directions, '--model', 'claude-haiku-4-5', '--max-usd', '1', '--max-calls', '1'],
        { cwd: root, env: { ...process.env, ANTHROPIC_API_KEY: 'test-key', ANTHROPIC_BASE_URL: fake.url }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      const code = await new Promise<number | null>((r) => child.on('exit', r));
      assert.equal(code, 0, err);
      // 1000 × $1/M + 100 × $5/M = $0.0015 per agent
      assert.match(out, /agent-1: max_calls, 1 calls, 1000 in \/ 100 out tokens, \$0\.0015/);
      assert.match(out, /agent-2: max_calls, 1 calls/);
      assert.equal(fake.requests.length, 2);
      assert.ok(fake.requests.every((r) => r.headers['x-api-key'] === 'test-key' || r.headers.authorization === 'Bearer test-key'));
    } finally {
      await fake.close();
      cleanup();
    }
  });

  it('`overseer fleet start` stops cleanly on SIGINT while its agents wait for news', async () => {
    const { dir, cleanup } = tmpDir('overseer-rtint-');
    const fake = await startFakeAnthropic(() => textMessage('nothing to do yet', { input_tokens: 10, output_tokens: 1 }));
    try {
      const directions = path.join(dir, 'd.md');
      fs.writeFileSync(directions, '## One\nfirst\n');
      const root = path.join(__dirname, '..', '..', '..');
      const fleetDir = path.join(dir, 'fleet');
      const child = spawn(
        process.execPath,
        ['--import=tsx', path.join(root, 'src', 'cli', 'main.ts'), 'fleet', 'start', '--fleet', fleetDir, '--agents', '1', '--directions', directions, '--model', 'claude-haiku-4-5'],
        { cwd: root, env: { ...process.env, ANTHROPIC_API_KEY: 'k', ANTHROPIC_BASE_URL: fake.url }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      const exited = new Promise<number | null>((r) => child.on('exit', r));
      const deadline = Date.now() + 30_000;
      while (fake.requests.length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.equal(fake.requests.length, 1);
      child.kill('SIGINT');
      assert.equal(await exited, 0);
      assert.match(out, /agent-1: aborted, 1 calls/);
      assert.ok(!fs.existsSync(path.join(fleetDir, 'hub.json')), 'the hub lock was not removed');
    } finally {
      await fake.close();
      cleanup();
    }
  });
});
