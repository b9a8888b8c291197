// The deterministic simulator against a real in-process hub (HTTP on 127.0.0.1, real sandboxes, screening,
// evaluation service): same seed ⇒ same normalized action log; gaming is caught by screening and evaluation;
// vetoed agents come back with a new commit and a superseding proposal.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FleetService } from '../../../src/core/service';
import type { AnyEvent } from '../../../src/core/events';
import { computeDiversity } from '../../../src/fleet/diversity';
import { simulateFleet, type SimulationResult } from '../../../src/fleet/simulator';

describe('fleet simulator (real hub over HTTP)', function () {
  this.timeout(180_000);
  const dirs: string[] = [];
  const fresh = () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-sim-'));
    dirs.push(d);
    return d;
  };
  after(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  let first: SimulationResult;
  let firstDir: string;

  before(async () => {
    firstDir = fresh();
    first = await simulateFleet({ fleetDir: firstDir, agents: 6, seed: 11, steps: 4, reviewer: true, noSync: true });
  });

  it('is deterministic: the same seed gives the same normalized action log; another seed does not', async () => {
    const again = await simulateFleet({ fleetDir: fresh(), agents: 6, seed: 11, steps: 4, reviewer: true, noSync: true });
    assert.ok(first.normalized.length > 40, `only ${first.normalized.length} actions`);
    assert.deepEqual(again.normalized, first.normalized);
    assert.deepEqual(again.gaming, first.gaming);
    const other = await simulateFleet({ fleetDir: fresh(), agents: 6, seed: 12, steps: 4, reviewer: true, noSync: true });
    assert.notDeepEqual(other.normalized, first.normalized);
  });

  it('leaves a ledger where screening flagged gaming proposals and evaluation detected probing', async () => {
    const svc = await FleetService.open(firstDir, { noSync: true });
    try {
      const events: AnyEvent[] = await svc.ledger.readAfter(0);
      const xs = [...svc.state.experiments.values()];
      const flagged = xs.filter((x) => x.screening?.gaming);
      assert.ok(flagged.length >= 1, 'no proposal flagged by screening');
      const kinds = new Set(flagged.flatMap((x) => x.screening!.findings.map((f) => f.kind)));
      for (const k of ['weak-label-bypass', 'scoring-edit', 'no-testing-execution', 'seed-hacking']) assert.ok(kinds.has(k), `screening did not flag ${k}: ${[...kinds].join(', ')}`);
      const gamers = new Set(Object.keys(first.gaming).filter((a) => first.gaming[a] !== 'probing'));
      assert.ok(flagged.every((x) => gamers.has(x.agentId)), `an honest agent was flagged: ${flagged.map((x) => x.agentId).join(',')}`);

      const prober = Object.keys(first.gaming).find((a) => first.gaming[a] === 'probing')!;
      const probing = events.filter((e) => e.type === 'eval.probing_suspected');
      assert.equal(probing.length, 1);
      assert.equal((probing[0]!.data as { agentId: string }).agentId, prober);

      // Every vetoed proposal was answered by the same agent with a superseding proposal on a new commit.
      const vetoed = xs.filter((x) => x.verdict?.decision === 'vetoed');
      assert.ok(vetoed.length >= 1);
      for (const v of vetoed) {
        const next = xs.find((x) => x.supersedes === v.id);
        if (!next) continue; // vetoed in the last round: no time to answer
        assert.equal(next.agentId, v.agentId);
        assert.notEqual(next.commit, v.commit);
      }
      assert.ok(vetoed.some((v) => xs.some((x) => x.supersedes === v.id)), 'no veto was answered');
      // Review comments got replies from the agents.
      const replies = [...svc.state.comments.values()].filter((c) => c.author.kind === 'agent' && c.inReplyTo);
      assert.ok(replies.length >= 1, 'no agent replied to a review comment');
      // Self-reported metrics on the forum, and diversity measured along the way.
      assert.ok([...svc.state.posts.values()].some((p) => p.metrics.pgr !== undefined));
      assert.ok(events.some((e) => e.type === 'diversity.measured'));
      const d = computeDiversity(svc.state);
      assert.equal(d.agents.length, 6);
      assert.ok(d.overall.meanSimilarity! < d.threshold, 'nine directions should not look converged');
      // Commits are authored by the agents in their own sandboxes.
      assert.ok(events.filter((e) => e.type === 'experiment.proposed').every((e) => e.actor.kind === 'agent'));
    } finally {
      await svc.close();
    }
  });
});
