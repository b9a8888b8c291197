import * as assert from 'node:assert/strict';
import type { AutoApproval } from '../../../src/core/fleet';
import type { PolicyView } from '../../../src/hub/api';
import { HOUR_MS, PolicyModel, auditOrder, describeRules, fleetPolicyPreview, lastHour, type PolicyNode } from '../../../src/host/trees/policyModel';

const NOW = Date.parse('2026-12-01T12:00:00.000Z');
const iso = (msBefore: number) => new Date(NOW - msBefore).toISOString();

function auto(id: string, seq: number, msBefore: number, extra: Partial<AutoApproval & { title: string }> = {}): AutoApproval & { title: string } {
  return { experimentId: id, agentId: 'agent-a', rule: 'low-risk', version: 2, setBy: 'alice', sampled: false, seq, ts: iso(msBefore), title: '', ...extra };
}

function view(extra: Partial<PolicyView> = {}): PolicyView {
  return {
    policy: {
      version: 2,
      setBy: 'alice',
      seq: 10,
      ts: iso(2 * HOUR_MS),
      rules: [
        { name: 'low-risk', expr: 'risk == "low" && gpu_hours <= 1.0' },
        { name: 'tiny', expr: 'gpu_hours <= 0.1' },
      ],
      auditShare: 0.25,
    },
    disabledRules: [],
    disabled: [],
    auditQueue: [],
    lastHour: [],
    autoApproved: 0,
    ...extra,
  };
}

describe('policy view model', () => {
  it('keeps only the last hour of automatic approvals, newest first', () => {
    const items = [auto('e1', 11, HOUR_MS + 1000), auto('e2', 12, HOUR_MS - 1000), auto('e3', 14, 5_000), auto('e4', 13, 60_000), auto('bad', 15, 0, { ts: 'not a date' })];
    assert.deepEqual(lastHour(items, NOW).map((a) => a.experimentId), ['e3', 'e4', 'e2']);
    // the window moves with the clock: e2 ages out two seconds later
    assert.deepEqual(lastHour(items, NOW + 2000).map((a) => a.experimentId), ['e3', 'e4']);
    const m = new PolicyModel(() => NOW + 2000);
    m.reset(view({ lastHour: items }));
    const recent = m.children({ kind: 'recentRoot' });
    assert.deepEqual(recent.map((n) => (n as Extract<PolicyNode, { kind: 'recent' }>).item.experimentId), ['e3', 'e4']);
    assert.equal(m.render({ kind: 'recentRoot' }).label, 'Approved by policy in the last hour (2)');
    const r = m.render(recent[0]!);
    assert.equal(r.open, 'e3');
    assert.match(String(r.description), /low-risk v2/);
  });

  it('orders the audit queue oldest first and leaves out audited or unsampled approvals', () => {
    const q = [auto('x3', 30, 10, { sampled: true }), auto('x1', 21, 50, { sampled: true }), auto('x2', 25, 40, { sampled: false }), auto('x4', 22, 30, { sampled: true, audit: { outcome: 'confirmed', by: 'bob', seq: 40 } })];
    assert.deepEqual(auditOrder(q).map((a) => a.experimentId), ['x1', 'x3']);
    const m = new PolicyModel(() => NOW);
    m.reset(view({ auditQueue: q }));
    assert.equal(m.render({ kind: 'auditRoot' }).label, 'Audit queue (2)');
    const kids = m.children({ kind: 'auditRoot' });
    assert.deepEqual(kids.map((k) => m.render(k).contextValue), ['policyAudit', 'policyAudit']);
    m.reset(view());
    assert.deepEqual(m.children({ kind: 'auditRoot' }).map((k) => k.kind), ['empty']);
    assert.equal(m.render({ kind: 'auditRoot' }).label, 'Audit queue (0)');
  });

  it('shows disabled rules with who and why, and only disabled rules get the enable action', () => {
    const m = new PolicyModel(() => NOW);
    m.reset(view({ disabledRules: ['tiny'], disabled: [{ rule: 'tiny', by: 'bob', reason: 'audit of exp-7 flagged: peeked at labels', ts: iso(120_000), seq: 30, experimentId: 'exp-7' }] }));
    const rules = m.children({ kind: 'policy' }) as Extract<PolicyNode, { kind: 'rule' }>[];
    assert.deepEqual(rules.map((r) => [r.name, r.disabled]), [['low-risk', false], ['tiny', true]]);
    const on = m.render(rules[0]!);
    const off = m.render(rules[1]!);
    assert.equal(on.contextValue, 'policyRule.enabled');
    assert.equal(off.contextValue, 'policyRule.disabled');
    assert.equal(off.icon, 'circle-slash');
    assert.match(String(off.description), /^disabled by bob 2m ago/);
    assert.match(String(off.tooltip), /why: audit of exp-7 flagged: peeked at labels/);
    const root = m.render({ kind: 'policy' });
    assert.equal(root.label, 'Approval policy v2');
    assert.match(String(root.description), /set by alice 2h ago · 25% audited · 1 rule disabled/);
  });

  it('says off when no policy is set, and shows a load error', () => {
    const m = new PolicyModel(() => NOW);
    m.reset(view({ policy: null }));
    assert.equal(m.render({ kind: 'policy' }).label, 'Approval policy: off');
    assert.equal(m.render({ kind: 'policy' }).expandable, false);
    assert.deepEqual(m.children({ kind: 'policy' }), []);
    const e = new PolicyModel(() => NOW);
    e.error = 'cannot reach hub';
    assert.equal(e.render({ kind: 'policy' }).label, 'Approval policy: unavailable');
  });

  it('shows agent titles, rule expressions and human names as plain text', () => {
    const m = new PolicyModel(() => NOW);
    const evil = 'ok\u202e\n[run](command:workbench.action.terminal.new) $(alert)';
    m.reset(
      view({
        policy: { ...view().policy!, setBy: 'eve\u200b', rules: [{ name: 'r\nx', expr: 'risk == "low"\n|| title.contains("\u202e")' }] },
        auditQueue: [auto('e1', 20, 1000, { sampled: true, agentId: 'agent\u202eb', title: evil })],
      }),
    );
    const item = m.render(m.children({ kind: 'auditRoot' })[0]!);
    for (const s of [item.label, item.description, item.tooltip!.split('\n')[0]]) {
      assert.ok(!/[\u202e\u200b\n]/.test(String(s)), JSON.stringify(s));
    }
    const rule = m.render(m.children({ kind: 'policy' })[0]!);
    assert.ok(!/[\u202e\n]/.test(`${rule.label}${rule.description}`), `${rule.label} ${rule.description}`);
    assert.ok(!/\u200b/.test(String(m.render({ kind: 'policy' }).description)));
  });

  it('checks fleet.json\'s approvalPolicy before loading it, with clear errors', () => {
    const p = fleetPolicyPreview({ approvalPolicy: { rules: [{ name: 'a', expr: 'true' }], auditShare: 0.5 } });
    assert.deepEqual(p, { rules: [{ name: 'a', expr: 'true' }], auditShare: 0.5 });
    assert.throws(() => fleetPolicyPreview({}), /no "approvalPolicy"/);
    assert.throws(() => fleetPolicyPreview({ approvalPolicy: { rules: 'x' } }), /must be a list/);
    assert.throws(() => fleetPolicyPreview({ approvalPolicy: { rules: [{ name: 'a' }] } }), /rules\[0\].*needs an "expr"/);
    assert.throws(() => fleetPolicyPreview({ approvalPolicy: { rules: [], auditShare: 2 } }), /auditShare/);
    const d = describeRules([{ name: 'n\u202e', expr: 'a\nb' }, { name: 'm', expr: 'c' }], 1);
    assert.equal(d.split('\n').length, 2);
    assert.match(d, /… and 1 more/);
    assert.ok(!/\u202e/.test(d));
  });
});
