// Approval policies over HTTP with real git sandboxes and the real screener: off by default, set only by
// humans (a ledger event), never approve flagged or high-risk proposals, sample approvals into a post-hoc
// audit queue, and a flag pauses the agent and disables the rule until a human re-enables it.
import * as assert from 'node:assert/strict';
import type { ProposeRequest } from '../../../src/hub/api';
import { HubError } from '../../../src/hub/client';
import { DEMO_POLICY } from '../../../src/core/policy';
import { startHubFixture, type HubFixture } from '../../support/hubFixture';

const small = { gpus: 1, gpuHours: 1, timeLimitMinutes: 30 };
let n = 0;
async function propose(fx: HubFixture, agentId: string, files: Record<string, string>, resources = small) {
  const commit = await fx.commit(agentId, files, `change ${++n}`);
  const body: ProposeRequest = { commit, command: `python train.py --seed ${n}`, title: `try ${n}`, rationale: 'r', resources, taskMode: 'normal' };
  const x = await fx.agent(agentId).propose(body);
  await fx.hub.idle();
  return fx.human.getExperiment(x.id);
}
const status = (e: unknown) => (e instanceof HubError ? e.status : -1);

describe('approval policies', function () {
  let fx: HubFixture;
  before(async () => {
    fx = await startHubFixture({ agents: 3, config: { approvalPolicy: { rules: DEMO_POLICY.rules, auditShare: 1 }, tasks: { default: { protectedPaths: ['eval/**'] } } } });
  });
  after(async () => fx?.close());

  it('is off by default: nothing is approved without a human', async () => {
    const x = await propose(fx, 'aar-1', { 'notes.txt': 'a\n' });
    assert.equal(x.risk!.level, 'low', JSON.stringify(x.risk));
    assert.equal(x.state, 'awaiting_review');
    assert.equal((await fx.human.request<{ policy: unknown }>('GET', '/api/policy')).policy, null);
  });

  it('an agent or a job token cannot change policy', async () => {
    await assert.rejects(fx.agent('aar-1').request('POST', '/api/policy', { rules: [{ name: 'all', expr: 'true' }] }), (e) => status(e) === 403);
    await assert.rejects(fx.agent('aar-1').request('GET', '/api/policy'), (e) => status(e) === 403);
    const job = fx.hub.tokens.create({ kind: 'agent', id: 'aar-1' }, { experimentId: 'exp-1' } as never).token;
    const { HubClient } = await import('../../../src/hub/client');
    await assert.rejects(new HubClient(fx.url, job).request('POST', '/api/policy', { rules: [{ name: 'all', expr: 'true' }] }), (e) => status(e) === 403);
    await assert.rejects(fx.service.setPolicy({ kind: 'agent', id: 'aar-1' }, { rules: [{ name: 'all', expr: 'true' }] }), /only a human/);
    await assert.rejects(fx.service.setPolicy({ kind: 'system', id: 'overseer' }, { rules: [{ name: 'all', expr: 'true' }] }), /only a human/);
    assert.equal(fx.service.state.policy, undefined);
    // a malformed rule is refused with its name
    await assert.rejects(fx.human.request('POST', '/api/policy', { rules: [{ name: 'bad', expr: 'risk == ' }] }), (e) => status(e) === 400 && /rule "bad"/.test((e as Error).message));
  });

  it('a human sets the policy from fleet.json (a ledger event, in the audit trail); low-risk work is approved naming rule, version and human', async () => {
    const v = await fx.human.request<{ policy: { version: number; setBy: string } }>('POST', '/api/policy', { fromFleetJson: true });
    assert.equal(v.policy.version, 1);
    assert.equal(v.policy.setBy, 'alice');
    const audit = fx.service.state.auditTrail();
    assert.ok(audit.some((a) => a.type === 'policy.set' && a.actor.id === 'alice'));
    await fx.hub.idle();
    // the proposal waiting since before the policy is approved now
    const x = await propose(fx, 'aar-1', { 'notes.txt': 'b\n' });
    assert.equal(x.state, 'approved', JSON.stringify(x.risk));
    const ev = (await fx.service.ledger.readAfter(0)).find((e) => e.type === 'experiment.approved' && e.data.experimentId === x.id)!;
    assert.deepEqual(ev.actor, { kind: 'system', id: 'overseer' });
    assert.deepEqual((ev.data as { policy?: unknown }).policy, { rule: 'low-risk-small', version: 1, setBy: 'alice', sampled: true });
    assert.equal((ev.data as { commit: string }).commit, x.commit);
  });

  it('never approves a proposal flagged by screening, high risk, or too costly for the rule', async () => {
    // permissive rule: proves the hard limits, not the rule, refuse
    await fx.human.request('POST', '/api/policy', { rules: [{ name: 'everything', expr: 'true' }], auditShare: 0 });
    await fx.hub.idle();
    const flagged = await propose(fx, 'aar-2', { 'eval.py': 'labels = open("/data/test_labels.json").read()\n' });
    assert.ok(flagged.screening!.findings.some((f) => ['medium', 'high', 'critical'].includes(f.severity)));
    assert.equal(flagged.state, 'awaiting_review');
    const prot = await propose(fx, 'aar-2', { 'eval/scorer.py': 'def score(p, y): return 1.0\n' });
    assert.ok(['high', 'critical'].includes(prot.risk!.level), JSON.stringify(prot.risk));
    assert.equal(prot.state, 'awaiting_review');
    await fx.human.request('POST', '/api/policy', { fromFleetJson: true });
    await fx.hub.idle();
    const big = await propose(fx, 'aar-3', { 'notes.txt': 'c\n' }, { gpus: 1, gpuHours: 5, timeLimitMinutes: 30 });
    assert.equal(big.state, 'awaiting_review', 'gpu_hours <= 1.0 is not met');
  });

  it('sampled approvals land in the audit queue; a flag pauses the agent and disables the rule until a human re-enables it', async () => {
    const x = await propose(fx, 'aar-3', { 'notes.txt': 'd\n' });
    assert.equal(x.state, 'approved');
    const p = await fx.human.request<{ auditQueue: { experimentId: string }[]; lastHour: unknown[] }>('GET', '/api/policy');
    assert.ok(p.auditQueue.some((a) => a.experimentId === x.id));
    assert.ok(p.lastHour.length >= 1);
    await assert.rejects(fx.agent('aar-3').request('POST', `/api/audits/${x.id}`, { outcome: 'confirm' }), (e) => status(e) === 403);
    const after = await fx.human.policy().then(() => fx.human.auditApproval(x.id, { outcome: 'flag', reason: 'this was not a small change' }));
    assert.deepEqual(after.disabledRules, ['low-risk-small']);
    // who disabled it, when and why: the flagging human, from the ledger (shown in the Policy view and the CLI)
    assert.equal(after.disabled?.length, 1);
    assert.deepEqual({ ...after.disabled![0]!, ts: undefined, seq: undefined }, { rule: 'low-risk-small', by: 'alice', reason: `audit of ${x.id} flagged: this was not a small change`, experimentId: x.id, ts: undefined, seq: undefined });
    assert.ok(!after.auditQueue.some((a) => a.experimentId === x.id));
    assert.equal(fx.service.state.agent('aar-3')!.status, 'paused');
    // the disabled rule approves nothing
    const y = await propose(fx, 'aar-1', { 'notes.txt': 'e\n' });
    assert.equal(y.state, 'awaiting_review');
    await assert.rejects(fx.agent('aar-1').request('POST', '/api/policy/rules/low-risk-small/enable', {}), (e) => status(e) === 403);
    const enabled = await fx.human.enablePolicyRule('low-risk-small');
    assert.deepEqual([enabled.disabledRules, enabled.disabled], [[], []]);
    await fx.hub.idle();
    assert.equal((await fx.human.getExperiment(y.id)).state, 'approved');
    const trail = fx.service.state.auditTrail().map((a) => a.type);
    for (const t of ['audit.flagged', 'policy.rule_disabled', 'agent.paused', 'policy.rule_enabled']) assert.ok(trail.includes(t), t);
  });
});
