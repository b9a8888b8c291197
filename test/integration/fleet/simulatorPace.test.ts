// The demo's living fleet: the simulator's pace mode against a running hub (as `overseer demo` drives it). After the
// first proposals, proposals come one at a time across the fleet, spaced as asked, with sweeps among them, never over
// an agent's cap of open proposals; a second run against the same hub resumes the agents (no new plan, versions
// carry on); agents whose GPU budget cannot pay for another run stop, and the run ends by itself.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { agentIdFor } from '../../../src/fleet/directions';
import { prepareSimulatedFleet, simulateFleet, type SimulationResult } from '../../../src/fleet/simulator';
import { HubClient } from '../../../src/hub/client';
import { startHub, type Hub } from '../../../src/hub/server';

const AGENTS = 6;
const GAP: [number, number] = [400, 700];

describe('simulator pace mode (the demo fleet that lives)', function () {
  this.timeout(240_000);
  let dir: string;
  let hub: Hub;
  let tokens: Record<string, string>;
  let human: HubClient;
  let first: SimulationResult;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-sim-pace-'));
    await prepareSimulatedFleet(dir, { agents: AGENTS, seed: 3, noSync: true });
    hub = await startHub({ fleetDir: dir, noSync: true });
    tokens = {};
    for (let i = 0; i < AGENTS; i++) tokens[agentIdFor(i)] = hub.createToken({ kind: 'agent', id: agentIdFor(i) });
    human = new HubClient(hub.url, hub.createToken({ kind: 'human', id: 'alice' }));
    first = await simulateFleet({ fleetDir: dir, agents: AGENTS, seed: 3, steps: Infinity, hub: { url: hub.url, tokens }, intervalMs: 60, pace: { proposalMs: GAP, activity: 0.2 }, sweeps: 1, stopAfterProposals: 28 });
    await hub.idle();
  });
  after(async () => {
    await hub?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('spaces proposals after the first ones as asked, sweeps among them, and keeps every agent within its cap', async () => {
    const recs = first.experiments!;
    assert.ok(recs.length >= 28, `${recs.length} proposals`);
    const at = (id: string) => Date.parse(hub.service.state.experiment(id)!.proposedAt);
    // every agent's first proposal comes at once (round 1), gaming agents game in round 1 or 2; after that (nobody
    // reviews, so no revision or result is answered) only the pacer proposes
    const paced = recs.filter((r) => r.proposedRound > 2);
    assert.ok(paced.length >= 8, `${paced.length} paced proposals`);
    // one paced proposal (or one sweep of several) per turn: the turns are at least the minimum gap apart
    const turns = [...new Set(paced.map((r) => r.sweep ?? r.id))].map((k) => Math.min(...paced.filter((r) => (r.sweep ?? r.id) === k).map((r) => at(r.id))));
    turns.sort((a, b) => a - b);
    for (let i = 1; i < turns.length; i++) assert.ok(turns[i]! - turns[i - 1]! >= GAP[0] - 25, `paced proposals ${turns[i]! - turns[i - 1]!} ms apart (want >= ${GAP[0]})`);
    assert.ok(paced.some((r) => r.sweep), 'the pacer proposes sweeps too');
    assert.ok(first.actions.some((a) => a.kind === 'propose' && / supersedes /.test(a.detail)), 'an agent at its cap supersedes its oldest open proposal');
    for (let i = 0; i < AGENTS; i++) {
      const open = hub.service.state.experimentsOf(agentIdFor(i)).filter((x) => ['proposed', 'screening', 'awaiting_review'].includes(x.state));
      assert.ok(open.length <= 3, `${agentIdFor(i)} has ${open.length} open proposals (cap 3)`);
    }
    // the open sweeps are sweeps to the hub too (one Queue row each)
    assert.ok((await human.triage()).sweeps.length >= 1, 'GET /api/triage lists a sweep');
  });

  it('a second run against the same hub resumes the agents: no new plan, config versions carry on', async () => {
    const versionOf = (title: string) => Number(/\(v(\d+)\b/.exec(title)?.[1] ?? 0);
    const before = new Map<string, number>();
    for (let i = 0; i < AGENTS; i++) before.set(agentIdFor(i), Math.max(0, ...hub.service.state.experimentsOf(agentIdFor(i)).map((x) => versionOf(x.title))));
    const again = await simulateFleet({ fleetDir: dir, agents: AGENTS, seed: 3, steps: Infinity, hub: { url: hub.url, tokens }, intervalMs: 60, pace: { proposalMs: [100, 200] }, sweeps: 1, stopAfterProposals: 4 });
    assert.equal(again.actions.filter((a) => a.kind === 'resume').length, AGENTS, 'every agent resumes');
    assert.ok(!again.actions.some((a) => a.kind === 'post' && /^\S+ "Plan:/.test(a.detail)), 'no agent posts its plan again');
    for (const r of again.experiments!) {
      const x = hub.service.state.experiment(r.id)!;
      if (/\(v\d+/.test(x.title)) assert.ok(versionOf(x.title) > before.get(r.agent)!, `${x.title}: the version continues after v${before.get(r.agent)}`);
    }
  });

  it('agents whose budget cannot pay for another run stop, and the run ends by itself', async () => {
    for (let i = 0; i < AGENTS; i++) await human.setBudget(agentIdFor(i), { gpuHours: 0.5 });
    const t0 = Date.now();
    const r = await simulateFleet({ fleetDir: dir, agents: AGENTS, seed: 3, steps: Infinity, hub: { url: hub.url, tokens }, intervalMs: 30, pace: { proposalMs: [0, 0] } });
    assert.equal(r.actions.filter((a) => a.kind === 'stopped').length, AGENTS, 'every agent stops once');
    assert.match(r.actions.find((a) => a.kind === 'stopped')!.detail, /budget spent \(0 of 0\.5 GPU-hours\)/);
    assert.ok(Date.now() - t0 < 60_000);
  });

  it('refuses pacing it cannot follow and an endless run without a way to stop', async () => {
    await assert.rejects(simulateFleet({ fleetDir: dir, seed: 1, hub: { url: hub.url, tokens }, pace: { proposalMs: [5, 1] } }), /pace\.proposalMs must be \[min, max\]/);
    await assert.rejects(simulateFleet({ fleetDir: dir, seed: 1, hub: { url: hub.url, tokens }, steps: Infinity }), /steps: Infinity needs a way to stop/);
  });
});
