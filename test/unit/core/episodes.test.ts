// Agent episodes, the pure parts: which events are triggers, the fold (held proposals, evidence, release,
// resolution, probation, retire), the record risk reads after a resolution, fair triage order, and a probation
// condition in the policy evaluation.
import * as assert from 'node:assert/strict';
import type { AnyEvent } from '../../../src/core/events';
import { FleetState } from '../../../src/core/fleet';
import { EpisodeBook, agentRecord, fairOrder, triggerOf } from '../../../src/core/episodes';
import { evaluatePolicy, type Policy, type PolicyFacts } from '../../../src/core/policy';
import type { Experiment } from '../../../src/core/model';
import type { Risk } from '../../../src/core/risk';

const sha = (c: string) => c.repeat(40);
let seq = 0;
const ev = (type: string, data: Record<string, unknown>, actor: AnyEvent['actor'] = { kind: 'system', id: 'overseer' }, ts = new Date(Date.UTC(2026, 0, 1, 0, seq)).toISOString()): AnyEvent =>
  ({ seq: ++seq, ts, type, actor, data, prev: '', hash: '' }) as unknown as AnyEvent;
const HUMAN = { kind: 'human' as const, id: 'alice' };

function fleet(): FleetState {
  const st = new FleetState();
  for (const a of ['aar-1', 'aar-2']) st.apply(ev('agent.registered', { agentId: a, name: a, direction: 'd', repoPath: '/x', budget: { gpuHours: 10, usd: 1, evalQueries: 10 } }));
  return st;
}
function propose(st: FleetState, id: string, agentId: string, gaming = false): void {
  st.apply(ev('experiment.proposed', { experimentId: id, agentId, title: id, rationale: 'r', command: 'c', resources: { gpus: 1, gpuHours: 1, timeLimitMinutes: 10 }, taskMode: 'normal', commit: sha('a'), tree: sha('b') }, { kind: 'agent', id: agentId }));
  st.apply(ev('experiment.screened', { experimentId: id, report: { gaming, score: gaming ? 0.9 : 0, findings: [] } }));
}

describe('agent episodes (pure)', () => {
  it('triggers: a human veto of a flagged proposal, a probing alert, a run report with violations; nothing else', () => {
    const st = fleet();
    propose(st, 'exp-1', 'aar-1', true);
    propose(st, 'exp-2', 'aar-1', false);
    const x = (i: string) => st.experiment(i);
    assert.equal(triggerOf(ev('experiment.vetoed', { experimentId: 'exp-1', commit: sha('a'), tree: sha('b'), reason: 'gaming' }, HUMAN), x)?.trigger, 'gaming_veto');
    assert.equal(triggerOf(ev('experiment.vetoed', { experimentId: 'exp-2', commit: sha('a'), tree: sha('b'), reason: 'meh' }, HUMAN), x), undefined, 'an ordinary veto');
    assert.equal(triggerOf(ev('experiment.vetoed', { experimentId: 'exp-1', commit: sha('a'), tree: sha('b'), reason: 'x' }), x), undefined, 'not by a human');
    assert.equal(triggerOf(ev('eval.probing_suspected', { agentId: 'aar-2', dataset: 'd', split: 'test', evidence: {} }), x)?.agentId, 'aar-2');
    assert.equal(triggerOf(ev('run.report', { experimentId: 'exp-2', jobId: 'j', sandbox: 'bwrap', violations: 1, summary: 's', report: {} }), x)?.trigger, 'run_violation');
    assert.equal(triggerOf(ev('run.report', { experimentId: 'exp-2', jobId: 'j', sandbox: 'bwrap', violations: 0, summary: 's', report: {} }), x), undefined);
    assert.equal(triggerOf(ev('experiment.approved', { experimentId: 'exp-2', commit: sha('a'), tree: sha('b') }, HUMAN), x), undefined);
  });

  it('the fold holds open proposals of the agent only, collects evidence, releases, resolves once (humans only) and survives a snapshot', () => {
    const st = fleet();
    propose(st, 'exp-1', 'aar-1');
    propose(st, 'exp-2', 'aar-1');
    propose(st, 'exp-3', 'aar-2');
    st.apply(ev('episode.opened', { episodeId: 'ep-1', agentId: 'aar-1', trigger: 'probing_alert', reason: 'probing' }));
    const held = () => [...st.experiments.values()].filter((x) => st.episodes.isHeld(x)).map((x) => x.id);
    assert.deepEqual(held(), ['exp-1', 'exp-2']);
    propose(st, 'exp-4', 'aar-1');
    assert.deepEqual(held(), ['exp-1', 'exp-2', 'exp-4'], 'new proposals are held too');
    st.apply(ev('eval.probing_suspected', { agentId: 'aar-1', dataset: 'd', split: 'test', evidence: {} }));
    assert.deepEqual(st.episodes.openOf('aar-1')!.evidence.map((q) => q.kind), ['opened', 'probing_alert']);
    st.apply(ev('episode.released', { episodeId: 'ep-1', experimentId: 'exp-2' }, { kind: 'agent', id: 'aar-1' }));
    assert.deepEqual(held(), ['exp-1', 'exp-2', 'exp-4'], 'an agent cannot release');
    st.apply(ev('episode.released', { episodeId: 'ep-1', experimentId: 'exp-2' }, HUMAN));
    assert.deepEqual(held(), ['exp-1', 'exp-4']);
    assert.match(st.episodes.policyHold(st.experiment('exp-2')!)!, /released/);
    // a snapshot mid-episode folds on identically
    const copy = FleetState.fromJSON(JSON.parse(JSON.stringify(st.toJSON())));
    st.apply(ev('episode.resolved', { episodeId: 'ep-1', agentId: 'aar-1', action: 'resume', note: 'ok' }, { kind: 'system', id: 'overseer' }));
    assert.ok(st.episodes.openOf('aar-1'), 'only a human resolves');
    const resolved = ev('episode.resolved', { episodeId: 'ep-1', agentId: 'aar-1', action: 'probation', note: 'careful', probation: 'gpu_hours <= 0.5' }, HUMAN);
    for (const s of [st, copy]) {
      s.apply(resolved);
      assert.equal(s.episodes.openOf('aar-1'), undefined);
      assert.deepEqual(s.episodes.episodes.get('ep-1')!.resolution!.held, ['exp-1', 'exp-4']);
      assert.equal(s.episodes.probation.get('aar-1')?.expr, 'gpu_hours <= 0.5');
      assert.deepEqual([...s.experiments.values()].filter((x) => s.episodes.isHeld(x)), []);
    }
    assert.ok(st.inboxOf('aar-1').some((i) => i.text.includes('careful')), 'the note reaches the agent');
    assert.deepEqual(FleetState.fromJSON(JSON.parse(JSON.stringify(st.toJSON()))).episodes.toJSON(), st.episodes.toJSON());
  });

  it('the record risk reads starts after the last resolution', () => {
    const st = fleet();
    propose(st, 'exp-1', 'aar-1', true);
    st.apply(ev('experiment.vetoed', { experimentId: 'exp-1', commit: sha('a'), tree: sha('b'), reason: 'gaming' }, HUMAN));
    assert.equal(agentRecord(st, 'aar-1').vetoes, 1);
    st.apply(ev('episode.opened', { episodeId: 'ep-1', agentId: 'aar-1', trigger: 'gaming_veto', reason: 'r' }));
    st.apply(ev('episode.resolved', { episodeId: 'ep-1', agentId: 'aar-1', action: 'resume', note: 'n' }, HUMAN));
    assert.equal(agentRecord(st, 'aar-1').vetoes, 0);
    assert.equal(st.recordOf('aar-1').vetoes, 1, 'the full record is unchanged');
    propose(st, 'exp-2', 'aar-1');
    st.apply(ev('experiment.vetoed', { experimentId: 'exp-2', commit: sha('a'), tree: sha('b'), reason: 'again' }, HUMAN));
    assert.equal(agentRecord(st, 'aar-1').vetoes, 1);
  });

  it('retire: a retired agent is remembered', () => {
    const b = new EpisodeBook();
    const noX = () => undefined;
    b.apply(ev('episode.opened', { episodeId: 'ep-1', agentId: 'aar-1', trigger: 'human', reason: 'r' }), noX, () => []);
    b.apply(ev('episode.resolved', { episodeId: 'ep-1', agentId: 'aar-1', action: 'retire', note: 'n' }, HUMAN), noX, () => []);
    assert.ok(b.retired.has('aar-1'));
    assert.ok(EpisodeBook.fromJSON(JSON.parse(JSON.stringify(b.toJSON()))).retired.has('aar-1'));
    assert.equal(b.nextId(), 'ep-2');
  });

  it('fair triage: rows past their deadline go first (earliest deadline first), the rest by risk then age', () => {
    const risk = (level: Risk['level']): Risk => ({ level, reasons: [] });
    const rows = [
      { id: 'old-low', risk: risk('low'), proposedSeq: 1, at: 0 },
      { id: 'new-high', risk: risk('high'), proposedSeq: 5, at: 9 },
      { id: 'new-low', risk: risk('low'), proposedSeq: 6, at: 9 },
      { id: 'mid-med', risk: risk('medium'), proposedSeq: 3, at: 4 },
    ];
    const at = (r: (typeof rows)[number]) => r.at * 60_000;
    assert.deepEqual(fairOrder(rows, at, 9 * 60_000).map((r) => r.id), ['new-high', 'mid-med', 'old-low', 'new-low'], 'nothing overdue: risk then age');
    assert.deepEqual(fairOrder(rows, at, 11 * 60_000).map((r) => r.id), ['old-low', 'new-high', 'mid-med', 'new-low'], 'the 11-minute-old low-risk row is overdue');
    assert.deepEqual(fairOrder(rows, at, 15 * 60_000).map((r) => r.id), ['old-low', 'mid-med', 'new-high', 'new-low'], 'earliest deadline first among the overdue');
  });

  it('a probation condition must also hold for a rule to approve', () => {
    const x = { id: 'exp-1', agentId: 'aar-1', title: 't', command: 'c', resources: { gpus: 1, gpuHours: 1, timeLimitMinutes: 10 }, taskMode: 'normal', screening: { gaming: false, score: 0, findings: [] } } as unknown as Experiment;
    const f: PolicyFacts = { risk: { level: 'low', reasons: [] }, agent: { status: 'active', budget: { gpuHours: 10 }, used: { gpuHours: 0 } } as never, record: { vetoes: 0, openAlerts: 0, runViolations: 0 } };
    const p: Policy = { version: 1, setBy: 'alice', seq: 1, ts: '', rules: [{ name: 'all', expr: 'true' }], auditShare: 0 };
    assert.equal(evaluatePolicy(p, new Set(), x, f).approve, true);
    assert.deepEqual(evaluatePolicy(p, new Set(), x, { ...f, probation: 'gpu_hours <= 0.5' }), { approve: false, why: 'probation condition not met' });
    assert.equal(evaluatePolicy(p, new Set(), x, { ...f, probation: 'gpu_hours <= 2.0' }).approve, true);
    assert.deepEqual(evaluatePolicy(p, new Set(), x, { ...f, held: 'held by episode ep-1 of aar-1' }), { approve: false, why: 'held by episode ep-1 of aar-1' });
  });
});
