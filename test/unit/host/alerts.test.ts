import * as assert from 'node:assert/strict';
import type { AnyEvent } from '../../../src/core/events';
import { AlertGate, alertFor, type Alert, type AlertContext } from '../../../src/host/alerts';

let seq = 0;
const ev = (type: string, data: Record<string, unknown>, actor: AnyEvent['actor'] = { kind: 'system', id: 'overseer' }): AnyEvent =>
  ({ seq: ++seq, ts: new Date(0).toISOString(), type, actor, data, prev: '', hash: '' }) as unknown as AnyEvent;
const finding = (severity: string, kind = 'label_access') => ({ kind, severity, file: 'eval.py', line: 3, explanation: 'reads the held-out labels', confidence: 0.9, source: 'static' });
const ctx: AlertContext = {
  human: 'alice',
  experiment: (id) => (id === 'exp-1' ? { title: 'evil \u202etxt.exe title', agentId: 'aar-2' } : undefined),
};

describe('attention alerts: what interrupts the human', () => {
  it('ordinary events raise nothing: proposals, approvals, low findings, clean runs, a human pausing', () => {
    assert.equal(alertFor(ev('experiment.proposed', { experimentId: 'exp-1' }), ctx), undefined);
    assert.equal(alertFor(ev('experiment.approved', { experimentId: 'exp-1' }), ctx), undefined);
    assert.equal(alertFor(ev('experiment.screened', { experimentId: 'exp-1', report: { gaming: true, score: 0.8, findings: [finding('high'), finding('medium')] } }), ctx), undefined);
    assert.equal(alertFor(ev('run.report', { experimentId: 'exp-1', jobId: 'j', sandbox: 'bwrap', violations: 0, summary: 'clean', report: {} }), ctx), undefined);
    assert.equal(alertFor(ev('agent.paused', { agentId: 'aar-1', reason: 'looking at it' }, { kind: 'human', id: 'alice' }), ctx), undefined);
    assert.equal(alertFor(ev('agent.paused', { agentId: 'aar-1', reason: 'looking at it' }, { kind: 'human', id: 'bob' }), ctx), undefined, "another human's ordinary pause");
  });

  it('critical findings, probing alerts, run violations and budget stops do, with sanitized words', () => {
    const c = alertFor(ev('experiment.screened', { experimentId: 'exp-1', report: { gaming: true, score: 1, findings: [finding('high'), finding('critical'), finding('critical', 'scorer_edit')] } }), ctx)!;
    assert.equal(c.kind, 'critical_finding');
    assert.equal(c.level, 'error');
    assert.equal(c.experimentId, 'exp-1');
    assert.equal(c.agentId, 'aar-2');
    assert.match(c.text, /label_access at eval\.py:3 — reads the held-out labels \(\+1 more critical\)/);
    assert.ok(!c.text.includes('\u202e'), 'a bidi override is shown as a marker, not applied');
    assert.match(c.text, /RLO/);
    const p = alertFor(ev('eval.probing_suspected', { agentId: 'aar-3', dataset: 'digits', split: 'test', evidence: {}, suspended: true }), ctx)!;
    assert.equal(p.kind, 'probing');
    assert.match(p.text, /suspended until a human resumes it/);
    const r = alertFor(ev('run.report', { experimentId: 'exp-9', jobId: 'j', sandbox: 'bwrap', violations: 2, summary: '2 violation(s): read /labels; opened a socket', report: {} }), ctx)!;
    assert.equal(r.kind, 'run_violation');
    assert.match(r.text, /^The run of exp-9 tried 2 things its rules forbid: read \/labels; opened a socket/);
    const b = alertFor(ev('agent.paused', { agentId: 'aar-4', reason: 'model budget reached: $5.0000 of $5.00 spent' }, { kind: 'human', id: 'operator' }), ctx)!;
    assert.equal(b.kind, 'agent_stopped');
    assert.match(b.text, /aar-4 was paused by operator: model budget reached/);
    const s = alertFor(ev('agent.paused', { agentId: 'aar-5', reason: 'automatic approval of exp-3 flagged in audit' }), ctx)!;
    assert.equal(s.kind, 'agent_stopped');
  });

  it('the gate drops repeats of a subject, lets a burst of three through, then holds the rest for one summary', () => {
    const g = new AlertGate({ dedupeMs: 1000, burstWindowMs: 100, burst: 3 });
    const a = (k: string, kind: Alert['kind'] = 'run_violation', level: Alert['level'] = 'warning'): Alert => ({ kind, key: `${kind}:${k}`, level, text: k });
    assert.equal(g.offer(a('x'), 0), 'show');
    assert.equal(g.offer(a('x'), 10), 'duplicate');
    assert.equal(g.offer(a('y'), 10), 'show');
    assert.equal(g.offer(a('z'), 20), 'show');
    assert.equal(g.offer(a('p', 'probing', 'error'), 30), 'held');
    assert.equal(g.offer(a('q'), 40), 'held');
    assert.equal(g.pending, 2);
    assert.equal(g.flush(50), undefined, 'the burst window is still full');
    const s = g.flush(120)!;
    assert.equal(s.text, '2 more things need you: 1 probing alert, 1 run-report violation.');
    assert.equal(s.level, 'error');
    assert.equal(g.pending, 0);
    assert.equal(g.flush(500), undefined, 'nothing held');
    assert.equal(g.offer(a('x'), 1500), 'show', 'a repeat after the dedupe window is news again');
  });
});
