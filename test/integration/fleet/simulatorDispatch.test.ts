// The whole loop with the simulator on a hub that dispatches: agents propose experiments of the demo codebase,
// the scripted reviewer approves the honest ones, the runs (confined local runs of real Python training) score
// verified through their job tokens, and the agents read the results and adapt their next proposal to them.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FleetService } from '../../../src/core/service';
import { simulateFleet } from '../../../src/fleet/simulator';

describe('fleet simulator with dispatch: approve → run → verified score → the agent adapts', function () {
  this.timeout(240_000);
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-simdispatch-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('scores approved honest experiments verified and proposes from the results', async () => {
    // ten rounds: each seed is a job of its own now (about +0.4 s per extra job, bench runners)
    const r = await simulateFleet({ fleetDir: dir, agents: 3, seed: 5, steps: 10, reviewer: true, noSync: true, dispatch: true, intervalMs: 2500 });
    const svc = await FleetService.open(dir, { noSync: true });
    try {
      const xs = [...svc.state.experiments.values()];
      const scored = xs.filter((x) => x.state === 'scored' && x.score?.verified);
      assert.ok(scored.length >= 2, `verified scores: ${scored.length}; states ${xs.map((x) => `${x.id}:${x.state}`).join(' ')}`);
      for (const x of scored) {
        assert.match(x.command, /^python3 train\.py --data \S+ --config configs\/\S+\.json --seeds \{seed\}$/); // one hub seed per seed job
        assert.ok((x.seedJobs ?? 0) >= 3, `${x.id}: ${x.seedJobs} seed jobs`);
        assert.equal(x.run?.report?.violations, 0, x.run?.report?.summary);
        assert.ok((x.score as { numSeeds?: number }).numSeeds! >= 3);
      }
      // An agent planned a proposal from a verified result it read back (the rationale names it).
      const adapted = xs.filter((x) => /Verified PGR -?\d/.test(x.rationale) || /reached verified PGR/.test(x.rationale));
      assert.ok(adapted.length >= 1, `no proposal adapted to a result:\n${xs.map((x) => x.rationale).join('\n')}`);
      // ...and reported the verified number on the forum.
      assert.ok([...svc.state.posts.values()].some((p) => /Verified by the hub over \d+ seeds/.test(p.summary)), 'no verified result posted');
      assert.ok(r.actions.some((a) => a.kind === 'propose'));
    } finally {
      await svc.close();
    }
  });
});
