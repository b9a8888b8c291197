import * as assert from 'node:assert/strict';
import type { Experiment, ExperimentState } from '../../../src/core/model';
import { QueueModel, computeExperimentView, experimentView, categoryOf } from '../../../src/host/trees/queueModel';
import { plain } from '../../../src/host/text';
import { resolveFleetDir } from '../../../src/host/fleetDir';

function exp(id: string, state: ExperimentState, seq: number, extra: Partial<Experiment> = {}): Experiment {
  return {
    id,
    agentId: 'agent-1',
    title: `title ${id}`,
    rationale: '',
    command: 'python train.py',
    resources: { gpus: 1, gpuHours: 2, timeLimitMinutes: 60 },
    taskMode: 'normal',
    commit: 'a'.repeat(40),
    tree: 'b'.repeat(40),
    state,
    proposedSeq: seq,
    proposedAt: new Date(0).toISOString(),
    history: [],
    ...extra,
  };
}

describe('QueueModel', () => {
  it('groups awaiting review first, oldest first, and reports minimal deltas', () => {
    const m = new QueueModel();
    m.reset([exp('e3', 'approved', 3), exp('e2', 'awaiting_review', 2), exp('e1', 'awaiting_review', 1), exp('e4', 'vetoed', 4)]);
    assert.deepEqual(m.groupList().map((g) => g.state), ['awaiting_review', 'approved', 'vetoed']);
    assert.deepEqual(m.children('awaiting_review').map((x) => x.id), ['e1', 'e2']);
    assert.equal(m.awaitingCount(), 2);

    // Same state: only the item changes.
    let d = m.upsert(exp('e1', 'awaiting_review', 1, { title: 'renamed' }));
    assert.deepEqual(d, { root: false, groups: [], items: ['e1'] });
    assert.equal(m.children('awaiting_review')[0]!.title, 'renamed');
    // Move between two non-empty groups: both groups, not the root.
    d = m.upsert(exp('e1', 'approved', 1));
    assert.deepEqual(d, { root: false, groups: ['awaiting_review', 'approved'], items: [] });
    assert.deepEqual(m.children('approved').map((x) => x.id), ['e1', 'e3']);
    // Emptying a group or creating one changes the root.
    d = m.upsert(exp('e2', 'running', 2));
    assert.equal(d.root, true);
    assert.deepEqual(m.groupList().map((g) => g.state), ['approved', 'running', 'vetoed']);
    assert.equal(m.awaitingCount(), 0);
    // New experiment into an existing group.
    d = m.upsert(exp('e5', 'vetoed', 5));
    assert.deepEqual(d, { root: false, groups: ['vetoed'], items: [] });
    assert.equal(m.size, 5);
  });

  it('triage order lists undecided experiments, awaiting review first', () => {
    const m = new QueueModel();
    m.reset([exp('p', 'proposed', 1), exp('s', 'screening', 2), exp('a2', 'awaiting_review', 4), exp('a1', 'awaiting_review', 3), exp('x', 'approved', 0)]);
    assert.deepEqual(m.triageOrder().map((x) => x.id), ['a1', 'a2', 's', 'p']);
  });

  it('experiment views flag gaming, sanitize hostile titles and encode the category for menus', () => {
    const hostile = exp('e9', 'awaiting_review', 9, {
      title: 'ok\u202etxt.exe\n<script>alert(1)</script>[x](command:workbench.action.terminal.new)' + 'A'.repeat(10_000),
      screening: { gaming: true, score: 0.9, findings: [{ kind: 'label_read', severity: 'high', file: 'x.py', line: 3, explanation: 'reads labels', confidence: 0.9, source: 'static' }] },
      supersedes: 'e8',
    });
    const v = experimentView(hostile);
    assert.ok(!v.label.includes('\u202e') && !v.label.includes('\n'));
    assert.match(v.label, /^ok⟦RLO U\+202E⟧txt\.exe /);
    assert.match(v.label, /⚠ bidi control$/);
    assert.ok(v.label.length <= 120);
    assert.equal(v.icon, 'warning');
    assert.equal(v.contextValue, 'experiment.undecided.gaming.followup');
    assert.match(v.description, /gaming suspected/);
    assert.match(v.tooltip, /GAMING SUSPECTED/);
    const clean = experimentView(exp('e1', 'running', 1, { run: { runner: 'local', jobId: 'j', commit: 'a'.repeat(40), tree: 'b'.repeat(40), dispatchedAt: '' } }));
    assert.equal(clean.contextValue, 'experiment.running');
    assert.match(clean.description, /running on local/);
    assert.equal(categoryOf('scored'), 'finished');
    assert.equal(categoryOf('superseded'), 'closed');
  });

  it('plain() marks bidi/control characters (never deletes them) and caps length', () => {
    assert.equal(plain('a\u202eb\u2066c\u0000d\r\ne', 100), 'a⟦RLO U+202E⟧b⟦LRI U+2066⟧c⟦NUL U+0000⟧d e');
    assert.equal(plain('x'.repeat(1000), 10).length, 10);
    assert.equal(plain(undefined), '');
  });
});

describe('resolveFleetDir', () => {
  const base = { globalStorage: '/gs', exists: (p: string) => p === '/w2/ledger.jsonl' };
  it('prefers the setting, then a workspace fleet, then .overseer/fleet', () => {
    assert.deepEqual(resolveFleetDir({ ...base, setting: 'fleets/a', folders: ['/w1'] }), { dir: '/w1/fleets/a', reason: 'setting' });
    assert.deepEqual(resolveFleetDir({ ...base, setting: '${workspaceFolder}/f', folders: ['/w1'] }), { dir: '/w1/f', reason: 'setting' });
    assert.deepEqual(resolveFleetDir({ ...base, setting: '', folders: ['/w1', '/w2'] }), { dir: '/w2', reason: 'workspace-fleet' });
    assert.deepEqual(resolveFleetDir({ ...base, setting: undefined, folders: ['/w1'] }), { dir: '/w1/.overseer/fleet', reason: 'default' });
    assert.deepEqual(resolveFleetDir({ ...base, setting: ' ', folders: [] }), { dir: '/gs/.overseer/fleet', reason: 'default' });
  });
});

describe('queue model: risk', () => {
  it('undecided groups sort by risk then age; a risk change moves the item; the badge is in the description', () => {
    const QM = QueueModel;
    const view = experimentView;
    const base = { agentId: 'a1', title: 't', rationale: '', command: 'c', resources: { gpus: 1, gpuHours: 1, timeLimitMinutes: 5 }, taskMode: 'normal' as const, commit: 'a'.repeat(40), tree: 'a'.repeat(40), state: 'awaiting_review' as const, proposedAt: '', history: [] };
    const r = (level: 'low' | 'high' | 'critical') => ({ level, reasons: [{ level, text: `${level} because` }] });
    const m = new QM();
    m.reset([
      { ...base, id: 'old-low', proposedSeq: 1, risk: r('low') },
      { ...base, id: 'new-high', proposedSeq: 5, risk: r('high') },
      { ...base, id: 'mid-low', proposedSeq: 3, risk: r('low') },
    ]);
    assert.deepEqual(m.children('awaiting_review').map((x) => x.id), ['new-high', 'old-low', 'mid-low']);
    const d = m.upsert({ ...base, id: 'mid-low', proposedSeq: 3, risk: r('critical') });
    assert.deepEqual(d.groups, ['awaiting_review']);
    assert.deepEqual(m.children('awaiting_review').map((x) => x.id), ['mid-low', 'new-high', 'old-low']);
    assert.equal(m.urgentCount(), 2, 'high and critical need a human now');
    const v = view(m.get('mid-low')!);
    assert.match(v.description, /^CRIT risk · a1/);
    assert.match(v.tooltip, /risk: critical\n  • \[critical\] critical because/);
  });

  it('computes an experiment view once per version: the same object answers from the cache, a new version afresh', () => {
    const m = new QueueModel();
    const v1 = exp('e1', 'awaiting_review', 1, { title: 'lr \u202e sweep', risk: { level: 'low', reasons: [{ level: 'low', text: 'small diff' }] } });
    m.reset([v1]);
    const a = experimentView(m.get('e1')!);
    assert.equal(experimentView(m.get('e1')!), a, 'same version: the cached view itself');
    assert.deepEqual(a, computeExperimentView(v1), 'the cached view is the computed one');
    assert.match(a.label, /⟦RLO U\+202E⟧/);
    // the hub sends a new version (risk rose, screening flagged): the view follows it
    const v2 = { ...v1, risk: { level: 'critical' as const, reasons: [{ level: 'critical' as const, text: 'reads the labels' }] }, screening: { gaming: true, score: 0.9, findings: [] } };
    m.upsert(v2);
    const b = experimentView(m.get('e1')!);
    assert.notEqual(b, a);
    assert.match(b.description, /^CRIT risk/);
    assert.match(b.description, /gaming suspected/);
    assert.match(b.tooltip, /reads the labels/);
    assert.equal(experimentView(v1), a, 'the old version keeps its own view');
  });
});
