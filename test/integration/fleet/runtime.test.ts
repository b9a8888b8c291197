// `startEmbeddedFleet`: creates the fleet from a directions file, starts the hub in-process, runs one Claude agent
// per direction through the real SDK against the loopback fake, and stops cleanly.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FleetService } from '../../../src/core/service';
import { startEmbeddedFleet } from '../../../src/fleet/runtime';
import { startFakeAnthropic, toolUseMessage } from '../../support/fakeAnthropic';
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
});
