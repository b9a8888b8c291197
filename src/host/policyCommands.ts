// Commands of the approval policy and its post-hoc audit (human actions, each a ledger event on the hub):
// confirm or flag a sampled automatic approval, re-enable a rule a flag disabled, load fleet.json's policy,
// show the policy. Agent-written text in prompts and messages is shown through src/host/text.ts.
import * as vscode from 'vscode';
import { ID_RE } from '../core/events';
import type { PolicyView } from '../hub/api';
import { readFleetConfig } from '../hub/fleetSetup';
import { registerGuarded } from './commands';
import type { HubConnection } from './hubConnection';
import { pickText, plain, plainName } from './text';
import { describeRules, fleetPolicyPreview, type PolicyNode } from './trees/policyModel';
import type { PolicyTreeProvider } from './trees/policyTree';

export interface PolicyCommandDeps {
  conn: HubConnection;
  policy: PolicyTreeProvider;
}

/** An experiment id from a command argument: an id, a Policy tree node, or `{ experimentId }`. */
export function auditIdOf(arg: unknown): string | undefined {
  let v: unknown = arg;
  if (arg && typeof arg === 'object') {
    const n = arg as Partial<Extract<PolicyNode, { kind: 'audit' }>> & { experimentId?: unknown };
    v = n.item && typeof n.item === 'object' ? n.item.experimentId : n.experimentId;
  }
  return typeof v === 'string' && ID_RE.test(v) ? v : undefined;
}

/** A rule name from a command argument: a name, or a Policy tree rule node. */
export function ruleNameOf(arg: unknown): string | undefined {
  const v = arg && typeof arg === 'object' ? (arg as { name?: unknown }).name : arg;
  return typeof v === 'string' && v.trim() && v.length <= 100 ? v : undefined;
}

export function registerPolicyCommands(deps: PolicyCommandDeps): vscode.Disposable[] {
  const { conn, policy } = deps;
  const reg = registerGuarded;

  const after = async (view: PolicyView): Promise<PolicyView> => {
    policy.model.reset(view);
    await policy.reload();
    return view;
  };

  async function pickAudit(placeHolder: string): Promise<string | undefined> {
    await policy.ready;
    const q = policy.model.auditQueue();
    if (!q.length) {
      void vscode.window.showInformationMessage('Overseer: the audit queue is empty.');
      return undefined;
    }
    const picked = await vscode.window.showQuickPick(
      q.map((a) => ({
        label: pickText(plainName(policy.model.titleOf(a.experimentId) ?? a.experimentId, 'title', 100)),
        description: pickText(`${a.experimentId} · ${plain(a.agentId, 40)} · rule ${plain(a.rule, 60)} v${a.version}`),
        id: a.experimentId,
      })),
      { placeHolder, ignoreFocusOut: true },
    );
    return picked?.id;
  }

  /** Label of a queued approval for prompts: title (sanitized), id, agent, rule. */
  function describe(id: string): string {
    const a = policy.model.view?.auditQueue.find((q) => q.experimentId === id) ?? policy.model.view?.lastHour.find((q) => q.experimentId === id);
    const t = policy.model.titleOf(id);
    return `${id}${t ? ` ("${plainName(t, 'title', 80)}")` : ''}${a ? ` by ${plain(a.agentId, 40)}, approved by rule "${plain(a.rule, 60)}" of policy v${a.version}` : ''}`;
  }

  async function confirm(arg?: unknown, note?: unknown): Promise<PolicyView | undefined> {
    const id = auditIdOf(arg) ?? (await pickAudit('Automatic approval to confirm'));
    if (!id) return undefined;
    const client = await conn.ready;
    const n = typeof note === 'string' && note.trim() ? note.trim().slice(0, 2000) : undefined;
    const view = await client.auditApproval(id, { outcome: 'confirm', ...(n ? { reason: n } : {}) });
    void vscode.window.showInformationMessage(`Overseer: confirmed the automatic approval of ${id}.`);
    return after(view);
  }

  /**
   * Flag a sampled automatic approval: asks for a reason and confirms in a modal dialog that the flag pauses the
   * agent and disables the rule. A reason given as the second argument (a programmatic call) is the caller's
   * confirmation, as with `overseer.vetoExperiment`.
   */
  async function flag(arg?: unknown, why?: unknown): Promise<PolicyView | undefined> {
    const id = auditIdOf(arg) ?? (await pickAudit('Automatic approval to flag'));
    if (!id) return undefined;
    await policy.ready;
    let reason = typeof why === 'string' ? why.trim() : '';
    if (!reason) {
      const r = await vscode.window.showInputBox({
        title: `Flag the automatic approval of ${id}`,
        prompt: 'Why is this approval wrong? Flagging pauses the agent and disables the rule until a human enables it again.',
        ignoreFocusOut: true,
        validateInput: (v) => (v.trim() ? undefined : 'A flag needs a reason'),
      });
      reason = r?.trim() ?? '';
      if (!reason) return undefined;
      const a = policy.model.view?.auditQueue.find((q) => q.experimentId === id);
      const go = await vscode.window.showWarningMessage(
        `Flag the automatic approval of ${describe(id)}?`,
        {
          modal: true,
          detail:
            `This pauses agent ${a ? plain(a.agentId, 40) : 'that proposed it'} and disables rule ${a ? `"${plain(a.rule, 60)}"` : 'that approved it'}: ` +
            'the rule approves nothing until a human enables it again.\n\nReason: ' +
            plain(reason, 500),
        },
        'Flag, Pause Agent and Disable Rule',
      );
      if (go !== 'Flag, Pause Agent and Disable Rule') return undefined;
    }
    const client = await conn.ready;
    const view = await client.auditApproval(id, { outcome: 'flag', reason: reason.slice(0, 2000) });
    void vscode.window.showWarningMessage(`Overseer: flagged ${id}; its agent is paused and its rule disabled until a human enables it again.`);
    return after(view);
  }

  async function enableRule(arg?: unknown): Promise<PolicyView | undefined> {
    await policy.ready;
    let name = ruleNameOf(arg);
    if (!name) {
      const disabled = policy.model.view?.disabledRules ?? [];
      if (!disabled.length) {
        void vscode.window.showInformationMessage('Overseer: no rule of the approval policy is disabled.');
        return undefined;
      }
      const picked = await vscode.window.showQuickPick(
        disabled.map((r) => ({ label: pickText(plain(r, 80)), description: pickText(plain(policy.model.policy?.rules.find((q) => q.name === r)?.expr ?? '', 160)), name: r })),
        { placeHolder: 'Rule to enable again', ignoreFocusOut: true },
      );
      name = picked?.name;
    }
    if (!name) return undefined;
    const client = await conn.ready;
    const view = await client.enablePolicyRule(name);
    void vscode.window.showInformationMessage(`Overseer: rule "${plain(name, 80)}" of policy v${view.policy?.version ?? '?'} approves again.`);
    return after(view);
  }

  async function loadFromFleetJson(): Promise<PolicyView | undefined> {
    const s = conn.status;
    let detail: string;
    if (s.mode === 'embedded' && s.fleetDir) {
      const preview = fleetPolicyPreview(readFleetConfig(s.fleetDir));
      detail =
        `${preview.rules.length} rule${preview.rules.length === 1 ? '' : 's'} will be set${preview.rules.length ? ':' : ' (nothing is approved automatically).'}\n` +
        describeRules(preview.rules) +
        `\n\nAudit share: ${preview.auditShare === undefined ? 'the default' : `${Math.round(preview.auditShare * 1000) / 10}%`} of automatic approvals is sampled for a post-hoc audit.`;
    } else {
      detail = 'The team hub reads fleet.json in its own fleet directory; its rules cannot be shown here before they are set.';
    }
    const cur = policy.model.policy;
    const go = await vscode.window.showWarningMessage(
      `Set the approval policy from fleet.json${cur ? ` (replacing v${cur.version})` : ''}? Proposals these rules match are approved without a human, in your name as the one who set the policy.`,
      { modal: true, detail },
      'Set Policy',
    );
    if (go !== 'Set Policy') return undefined;
    const client = await conn.ready;
    const view = await client.setPolicy({ fromFleetJson: true });
    void vscode.window.showInformationMessage(`Overseer: approval policy v${view.policy?.version ?? '?'} set with ${view.policy?.rules.length ?? 0} rule(s).`);
    return after(view);
  }

  async function showPolicy(): Promise<PolicyView | undefined> {
    await vscode.commands.executeCommand('overseer.policy.focus');
    const client = await conn.ready;
    const view = await client.policy();
    await after(view);
    const p = view.policy;
    const msg = p
      ? `Approval policy v${p.version}, set by ${plain(p.setBy, 40)} at ${p.ts}: ${p.rules.length} rule(s), ${view.disabledRules.length} disabled; ${view.auditQueue.length} approval(s) waiting for an audit; ${view.lastHour.length} approved by policy in the last hour.`
      : 'No approval policy is set: every proposal waits for a human.';
    void vscode.window.showInformationMessage(`Overseer: ${plain(msg, 600)}`);
    return view;
  }

  return [
    reg('overseer.auditConfirm', confirm),
    reg('overseer.auditFlag', flag),
    reg('overseer.enablePolicyRule', enableRule),
    reg('overseer.loadPolicyFromFleetJson', loadFromFleetJson),
    reg('overseer.showPolicy', showPolicy),
  ];
}
