// The hub caps each agent's open (undecided) proposals: fleet.json `maxOpenProposals`, default 3. The next one
// gets 429 naming the cap and the open ids; a decision or a superseding proposal makes room; concurrent requests
// cannot overshoot; the simulator waits instead of crashing.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UNDECIDED } from '../../../src/core/lifecycle';
import { FleetService } from '../../../src/core/service';
import { simulateFleet } from '../../../src/fleet/simulator';
import type { ProposeRequest } from '../../../src/hub/api';
import { HubError } from '../../../src/hub/client';
import { createFleet } from '../../../src/hub/fleetSetup';
import { startHub } from '../../../src/hub/server';
import { startHubFixture, type HubFixture } from '../../support/hubFixture';

const resources = { gpus: 1, gpuHours: 1, timeLimitMinutes: 30 };
let n = 0;
async function req(fx: HubFixture, agentId: string, extra: Partial<ProposeRequest> = {}): Promise<ProposeRequest> {
  const commit = await fx.commit(agentId, { 'train.py': `print(${++n})\n` }, `v${n}`);
  return { commit, command: 'python train.py', title: `try ${n}`, rationale: 'r', resources, taskMode: 'normal', ...extra };
}

async function refused(p: Promise<unknown>): Promise<HubError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof HubError, String(err));
    return err;
  }
  assert.fail('expected the proposal to be refused');
}

describe('cap on open proposals per agent', function () {
  this.timeout(120_000);

  describe('default (no setting in fleet.json)', () => {
    let fx: HubFixture;
    before(async () => {
      fx = await startHubFixture({ agents: 2, hub: { screen: false }, config: { maxOpenProposals: undefined } });
    });
    after(() => fx?.close());

    it('allows 3 undecided proposals, refuses the 4th with 429 naming the cap and the open ids', async () => {
      const a = fx.agent('aar-1');
      const open = [];
      for (let i = 0; i < 3; i++) open.push((await a.propose(await req(fx, 'aar-1'))).id);
      const err = await refused(a.propose(await req(fx, 'aar-1')));
      assert.equal(err.status, 429);
      assert.equal(err.code, 'too_many_open_proposals');
      assert.match(err.message, /aar-1 already has 3 open proposals/);
      assert.match(err.message, /allows 3 per agent \(maxOpenProposals in fleet\.json\)/);
      for (const id of open) assert.ok(err.message.includes(id), `${id} named`);
      assert.deepEqual(err.details, { limit: 3, open });
      assert.equal(fx.service.state.experimentsOf('aar-1').length, 3, 'nothing recorded for the refused one');

      // another agent is not affected; a human proposing on the agent's behalf is not held to the cap
      await fx.agent('aar-2').propose(await req(fx, 'aar-2'));
      const byHuman = await fx.human.propose(await req(fx, 'aar-1', { agentId: 'aar-1' }));
      assert.equal(byHuman.agentId, 'aar-1');
    });

    it('a superseding proposal replaces an open one at the cap; a decision makes room', async () => {
      const a = fx.agent('aar-1');
      const open = fx.service.state.experimentsOf('aar-1').filter((x) => UNDECIDED.includes(x.state));
      assert.equal(open.length, 4, 'three by the agent and one by a human');
      const byHuman = open.find((x) => x.history[0]?.actor.kind === 'human') ?? open[3]!;
      await fx.human.veto(byHuman.id, { commit: byHuman.commit, tree: byHuman.tree, reason: 'no' });
      const mine = open.filter((x) => x.id !== byHuman.id);
      const next = await a.propose(await req(fx, 'aar-1', { supersedes: mine[0]!.id }));
      assert.equal(next.supersedes, mine[0]!.id);
      assert.equal((await fx.human.getExperiment(mine[0]!.id)).state, 'superseded');
      assert.equal((await refused(a.propose(await req(fx, 'aar-1')))).status, 429, 'still at the cap');

      await fx.human.veto(next.id, { commit: next.commit, tree: next.tree, reason: 'no' });
      await fx.human.approve(mine[1]!.id, { commit: mine[1]!.commit, tree: mine[1]!.tree });
      await fx.human.requestChanges(mine[2]!.id, { commit: mine[2]!.commit, tree: mine[2]!.tree, reason: 'more seeds' });
      for (let i = 0; i < 3; i++) await a.propose(await req(fx, 'aar-1'));
      assert.equal((await refused(a.propose(await req(fx, 'aar-1')))).status, 429);
    });

    it('concurrent proposals cannot overshoot the cap', async () => {
      const a = fx.agent('aar-2');
      const before = fx.service.state.experimentsOf('aar-2').filter((x) => UNDECIDED.includes(x.state)).length;
      assert.equal(before, 1);
      const reqs = [];
      for (let i = 0; i < 5; i++) reqs.push(await req(fx, 'aar-2'));
      const results = await Promise.allSettled(reqs.map((r) => a.propose(r)));
      const ok = results.filter((r) => r.status === 'fulfilled').length;
      const tooMany = results.filter((r) => r.status === 'rejected' && (r.reason as HubError).status === 429).length;
      assert.equal(ok, 2, 'exactly up to the cap');
      assert.equal(tooMany, 3);
      assert.equal(fx.service.state.experimentsOf('aar-2').filter((x) => UNDECIDED.includes(x.state)).length, 3);
    });
  });

  describe('the fleet.json setting', () => {
    it('1 allows one, 0 means no limit, and an invalid value stops the hub from starting with a clear error', async () => {
      const one = await startHubFixture({ agents: 1, hub: { screen: false }, config: { maxOpenProposals: 1 } });
      try {
        await one.agent('aar-1').propose(await req(one, 'aar-1'));
        const err = await refused(one.agent('aar-1').propose(await req(one, 'aar-1')));
        assert.match(err.message, /allows 1 per agent/);
        assert.match(err.message, /already has 1 open proposal awaiting/);
      } finally {
        await one.close();
      }
      const none = await startHubFixture({ agents: 1, hub: { screen: false }, config: { maxOpenProposals: 0 } });
      try {
        for (let i = 0; i < 5; i++) await none.agent('aar-1').propose(await req(none, 'aar-1'));
        assert.equal(none.service.state.experimentsOf('aar-1').length, 5);
      } finally {
        await none.close();
      }
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-cap-'));
      try {
        await createFleet(dir, { name: 'bad', agents: [{ id: 'aar-1', direction: 'd' }], config: { maxOpenProposals: 'three' } });
        await assert.rejects(startHub({ fleetDir: dir }), /maxOpenProposals must be a non-negative integer \(0 = no limit\), got "three"/);
        assert.ok(!fs.existsSync(path.join(dir, 'hub.json')), 'no hub left behind');
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  it('the simulator gets the 429 and waits for decisions instead of crashing', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-cap-sim-'));
    try {
      fs.writeFileSync(path.join(dir, 'fleet.json'), JSON.stringify({ maxOpenProposals: 1 }));
      const r = await simulateFleet({ fleetDir: dir, agents: 3, seed: 5, steps: 4, reviewer: false, noSync: true });
      const deferred = r.actions.filter((x) => x.kind === 'propose-deferred');
      assert.ok(deferred.length >= 1, `no proposal was deferred: ${r.actions.map((x) => x.kind).join(',')}`);
      assert.ok(deferred.every((x) => /maxOpenProposals/.test(x.detail)));
      const svc = await FleetService.open(dir, { noSync: true });
      try {
        for (const id of ['agent-1', 'agent-2', 'agent-3']) {
          const open = svc.state.experimentsOf(id).filter((x) => UNDECIDED.includes(x.state)).length;
          assert.ok(open <= 1, `${id} has ${open} open proposals`);
        }
      } finally {
        await svc.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
