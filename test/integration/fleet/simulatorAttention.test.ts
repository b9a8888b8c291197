// The simulator's attention options against a real in-process hub (real git, screening, triage): sweeps an
// agent proposes are the sweeps the hub groups; gaming agents game repeatedly with gamingEvery; a reviewer with
// an attention budget never decides more than its budget per round; and the options left out change nothing.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DEMO_POLICY } from '../../../src/core/policy';
import { FleetService } from '../../../src/core/service';
import { GAMING_KINDS } from '../../../src/fleet/simulatedCode';
import { SIM_REVIEWER, prepareSimulatedFleet, simulateFleet, type SimulationResult } from '../../../src/fleet/simulator';
import { groupSweeps } from '../../../src/hub/attention';

const DECISIONS = new Set(['approve', 'veto', 'request-changes', 'decision-refused']);

describe('fleet simulator: sweeps, repeated gaming and a reviewer with an attention budget', function () {
  this.timeout(120_000);
  const dirs: string[] = [];
  const fresh = () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-sim-attention-'));
    dirs.push(d);
    return d;
  };
  after(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  let run: SimulationResult;
  let runDir: string;
  const perRound = 2;
  before(async () => {
    runDir = fresh();
    // six agents: all five gaming styles and one honest agent; every proposal whose idea has a parameter is a sweep
    run = await simulateFleet({ fleetDir: runDir, agents: 6, seed: 21, steps: 9, noSync: true, sweeps: 1, gamingEvery: 2, reviewer: { decisionsPerRound: perRound, sweeps: true } });
  });

  it('proposes sweeps the hub groups: same base, one config file, only the parameter value differs', async () => {
    const bySweep = new Map<string, string[]>();
    for (const r of run.experiments!) if (r.sweep) bySweep.set(r.sweep, [...(bySweep.get(r.sweep) ?? []), r.id]);
    assert.ok(bySweep.size >= 1, 'no agent proposed a sweep');
    for (const ids of bySweep.values()) assert.ok(ids.length >= 2 && ids.length <= 3, `a sweep of ${ids.length}`);
    const svc = await FleetService.open(runDir, { noSync: true });
    try {
      const xs = [...svc.state.experiments.values()];
      const hubSweeps = await groupSweeps({ service: svc, fleetDir: runDir }, xs);
      for (const ids of bySweep.values()) {
        const g = hubSweeps.find((s) => s.experimentIds.includes(ids[0]!));
        assert.ok(g, `the hub does not group the simulated sweep ${ids.join(', ')}`);
        assert.deepEqual([...g.experimentIds].sort(), [...ids].sort());
        const members = ids.map((id) => svc.state.experiment(id)!);
        assert.equal(new Set(members.map((x) => x.baseCommit)).size, 1, 'members branch from different bases');
        assert.equal(new Set(members.map((x) => x.command)).size, 1, 'members run different commands');
        assert.equal(new Set(members.map((x) => x.branch)).size, ids.length, 'members share a branch');
        assert.ok(g.params.some((p) => ['aux_weight', 'rounds', 'threshold'].includes(p.name)), `the sweep varies ${g.params.map((p) => p.name).join(', ')}`);
      }
      // and the reviewer saw them as sweeps in GET /api/triage: one decision named a whole sweep
      assert.ok(run.actions.some((a) => a.agent === SIM_REVIEWER && DECISIONS.has(a.kind) && a.detail.startsWith('sweep ')), 'no sweep was decided as one row');
    } finally {
      await svc.close();
    }
  });

  it('with gamingEvery, every gaming style games more than once', () => {
    const styles = new Set(Object.values(run.gaming));
    assert.deepEqual([...styles].sort(), [...GAMING_KINDS].sort());
    for (const [agent, style] of Object.entries(run.gaming)) {
      if (style === 'probing') {
        // the probing agent queries the evaluation service (no proposal of its own): it comes back to it
        const rounds = new Set(run.actions.filter((a) => a.agent === agent && (a.kind === 'evaluate' || a.kind === 'evaluate-refused')).map((a) => a.round));
        assert.ok(rounds.size >= 2, `probing happened in rounds ${[...rounds].join(', ')}`);
      } else {
        const gamingProposals = run.experiments!.filter((r) => r.agent === agent && r.gaming === style);
        assert.ok(gamingProposals.length >= 2, `${style}: ${gamingProposals.length} gaming proposal(s)`);
        assert.ok(new Set(gamingProposals.map((r) => r.proposedRound)).size >= 2, `${style}: all gaming proposals in one round`);
      }
    }
    // every proposal of a code-gaming style that screening saw was vetoed by the reviewer, never approved
    const approvedGaming = run.experiments!.filter((r) => r.gaming && r.gaming !== 'probing' && r.decision === 'approved');
    assert.deepEqual(approvedGaming.map((r) => r.name), []);
  });

  it('the budgeted reviewer makes at most decisionsPerRound decisions a round, and records who decided when', () => {
    const perRoundActions = new Map<number, number>();
    for (const a of run.actions) if (a.agent === SIM_REVIEWER && DECISIONS.has(a.kind)) perRoundActions.set(a.round, (perRoundActions.get(a.round) ?? 0) + 1);
    assert.ok([...perRoundActions.values()].some((n) => n === perRound), 'the reviewer never used its full budget: the test does not exercise it');
    for (const [r, n] of perRoundActions) assert.ok(n <= perRound, `round ${r}: ${n} decisions`);
    // records agree: human decisions occupy at most decisionsPerRound slots a round
    const slots = new Map<number, Set<number>>();
    for (const r of run.experiments!) {
      if (r.decidedBy !== 'human') continue;
      assert.ok(r.decidedRound! >= r.proposedRound, `${r.name} decided before it was proposed`);
      assert.ok(r.slot! >= 0 && r.slot! < perRound, `${r.name} slot ${r.slot}`);
      slots.set(r.decidedRound!, (slots.get(r.decidedRound!) ?? new Set()).add(r.slot!));
    }
    for (const [r, s] of slots) assert.ok(s.size <= perRound, `round ${r}: ${s.size} slots`);
    // no policy was loaded: nothing was approved automatically; some proposals are still waiting
    assert.ok(run.experiments!.every((r) => r.decidedBy !== 'policy'));
    assert.ok(run.experiments!.some((r) => r.decidedRound === undefined && !r.closed), 'the queue never backed up');
  });

  it('with fleet.json approvalPolicy loaded by the reviewer, the policy approves first and never a gaming proposal', async () => {
    const dir = fresh();
    await prepareSimulatedFleet(dir, { agents: 6, seed: 21, noSync: true });
    // without an approvalPolicy in fleet.json, loading one is a clear error
    await assert.rejects(simulateFleet({ fleetDir: dir, agents: 6, seed: 21, steps: 1, noSync: true, reviewer: { decisionsPerRound: 1, sweeps: false, loadPolicy: true } }), /approvalPolicy/);
    const file = path.join(dir, 'fleet.json');
    const fleet = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(file, JSON.stringify({ ...fleet, approvalPolicy: { rules: DEMO_POLICY.rules, auditShare: 0 } }, null, 2));
    const r = await simulateFleet({ fleetDir: dir, agents: 6, seed: 22, steps: 8, noSync: true, gamingEvery: 3, reviewer: { decisionsPerRound: perRound, sweeps: false, loadPolicy: true } });
    const auto = r.experiments!.filter((x) => x.decidedBy === 'policy');
    assert.ok(auto.length >= 1, 'the policy approved nothing');
    assert.ok(auto.every((x) => x.decision === 'approved' && x.decidedRound === x.proposedRound), 'a policy approval came later than its round');
    assert.deepEqual(auto.filter((x) => x.gaming).map((x) => x.name), []);
    // the reviewer never spent a decision on what the policy approved
    const humanTouched = new Set(r.actions.filter((a) => a.agent === SIM_REVIEWER && DECISIONS.has(a.kind)).map((a) => a.detail.split(' ')[0]));
    assert.deepEqual(auto.filter((x) => humanTouched.has(x.id)).map((x) => x.name), []);
    const svc = await FleetService.open(dir, { noSync: true });
    try {
      for (const x of auto) assert.ok(svc.state.experiment(x.id)!.verdict?.policy, `${x.name} has no policy verdict in the ledger`);
    } finally {
      await svc.close();
    }
  });

  it('options left out change nothing: the same normalized actions as a run with them off', async () => {
    const base = { agents: 6, seed: 11, steps: 4, reviewer: true, noSync: true } as const;
    const omitted = await simulateFleet({ fleetDir: fresh(), ...base });
    const off = await simulateFleet({ fleetDir: fresh(), ...base, sweeps: false, gamingEvery: undefined, stopAfterProposals: undefined });
    assert.ok(omitted.normalized.length > 40, `only ${omitted.normalized.length} actions`);
    assert.deepEqual(off.normalized, omitted.normalized);
    // and as before: no sweeps, each gaming agent games once
    assert.ok(omitted.experiments!.every((r) => !r.sweep));
    for (const [agent, style] of Object.entries(omitted.gaming)) {
      if (style !== 'probing') assert.ok(omitted.experiments!.filter((r) => r.agent === agent && r.gaming).length <= 1, `${style} gamed more than once`);
    }
  });
});
