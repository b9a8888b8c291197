// The approval policy and its post-hoc audit inside a real extension host, against an embedded hub on a real
// fleet: a human sets a policy through the API, the policy approves a low-risk values-only proposal (audit share
// 1, so it is sampled), the Policy view lists it in the audit queue, Flag pauses the agent and disables the rule,
// Enable Rule turns it back on, Confirm clears a second sample, and fleet.json's policy loads after a modal.
// (That agent and job tokens cannot read or set policy is covered by test/integration/hub/policy.test.ts.)
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { FLEET_CONFIG } from '../../src/core/service';
import { HubClient } from '../../src/hub/client';
import type { PolicyView } from '../../src/hub/api';
import type { OverseerApi } from '../../src/host/extension';
import type { PolicyNode } from '../../src/host/trees/policyModel';
import { PolicyTreeProvider } from '../../src/host/trees/policyTree';
import { enterFleet, leaveFleet, until } from './host';
import { makeFixture, type Fixture } from './fixture';

const RULE = 'values-only-low';


type Node<K extends PolicyNode['kind']> = Extract<PolicyNode, { kind: K }>;

describe('Approval policy and audit queue in the extension host', function () {
  let api: OverseerApi;
  let fx: Fixture;
  let tmp: string;
  let agent: HubClient;
  let n = 0;

  /** A values-only change of train.py (one literal), 1 GPU-hour: low risk. */
  async function proposeValuesOnly(): Promise<string> {
    const { Sandbox } = await import('../../src/git/sandbox');
    const sb = new Sandbox(fx.agentRepo);
    const cur = await fs.promises.readFile(path.join(fx.agentRepo, 'train.py'), 'utf8');
    const sha = await sb.commitFiles({ 'train.py': cur.replace(/^x7 = \d+$/m, `x7 = ${70 + ++n}`) }, `x7 to ${70 + n}`);
    const x = await agent.propose({ commit: sha, command: 'python train.py', title: `Tune x7 <b>${n}</b> [run](command:workbench.action.terminal.new)`, rationale: 'r', resources: { gpus: 1, gpuHours: 1, timeLimitMinutes: 30 }, taskMode: 'normal' });
    return x.id;
  }

  async function autoApproved(id: string): Promise<void> {
    const deadline = Date.now() + 12_000;
    await until(`the policy to approve ${id}`, async () => {
      if (Date.now() > deadline) {
        const x = await api.conn.client.getExperiment(id);
        const t = await api.conn.client.triage();
        throw new Error(`${id} is ${x.state}, risk ${JSON.stringify(x.risk ?? t.experiments.find((q) => q.id === id)?.risk)}, screening ${JSON.stringify(x.screening)}`);
      }
      const x = await api.conn.client.getExperiment(id);
      if (!x.verdict) return false; // proposed, screening, awaiting review
      assert.equal(x.verdict?.policy?.rule, RULE, `${x.state} ${JSON.stringify(x.verdict)} risk ${JSON.stringify(x.risk)}`);
      return true;
    });
  }

  const children = async <K extends PolicyNode['kind']>(kind: 'policy' | 'auditRoot' | 'recentRoot') => (await api.policy.getChildren({ kind } as PolicyNode)) as Node<K>[];
  const ruleNode = async () => (await children<'rule'>('policy')).find((r) => r.kind === 'rule' && r.name === RULE)!;

  before(async function () {
    this.timeout(60_000);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-exthost-policy-'));
    fx = await makeFixture(path.join(tmp, 'fleet'));
    api = await enterFleet(fx.dir, 'policy tester');
    agent = new HubClient(api.conn.status.url!, fx.agentToken);
  });

  after(async () => {
    await leaveFleet(api, fx?.dir);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('shows the policy as off until a human sets one, then its version, author and rules', async () => {
    await api.policy.reload();
    const roots = await api.policy.getChildren();
    assert.deepEqual(roots.map((r) => r.kind), ['policy', 'auditRoot', 'recentRoot']);
    assert.equal(api.policy.getTreeItem(roots[0]!).label, 'Approval policy: off');
    await api.conn.client.setPolicy({ rules: [{ name: RULE, expr: 'risk == "low" && gpu_hours <= 1.0' }], auditShare: 1, note: 'exthost' });
    await until('the policy in the view', () => api.policy.model.policy?.version === 1);
    const item = api.policy.getTreeItem({ kind: 'policy' });
    assert.equal(item.label, 'Approval policy v1');
    assert.match(String(item.description), /^set by policy-tester .* · 100% audited$/);
    const rule = await ruleNode();
    const ri = api.policy.getTreeItem(rule);
    assert.equal(ri.contextValue, 'policyRule.enabled');
    assert.equal(ri.description, 'risk == "low" && gpu_hours <= 1.0');
    assert.equal(typeof ri.tooltip, 'string'); // plain text: no markdown, no command links
  });

  let flagged: string;
  it('a sampled automatic approval lands in the audit queue and in the last hour, sanitized', async function () {
    this.timeout(60_000);
    flagged = await proposeValuesOnly();
    await autoApproved(flagged);
    const q = await until('the audit queue entry', async () => (await children<'audit'>('auditRoot')).find((a) => a.kind === 'audit' && a.item.experimentId === flagged));
    assert.equal(q.item.rule, RULE);
    assert.equal(q.item.agentId, 'agent-a');
    const qi = await until('the title', () => {
      const i = api.policy.getTreeItem(q);
      return String(i.label).startsWith('Tune x7') && i;
    });
    // shown literally (a tree label renders neither HTML nor markdown links)
    assert.match(String(qi.label), /^Tune x7 <b>\d+<\/b> \[run\]\(command:workbench\.action\.terminal\.new\)$/);
    assert.equal(qi.contextValue, 'policyAudit');
    assert.match(String(qi.description), new RegExp(`${flagged} · agent-a · ${RULE} v1`));
    assert.match(String(api.policy.getTreeItem({ kind: 'auditRoot' }).label), /^Audit queue \([1-9]\d*\)$/);
    const recent = (await children<'recent'>('recentRoot')).filter((r) => r.kind === 'recent');
    assert.ok(recent.some((r) => r.item.experimentId === flagged));
    for (let i = 1; i < recent.length; i++) assert.ok(recent[i - 1]!.item.seq > recent[i]!.item.seq, 'newest first');
    const ri = api.policy.getTreeItem(recent.find((r) => r.item.experimentId === flagged)!);
    assert.deepEqual(ri.command && { c: ri.command.command, a: ri.command.arguments }, { c: 'overseer.openReview', a: [flagged] });
  });

  it('Flag pauses the agent and disables the rule (in the ledger); the view shows the rule disabled by the human', async function () {
    this.timeout(30_000);
    const node = (await children<'audit'>('auditRoot')).find((a) => a.kind === 'audit' && a.item.experimentId === flagged)!;
    // from the tree: a reason, then a modal that says what a flag does; dismissing it changes nothing
    const win = vscode.window as unknown as Record<'showInputBox' | 'showWarningMessage', (...a: unknown[]) => Thenable<unknown>>;
    const orig = { input: win.showInputBox, warn: win.showWarningMessage };
    const modals: unknown[][] = [];
    let answer: string | undefined;
    win.showInputBox = () => Promise.resolve('changed a value the task protects');
    win.showWarningMessage = (...a: unknown[]) => {
      if ((a[1] as { modal?: boolean } | undefined)?.modal) modals.push(a);
      return Promise.resolve(answer);
    };
    let view: PolicyView | undefined;
    try {
      assert.equal(await vscode.commands.executeCommand('overseer.auditFlag', node), undefined);
      assert.equal(modals.length, 1);
      assert.match(String(modals[0]![0]), new RegExp(`^Flag the automatic approval of ${flagged} \\("Tune x7 .*\\) by agent-a, approved by rule "${RULE}" of policy v1\\?$`));
      assert.match(String((modals[0]![1] as { detail: string }).detail), new RegExp(`pauses agent agent-a and disables rule "${RULE}"[\\s\\S]*Reason: changed a value the task protects`));
      assert.equal((await api.conn.client.agent('agent-a')).agent.status, 'active');
      assert.ok((await api.conn.client.policy()).auditQueue.some((a) => a.experimentId === flagged));
      answer = String(modals[0]![2]);
      view = await vscode.commands.executeCommand<PolicyView>('overseer.auditFlag', node);
    } finally {
      win.showInputBox = orig.input;
      win.showWarningMessage = orig.warn;
    }
    assert.ok(view, 'the flag returned the new policy view');
    const hub = await api.conn.client.policy();
    assert.deepEqual(hub.disabledRules, [RULE]);
    assert.ok(!hub.auditQueue.some((a) => a.experimentId === flagged));
    assert.equal((await api.conn.client.agent('agent-a')).agent.status, 'paused');
    const trail = (await api.conn.client.audit(50)).entries;
    for (const t of ['audit.flagged', 'policy.rule_disabled', 'agent.paused']) {
      const e = trail.find((a) => a.type === t);
      assert.ok(e, t);
      assert.deepEqual(e.actor, { kind: 'human', id: 'policy-tester' });
    }
    const ri = await until('the rule shown disabled', async () => {
      const i = api.policy.getTreeItem(await ruleNode());
      return i.contextValue === 'policyRule.disabled' && i;
    });
    assert.match(String(ri.description), /^disabled by policy-tester/);
    assert.match(String(ri.tooltip), /why: audit of .* flagged: changed a value the task protects/);
    assert.ok(!(await children<'audit'>('auditRoot')).some((a) => a.kind === 'audit' && a.item.experimentId === flagged));
    // a view that did not see the event (a reload after reconnecting) gets who and why from the hub
    const fresh = new PolicyTreeProvider(api.conn);
    try {
      await fresh.reload();
      const info = fresh.model.disabled.get(RULE);
      assert.equal(info?.by, 'policy-tester');
      assert.equal(info?.experimentId, flagged);
      assert.match(String(info?.reason), /changed a value the task protects/);
    } finally {
      fresh.dispose();
    }
    // a second flag of the same approval is refused by the hub (shown as an error, nothing returned)
    assert.equal(await vscode.commands.executeCommand('overseer.auditFlag', flagged, 'again'), undefined);
  });

  it('Enable Rule turns the rule back on', async () => {
    await vscode.commands.executeCommand('overseer.enablePolicyRule', await ruleNode());
    assert.deepEqual((await api.conn.client.policy()).disabledRules, []);
    assert.ok((await api.conn.client.audit(20)).entries.some((a) => a.type === 'policy.rule_enabled' && a.actor.id === 'policy-tester'));
    const ri = await until('the rule shown enabled', async () => {
      const i = api.policy.getTreeItem(await ruleNode());
      return i.contextValue === 'policyRule.enabled' && i;
    });
    assert.equal((ri.iconPath as vscode.ThemeIcon).id, 'pass');
  });

  it('Confirm takes a sampled approval off the audit queue', async function () {
    this.timeout(60_000);
    await api.conn.client.resumeAgent('agent-a');
    const id = await proposeValuesOnly();
    await autoApproved(id);
    await until('the audit queue entry', () => api.policy.model.auditQueue().some((a) => a.experimentId === id));
    await vscode.commands.executeCommand('overseer.auditConfirm', id);
    const hub = await api.conn.client.policy();
    assert.ok(!hub.auditQueue.some((a) => a.experimentId === id));
    assert.equal(hub.lastHour.find((a) => a.experimentId === id)?.audit?.outcome, 'confirmed');
    assert.ok(!api.policy.model.auditQueue().some((a) => a.experimentId === id));
    assert.equal((await api.conn.client.agent('agent-a')).agent.status, 'active');
  });

  it("loads fleet.json's approvalPolicy after a modal that lists its rules", async () => {
    const file = path.join(fx.dir, FLEET_CONFIG);
    const cfg = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>) : {};
    fs.writeFileSync(file, JSON.stringify({ ...cfg, approvalPolicy: { rules: [{ name: 'tiny-only', expr: 'gpu_hours <= 0.1' }], auditShare: 0.5 } }, null, 2));
    const win = vscode.window as { showWarningMessage: (...a: unknown[]) => Thenable<unknown> };
    const orig = win.showWarningMessage;
    const shown: unknown[][] = [];
    let answer: string | undefined = undefined;
    win.showWarningMessage = (...a: unknown[]) => {
      shown.push(a);
      return Promise.resolve(answer);
    };
    try {
      // dismissed: nothing is set
      assert.equal(await vscode.commands.executeCommand('overseer.loadPolicyFromFleetJson'), undefined);
      assert.equal(shown.length, 1, 'the confirmation is shown (the stub reached the extension)');
      assert.equal((shown[0]![1] as { modal?: boolean }).modal, true);
      assert.match(String((shown[0]![1] as { detail?: string }).detail), /1 rule will be set:\n• tiny-only: gpu_hours <= 0\.1[\s\S]*50%/);
      assert.equal((await api.conn.client.policy()).policy?.version, 1);
      answer = 'Set Policy';
      const v = await vscode.commands.executeCommand<PolicyView>('overseer.loadPolicyFromFleetJson');
      assert.equal(v?.policy?.version, 2);
      assert.deepEqual(v?.policy?.rules, [{ name: 'tiny-only', expr: 'gpu_hours <= 0.1' }]);
      assert.equal(v?.policy?.setBy, 'policy-tester');
    } finally {
      win.showWarningMessage = orig;
    }
    await until('v2 in the view', () => api.policy.model.policy?.version === 2);
    const shownPolicy = await vscode.commands.executeCommand<PolicyView>('overseer.showPolicy');
    assert.equal(shownPolicy?.policy?.auditShare, 0.5);
  });
});
