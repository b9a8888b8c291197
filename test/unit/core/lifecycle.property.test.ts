// Property test: thousands of random interleavings of propose / move branch / approve / veto / dispatch /
// crash-restart. Invariant: nothing is ever dispatched that a human did not approve at exactly that commit,
// and no experiment is dispatched twice. Commits come from a real git repository (resolved once each).
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import type { AnyEvent } from '../../../src/core/events';
import { DomainError } from '../../../src/core/lifecycle';
import { FleetService } from '../../../src/core/service';
import { Sandbox } from '../../../src/git/sandbox';
import { tmpDir } from '../../support/tmp';

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x100000000;
  };
}

/** Check the invariants over the durable ledger, independent of the projection. */
function checkInvariants(events: AnyEvent[]): { dispatched: number } {
  const proposed = new Map<string, { commit: string; tree: string }>();
  const approved = new Map<string, { commit: string; tree: string }>();
  const decided = new Set<string>();
  const dispatched = new Set<string>();
  for (const e of events) {
    if (e.type === 'experiment.proposed') proposed.set(e.data.experimentId, { commit: e.data.commit, tree: e.data.tree });
    if (e.type === 'experiment.approved' || e.type === 'experiment.vetoed' || e.type === 'experiment.changes_requested') {
      assert.equal(e.actor.kind, 'human', `seq ${e.seq}: decision by ${e.actor.kind}`);
      assert.ok(!decided.has(e.data.experimentId), `seq ${e.seq}: second decision on ${e.data.experimentId}`);
      decided.add(e.data.experimentId);
      const p = proposed.get(e.data.experimentId)!;
      assert.deepEqual({ commit: e.data.commit, tree: e.data.tree }, p, `seq ${e.seq}: decision not at the pinned commit`);
      if (e.type === 'experiment.approved') approved.set(e.data.experimentId, { commit: e.data.commit, tree: e.data.tree });
    }
    if (e.type === 'experiment.dispatched') {
      const a = approved.get(e.data.experimentId);
      assert.ok(a, `seq ${e.seq}: ${e.data.experimentId} dispatched without a human approval`);
      assert.deepEqual({ commit: e.data.commit, tree: e.data.tree }, a, `seq ${e.seq}: dispatched a different commit than approved`);
      assert.ok(!dispatched.has(e.data.experimentId), `seq ${e.seq}: ${e.data.experimentId} dispatched twice`);
      dispatched.add(e.data.experimentId);
    }
  }
  return { dispatched: dispatched.size };
}

describe('lifecycle property: only what a human approved, at that commit, is dispatched, once', function () {
  this.timeout(120_000);
  let t: ReturnType<typeof tmpDir>;
  before(() => (t = tmpDir()));
  after(() => t.cleanup());

  it('holds over thousands of random interleavings with crash-restarts', async () => {
    const repo = path.join(t.dir, 'repo');
    const sb = await Sandbox.init(repo);
    const pool: string[] = [];
    for (let i = 0; i < 12; i++) pool.push(await sb.commitFiles({ [`f${i}.py`]: `v${i}\n` }, `c${i}`));
    const cache = new Map<string, { commit: string; tree: string; baseCommit?: string }>();
    for (const c of pool) cache.set(c, { ...(await sb.resolve(c)), baseCommit: pool[0] });
    const resolveCommit = async (_repo: string, commit: string) => {
      const r = cache.get(commit);
      if (!r) throw new Error(`commit ${commit} does not exist`);
      return r;
    };
    const humans = ['alice', 'bob'].map((id) => ({ kind: 'human' as const, id }));
    const agents = ['aar-1', 'aar-2', 'aar-3'].map((id) => ({ kind: 'agent' as const, id }));

    const unexpected: string[] = [];
    let totalOps = 0;
    let totalDispatched = 0;
    const seeds = 30;
    for (let seed = 1; seed <= seeds; seed++) {
      const r = rng(seed * 7919);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
      const dir = path.join(t.dir, `fleet-${seed}`);
      const open = () => FleetService.open(dir, { noSync: true, resolveCommit, onWarning: () => undefined });
      let svc = await open();
      await svc.createFleet(humans[0]!, `p${seed}`);
      for (const a of agents) {
        await svc.registerAgent(humans[0]!, { agentId: a.id, direction: 'd', repoPath: repo, budget: { gpuHours: 30, usd: 1, evalQueries: 1 } });
      }
      let tip = pool[0]!; // the branch tip an agent would propose next; moves at random
      const claims = new Set<string>();
      const abandoned: FleetService[] = [];
      for (let step = 0; step < 120; step++) {
        totalOps++;
        const ids = [...svc.state.experiments.keys()];
        const op = r();
        const ignore = (p: Promise<unknown>) => p.catch((err) => void (err instanceof DomainError || unexpected.push(String(err))));
        const batch: Promise<unknown>[] = [];
        // Issue 1-3 operations concurrently, to interleave their awaits.
        const n = 1 + Math.floor(r() * 3);
        for (let k = 0; k < n; k++) {
          const o = (op + k * 0.37) % 1;
          const x = ids.length ? svc.state.experiment(pick(ids))! : undefined;
          if (o < 0.2) {
            batch.push(ignore(svc.propose(pick(agents), { title: 't', rationale: 'r', command: 'run', resources: { gpus: 1, gpuHours: 1, timeLimitMinutes: 5 }, taskMode: 'normal', commit: tip })));
          } else if (o < 0.3) {
            tip = pick(pool); // the agent moves its branch
          } else if (o < 0.5 && x) {
            // A human approves what they reviewed; sometimes they reviewed a stale tip.
            const reviewed = r() < 0.8 ? { commit: x.commit, tree: x.tree } : { ...cache.get(tip)! };
            batch.push(ignore(svc.approve(pick(humans), x.id, reviewed)));
          } else if (o < 0.6 && x) {
            batch.push(ignore(svc.veto(pick(humans), x.id, { commit: x.commit, tree: x.tree, reason: 'no' })));
          } else if (o < 0.65 && x) {
            // An agent tries to approve (must always fail).
            batch.push(ignore(svc.approve(pick(agents), x.id, { commit: x.commit, tree: x.tree })));
          } else if (o < 0.9 && x) {
            // A dispatcher dispatches the approved pin, a racing one dispatches the branch tip or twice.
            const v = x.verdict;
            const pin = r() < 0.7 && v ? { commit: v.commit, tree: v.tree } : { ...cache.get(tip)! };
            if (r() < 0.5) {
              if (svc.claimForDispatch(x.id, claims)) batch.push(ignore(svc.markDispatched(x.id, { runner: 'local', jobId: `j${step}`, ...pin })));
            } else {
              batch.push(ignore(svc.markDispatched(x.id, { runner: 'local', jobId: `j${step}`, ...pin })));
            }
          } else if (o < 0.95) {
            // Crash-restart: abandon the instance after its durable writes and reopen from disk.
            await Promise.allSettled(batch.splice(0));
            await svc.ledger.flush();
            if (r() < 0.5) await svc.close();
            else abandoned.push(svc);
            svc = await open();
            claims.clear();
          }
        }
        await Promise.allSettled(batch);
      }
      await svc.ledger.flush();
      const events = await svc.ledger.readAfter(0);
      totalDispatched += checkInvariants(events).dispatched;
      await svc.close();
      for (const old of abandoned) await old.ledger.close();
    }
    assert.deepEqual(unexpected, [], 'only domain errors may be thrown');
    assert.ok(totalOps >= 3000, `ran ${totalOps} steps`);
    assert.ok(totalDispatched > 20, `the random walk should reach dispatch often (got ${totalDispatched})`);
  });
});
