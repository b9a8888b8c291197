// The Queue view's sweeps: undecided members of an open sweep are one row under "Awaiting review", in the
// triage order by the highest member risk then the oldest member; members leaving (decided, superseded)
// shrink the row; a sweep of one is no longer a sweep. And the sweep approval rule (critical / gaming
// refused, confirmation above low).
import * as assert from 'node:assert/strict';
import type { Experiment, ExperimentState } from '../../../src/core/model';
import type { Risk, RiskLevel } from '../../../src/core/risk';
import type { Sweep } from '../../../src/hub/attention';
import { QueueModel, sweepMemberOf, sweepView } from '../../../src/host/trees/queueModel';
import { DecideSweep, sweepApproval } from '../../../src/shared/reviewProtocol';

const risk = (level: RiskLevel, text = `${level} because`): Risk => ({ level, reasons: [{ level, text }, { level: 'low', text: 'agent has 1 vetoed proposal' }] });

function exp(id: string, seq: number, level: RiskLevel, extra: Partial<Experiment> = {}): Experiment {
  return {
    id,
    agentId: 'agent-1',
    title: `title ${id}`,
    rationale: '',
    command: 'python train.py',
    resources: { gpus: 1, gpuHours: 1, timeLimitMinutes: 30 },
    taskMode: 'normal',
    commit: String(seq).padStart(40, 'c'),
    tree: 't'.repeat(40),
    state: 'awaiting_review' as ExperimentState,
    proposedSeq: seq,
    proposedAt: new Date(0).toISOString(),
    history: [],
    screening: { gaming: false, score: 0, findings: [] },
    risk: risk(level),
    ...extra,
  };
}

function sweep(ids: string[], values: string[], name = 'lr'): Sweep {
  return { id: ids[0]!, baseCommit: 'b'.repeat(40), agentIds: ['agent-1'], experimentIds: ids, params: [{ name, values }], label: `${name} ∈ {${values.join(', ')}} · ${ids.length} experiments` };
}

const rowsOf = (m: QueueModel, s: ExperimentState = 'awaiting_review') => m.rows(s).map((r) => `${r.kind === 'sweep' ? 'S:' : ''}${r.id}`);

describe('QueueModel: sweeps', () => {
  it('groups undecided members into one row, sorted by the highest member risk, then the oldest member', () => {
    const m = new QueueModel();
    m.reset([exp('a', 1, 'low'), exp('b', 2, 'low'), exp('c', 3, 'medium'), exp('d', 4, 'medium'), exp('e', 5, 'low'), exp('x', 6, 'approved' as never, { state: 'approved' })]);
    assert.deepEqual(rowsOf(m), ['c', 'd', 'a', 'b', 'e']);
    const d = m.setSweeps([sweep(['b', 'd', 'e'], ['1e-5', '3e-5', '1e-4'])]);
    assert.deepEqual(d, { root: false, groups: ['awaiting_review'], items: [] });
    // the sweep ranks as medium (its member d) aged as its oldest member b (seq 2): before c (medium, seq 3)
    assert.deepEqual(rowsOf(m), ['S:b', 'c', 'a']);
    assert.equal(m.groupCount('awaiting_review'), 5, 'every experiment still counts, members under the sweep row');
    assert.equal(m.awaitingCount(), 5);
    assert.deepEqual(m.sweepMembers('b').map((x) => x.id), ['b', 'd', 'e']);
    assert.equal(m.sweepOf('e')?.id, 'b');
    assert.equal(m.sweepOf('a'), undefined);
    // the same sweeps again change nothing (the debounced refetch after every queue change is cheap)
    assert.deepEqual(m.setSweeps([sweep(['b', 'd', 'e'], ['1e-5', '3e-5', '1e-4'])]), { root: false, groups: [], items: [] });
    // the individual triage order (j/k, pickers) is unchanged
    assert.deepEqual(m.triageOrder().map((x) => x.id), ['c', 'd', 'a', 'b', 'e']);
  });

  it('a member whose risk rises moves the sweep row in the triage order', () => {
    const m = new QueueModel();
    m.reset([exp('a', 1, 'medium'), exp('b', 2, 'low'), exp('c', 3, 'low')]);
    m.setSweeps([sweep(['b', 'c'], ['1', '2'])]);
    assert.deepEqual(rowsOf(m), ['a', 'S:b']);
    const d = m.upsert(exp('c', 3, 'high'));
    assert.equal(d.root, false);
    assert.ok(d.groups.includes('awaiting_review'));
    assert.deepEqual(rowsOf(m), ['S:b', 'a']);
    assert.match(sweepView(m.sweep('b')!, m.sweepMembers('b')).description, /^HIGH risk · agent-1$/);
  });

  it('members in other undecided states join the row; a decided member leaves; a sweep of one is a normal row again', () => {
    const m = new QueueModel();
    m.reset([exp('a', 1, 'low'), exp('b', 2, 'low', { state: 'proposed' }), exp('c', 3, 'low'), exp('z', 9, 'low', { state: 'approved' })]);
    assert.deepEqual(m.groupList().map((g) => g.state), ['awaiting_review', 'proposed', 'approved']);
    let d = m.setSweeps([sweep(['a', 'b', 'c'], ['1', '2', '3'])]);
    assert.equal(d.root, true, 'the Proposed group disappears: its only experiment is in the sweep row');
    assert.deepEqual(m.groupList().map((g) => `${g.state}:${g.count}`), ['awaiting_review:3', 'approved:1']);
    assert.deepEqual(rowsOf(m), ['S:a']);

    // the first member is approved: it leaves, the row keeps the other two (and its id follows the first member)
    d = m.upsert(exp('a', 1, 'low', { state: 'approved' }));
    assert.deepEqual(d, { root: false, groups: ['awaiting_review', 'approved'], items: [] });
    assert.deepEqual(rowsOf(m), ['S:b']);
    assert.equal(m.sweep('b')!.label, 'lr ∈ {2, 3} · 2 experiments');
    assert.deepEqual(m.sweep('b')!.params, [{ name: 'lr', values: ['2', '3'] }]);
    assert.deepEqual(m.groupList().map((g) => `${g.state}:${g.count}`), ['awaiting_review:2', 'approved:2']);

    // c superseded: a sweep of one is no longer a sweep; b shows in its own group again
    d = m.upsert(exp('c', 3, 'low', { state: 'superseded' }));
    assert.equal(d.root, true);
    assert.deepEqual(m.groupList().map((g) => g.state), ['proposed', 'approved', 'superseded']);
    assert.deepEqual(rowsOf(m, 'proposed'), ['b']);
    assert.equal(m.sweepOf('b'), undefined);
    assert.equal(m.sweepList().length, 0);
  });

  it('ordinary changes keep their minimal deltas with sweeps present', () => {
    const m = new QueueModel();
    m.reset([exp('a', 1, 'low'), exp('b', 2, 'low'), exp('c', 3, 'low'), exp('v', 4, 'low', { state: 'vetoed' })]);
    m.setSweeps([sweep(['b', 'c'], ['1', '2'])]);
    // a title change of a member refreshes only its node
    assert.deepEqual(m.upsert(exp('b', 2, 'low', { title: 'renamed' })), { root: false, groups: [], items: ['b'] });
    // a non-member decided: its two groups only
    assert.deepEqual(m.upsert(exp('a', 1, 'low', { state: 'vetoed' })), { root: false, groups: ['awaiting_review', 'vetoed'], items: [] });
    assert.deepEqual(rowsOf(m), ['S:b']);
    // a new proposal arrives: one group; the sweep refetch that follows adds it to the sweep
    assert.deepEqual(m.upsert(exp('n', 5, 'low')), { root: false, groups: ['awaiting_review'], items: [] });
    const d = m.setSweeps([sweep(['b', 'c', 'n'], ['1', '2', '4'])]);
    assert.deepEqual(d, { root: false, groups: ['awaiting_review'], items: [] });
    assert.deepEqual(rowsOf(m), ['S:b']);
    assert.deepEqual(m.sweepMembers('b').map((x) => x.id), ['b', 'c', 'n']);
    // members the queue does not know (yet) and identical remaining values are not a sweep
    m.setSweeps([sweep(['b', 'ghost'], ['1', '2']), sweep(['c', 'n'], ['7', '7'], 'wd')]);
    assert.deepEqual(rowsOf(m), ['b', 'c', 'n']);
  });

  it('the sweep row sanitizes agent-derived names and values, lists each member in the tooltip and flags refusal', () => {
    const m = new QueueModel();
    m.reset([exp('a', 1, 'low'), exp('b', 2, 'critical'), exp('c', 3, 'low', { screening: { gaming: true, score: 0.9, findings: [] } })]);
    m.setSweeps([{ ...sweep(['a', 'b', 'c'], ['1\u202e', '2', '3$(zap)'], 'lr\nx') }]);
    const v = sweepView(m.sweep('a')!, m.sweepMembers('a'));
    assert.ok(!v.label.includes('\u202e') && !v.label.includes('\n'), v.label);
    assert.ok(!v.tooltip.includes('\u202e'));
    assert.match(v.tooltip, /^ {2}a: lr x=1⟦RLO U\+202E⟧ — LOW · c{12}$/m);
    assert.match(v.tooltip, /^ {2}c: lr x=3\$\(zap\) — LOW, ⚠ gaming suspected/m);
    assert.match(v.description, /^CRIT risk · agent-1 · approve members individually$/);
    assert.equal(v.contextValue, 'sweep.refused');
    assert.match(v.tooltip, /b is critical risk; c is flagged by screening for possible evaluation gaming/);
  });
});

describe('sweep approval rule', () => {
  it('refuses critical and gaming members, asks for confirmation above low with the reasons', () => {
    const low = exp('a', 1, 'low');
    const med = exp('b', 2, 'medium', { risk: risk('medium', 'adds network (1 site)') });
    assert.deepEqual(sweepApproval([low, exp('c', 3, 'low')].map(sweepMemberOf)), { refused: undefined, confirm: [], highest: 'low' });
    const r = sweepApproval([low, med].map(sweepMemberOf));
    assert.equal(r.refused, undefined);
    assert.equal(r.highest, 'medium');
    assert.deepEqual(r.confirm, [{ id: 'b', level: 'medium', reasons: ['adds network (1 site)'] }]);
    const unassessed = sweepApproval([{ id: 'u', gaming: false }, sweepMemberOf(low)]);
    assert.deepEqual(unassessed.confirm, [{ id: 'u', level: 'medium', reasons: ['risk not assessed'] }]);
    const crit = sweepApproval([low, exp('k', 4, 'critical')].map(sweepMemberOf));
    assert.match(crit.refused ?? '', /k is critical risk.*Approve those individually/);
    const gaming = sweepApproval([low, exp('g', 5, 'low', { screening: { gaming: true, score: 0.8, findings: [] } })].map(sweepMemberOf));
    assert.match(gaming.refused ?? '', /g is flagged by screening for possible evaluation gaming/);
  });
});

describe('review protocol: DecideSweep', () => {
  const SHA = 'a'.repeat(40);
  const m = (id: string) => ({ experimentId: id, commit: SHA, tree: SHA });
  it('takes a decision, 2..200 distinct members at full pins, and a reason for a veto or a request for changes', () => {
    assert.deepEqual(DecideSweep.validate({ sweepId: 'exp-1', decision: 'approve', members: [m('exp-1'), m('exp-2')] }), { sweepId: 'exp-1', decision: 'approve', members: [m('exp-1'), m('exp-2')], reason: undefined });
    assert.equal(DecideSweep.validate({ sweepId: 'exp-1', decision: 'veto', members: [m('exp-1'), m('exp-2')], reason: '  too costly ' }).reason, 'too costly');
    assert.throws(() => DecideSweep.validate({ sweepId: 'exp-1', decision: 'veto', members: [m('exp-1'), m('exp-2')], reason: ' ' }), /needs a reason/);
    assert.throws(() => DecideSweep.validate({ sweepId: 'exp-1', decision: 'approve', members: [m('exp-1')] }), /2\.\.200/);
    assert.throws(() => DecideSweep.validate({ sweepId: 'exp-1', decision: 'approve', members: [m('exp-1'), m('exp-1')] }), /each experiment once/);
    assert.throws(() => DecideSweep.validate({ sweepId: 'exp-1', decision: 'approve', members: [m('exp-1'), { ...m('exp-2'), commit: 'abc' }] }), /members\[1\]\.commit/);
    assert.throws(() => DecideSweep.validate({ sweepId: 'exp-1', decision: 'merge', members: [m('exp-1'), m('exp-2')] }), /decision/);
  });
});
