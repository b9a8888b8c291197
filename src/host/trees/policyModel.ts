// Policy view model (no vscode, so it unit-tests under plain mocha): the approval policy in force and its rules
// (enabled, or disabled by a flagged audit with who and why), the post-hoc audit queue, and what the policy
// approved in the last hour. Every string that reaches a tree item goes through src/host/text.ts: titles and
// ids are agent-written, and rule expressions and human names are shown as plain text too.
import type { AutoApproval } from '../../core/fleet';
import type { PolicyView } from '../../hub/api';
import { ago, plain, plainBlock, plainName } from '../text';

export const HOUR_MS = 3600_000;

/** Who disabled a rule and why (the hub's `disabled`, from the `policy.rule_disabled` event). */
export interface DisabledInfo {
  by: string;
  reason: string;
  ts?: string;
  experimentId?: string;
}

export type PolicyNode =
  | { kind: 'policy' }
  | { kind: 'rule'; name: string; expr: string; disabled: boolean; info?: DisabledInfo }
  | { kind: 'auditRoot' }
  | { kind: 'audit'; item: AutoApproval }
  | { kind: 'recentRoot' }
  | { kind: 'recent'; item: AutoApproval }
  | { kind: 'empty'; text: string; parent: 'auditRoot' | 'recentRoot' | 'policy' };

/** What a tree item shows, as plain data; policyTree.ts turns it into a vscode.TreeItem. */
export interface NodeView {
  id: string;
  label: string;
  description?: string;
  tooltip?: string;
  icon: string;
  contextValue: string;
  expandable: boolean;
  /** For the "approved in the last hour" entries: open the review page of this experiment. */
  open?: string;
}

/** The policy's automatic approvals of the last hour (before `now`), newest first. */
export function lastHour(items: readonly AutoApproval[], now: number): AutoApproval[] {
  const since = now - HOUR_MS;
  return items
    .filter((a) => {
      const t = Date.parse(a.ts);
      return Number.isFinite(t) && t >= since && t <= now + 60_000;
    })
    .sort((a, b) => b.seq - a.seq);
}

/** The audit queue in the order to work it: the longest waiting first (ledger order). */
export function auditOrder(items: readonly AutoApproval[]): AutoApproval[] {
  return items.filter((a) => a.sampled && !a.audit).sort((a, b) => a.seq - b.seq);
}

export class PolicyModel {
  view: PolicyView | undefined;
  /** The last error loading the view, shown instead of the policy. */
  error: string | undefined;

  constructor(private readonly clock: () => number = Date.now) {}

  reset(view: PolicyView): void {
    this.view = view;
    this.error = undefined;
  }

  get policy() {
    return this.view?.policy ?? undefined;
  }

  /** Who disabled a rule and why, by rule name, for the current policy version (from the hub). */
  get disabled(): Map<string, DisabledInfo> {
    return new Map((this.view?.disabled ?? []).map(({ rule, by, reason, ts, experimentId }) => [rule, { by, reason, ts, experimentId }]));
  }

  /** An automatic approval's experiment title as the hub sent it (agent-written, raw: sanitize to show). */
  titleOf(id: string): string | undefined {
    return [...(this.view?.auditQueue ?? []), ...(this.view?.lastHour ?? [])].find((a) => a.experimentId === id)?.title || undefined;
  }

  isDisabled(rule: string): boolean {
    return !!this.view?.disabledRules.includes(rule);
  }

  auditQueue(): AutoApproval[] {
    return auditOrder(this.view?.auditQueue ?? []);
  }

  lastHour(): AutoApproval[] {
    return lastHour(this.view?.lastHour ?? [], this.clock());
  }

  roots(): PolicyNode[] {
    return [{ kind: 'policy' }, { kind: 'auditRoot' }, { kind: 'recentRoot' }];
  }

  children(node?: PolicyNode): PolicyNode[] {
    if (!node) return this.roots();
    switch (node.kind) {
      case 'policy': {
        const p = this.policy;
        if (!p) return [];
        if (!p.rules.length) return [{ kind: 'empty', text: 'no rules: nothing is approved automatically', parent: 'policy' }];
        const disabled = this.disabled;
        return p.rules.map((r) => ({ kind: 'rule', name: r.name, expr: r.expr, disabled: this.isDisabled(r.name), info: disabled.get(r.name) }));
      }
      case 'auditRoot': {
        const q = this.auditQueue();
        return q.length ? q.map((item) => ({ kind: 'audit', item })) : [{ kind: 'empty', text: 'nothing to audit', parent: 'auditRoot' }];
      }
      case 'recentRoot': {
        const r = this.lastHour();
        return r.length ? r.map((item) => ({ kind: 'recent', item })) : [{ kind: 'empty', text: 'nothing approved by the policy in the last hour', parent: 'recentRoot' }];
      }
      default:
        return [];
    }
  }

  private title(id: string): string {
    const t = this.titleOf(id);
    return t ? plainName(t, 'title', 100) : plain(id, 80);
  }

  render(node: PolicyNode): NodeView {
    const now = this.clock();
    switch (node.kind) {
      case 'policy': {
        const p = this.policy;
        if (this.error && !p) return { id: 'policy', label: 'Approval policy: unavailable', description: plain(this.error, 120), tooltip: plainBlock(this.error, 1000), icon: 'warning', contextValue: 'policy.error', expandable: false };
        if (!p) {
          return {
            id: 'policy',
            label: 'Approval policy: off',
            description: 'every proposal waits for a human',
            tooltip: 'No approval policy is set: every proposal waits for a human decision. A human sets one with "Load Approval Policy from fleet.json".',
            icon: 'law',
            contextValue: 'policy.off',
            expandable: false,
          };
        }
        const off = p.rules.filter((r) => this.isDisabled(r.name)).length;
        const share = `${Math.round(p.auditShare * 1000) / 10}% audited`;
        return {
          id: 'policy',
          label: `Approval policy v${p.version}`,
          description: `set by ${plain(p.setBy, 40)} ${ago(p.ts, now)} · ${share}${off ? ` · ${off} rule${off === 1 ? '' : 's'} disabled` : ''}`,
          tooltip: [
            `Approval policy v${p.version}, set by ${plain(p.setBy, 64)} at ${p.ts} (ledger #${p.seq})`,
            `${p.rules.length} rule${p.rules.length === 1 ? '' : 's'}; a share of ${share.replace(' audited', '')} of automatic approvals is sampled for a post-hoc audit`,
            ...(p.note ? [`note: ${plain(p.note, 300)}`] : []),
            ...(off ? [`${off} rule${off === 1 ? '' : 's'} disabled by a flagged audit until a human enables ${off === 1 ? 'it' : 'them'} again`] : []),
            `${this.view?.autoApproved ?? 0} automatic approval${this.view?.autoApproved === 1 ? '' : 's'} since the fleet began`,
          ].join('\n'),
          icon: off ? 'warning' : 'law',
          contextValue: 'policy.on',
          expandable: true,
        };
      }
      case 'rule': {
        const who = node.info ? `disabled by ${plain(node.info.by, 40)}${node.info.ts ? ` ${ago(node.info.ts, now)}` : ''}` : 'disabled by a flagged audit';
        return {
          id: `rule:${this.policy?.version ?? 0}:${node.name}`,
          label: plain(node.name, 80),
          description: node.disabled ? `${who} · ${plain(node.expr, 120)}` : plain(node.expr, 160),
          tooltip: [
            `rule ${plain(node.name, 100)}: ${node.disabled ? 'DISABLED' : 'enabled'}`,
            `CEL: ${plainBlock(node.expr, 4000)}`,
            ...(node.disabled
              ? [
                  node.info ? `${who}${node.info.ts ? ` (${node.info.ts})` : ''}` : who,
                  ...(node.info?.reason ? [`why: ${plain(node.info.reason, 1000)}`] : []),
                  'It approves nothing until a human enables it again (Enable Rule).',
                ]
              : []),
          ].join('\n'),
          icon: node.disabled ? 'circle-slash' : 'pass',
          contextValue: node.disabled ? 'policyRule.disabled' : 'policyRule.enabled',
          expandable: false,
        };
      }
      case 'auditRoot': {
        const n = this.auditQueue().length;
        return {
          id: 'auditRoot',
          label: `Audit queue (${n})`,
          description: n ? 'sampled automatic approvals: confirm or flag' : undefined,
          tooltip: 'Automatic approvals sampled for a post-hoc audit by a human. Confirm keeps them; Flag pauses the agent and disables the rule until a human enables it again.',
          icon: n ? 'report' : 'verified',
          contextValue: 'policyAuditRoot',
          expandable: true,
        };
      }
      case 'audit':
      case 'recent': {
        const a = node.item;
        const audited = a.audit ? ` · ${a.audit.outcome} by ${plain(a.audit.by, 40)}` : a.sampled && node.kind === 'recent' ? ' · audit pending' : '';
        return {
          id: `${node.kind}:${a.experimentId}`,
          label: this.title(a.experimentId),
          description: `${plain(a.experimentId, 60)} · ${plain(a.agentId, 40)} · ${plain(a.rule, 60)} v${a.version} · ${ago(a.ts, now)}${audited}`,
          tooltip: [
            `${this.title(a.experimentId)} (${plain(a.experimentId, 80)})`,
            `agent ${plain(a.agentId, 64)}`,
            `approved automatically at ${a.ts} (ledger #${a.seq}) by rule ${plain(a.rule, 100)} of policy v${a.version}, set by ${plain(a.setBy, 64)}`,
            a.audit ? `audit: ${a.audit.outcome} by ${plain(a.audit.by, 64)}${a.audit.note ? ` — ${plain(a.audit.note, 500)}` : ''}` : a.sampled ? 'sampled for a post-hoc audit: waiting for a human' : 'not sampled for audit',
          ].join('\n'),
          icon: node.kind === 'audit' ? 'report' : a.audit?.outcome === 'flagged' ? 'warning' : 'check',
          contextValue: node.kind === 'audit' ? 'policyAudit' : 'policyApproval',
          expandable: false,
          open: a.experimentId,
        };
      }
      case 'recentRoot': {
        const n = this.lastHour().length;
        return {
          id: 'recentRoot',
          label: `Approved by policy in the last hour (${n})`,
          tooltip: `Experiments the approval policy approved without a human in the last hour, newest first (${this.view?.autoApproved ?? 0} since the fleet began).`,
          icon: 'history',
          contextValue: 'policyRecentRoot',
          expandable: true,
        };
      }
      case 'empty':
        return { id: `empty:${node.parent}`, label: node.text, icon: 'info', contextValue: 'policyEmpty', expandable: false };
    }
  }
}

/** The `approvalPolicy` section of a fleet.json as the hub will read it, for the confirmation before loading it. */
export interface FleetPolicyPreview {
  rules: { name: string; expr: string }[];
  auditShare: number | undefined;
}

/** Check a fleet.json object's `approvalPolicy` the way the hub will (rules of `{ name, expr }`, share in [0, 1]); throws a clear error. */
export function fleetPolicyPreview(fleetJson: unknown): FleetPolicyPreview {
  const raw = fleetJson && typeof fleetJson === 'object' ? (fleetJson as { approvalPolicy?: unknown }).approvalPolicy : undefined;
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new Error('fleet.json has no "approvalPolicy" section ({ "rules": [{ "name", "expr" }], "auditShare" })');
  const { rules, auditShare } = raw as { rules?: unknown; auditShare?: unknown };
  if (!Array.isArray(rules)) throw new Error('fleet.json "approvalPolicy.rules" must be a list of { "name", "expr" }');
  if (rules.length > 50) throw new Error(`fleet.json "approvalPolicy.rules" has ${rules.length} rules (at most 50)`);
  const out = rules.map((r, i) => {
    const { name, expr } = (r && typeof r === 'object' ? r : {}) as { name?: unknown; expr?: unknown };
    if (typeof name !== 'string' || !name.trim() || name.length > 100) throw new Error(`fleet.json "approvalPolicy.rules[${i}]" needs a "name" (1 to 100 characters)`);
    if (typeof expr !== 'string' || !expr.trim() || expr.length > 4000) throw new Error(`fleet.json "approvalPolicy.rules[${i}]" (${plain(name, 60)}) needs an "expr" (a CEL expression, 1 to 4000 characters)`);
    return { name, expr };
  });
  if (auditShare !== undefined && (typeof auditShare !== 'number' || !(auditShare >= 0 && auditShare <= 1))) throw new Error('fleet.json "approvalPolicy.auditShare" must be a number from 0 to 1');
  return { rules: out, auditShare: auditShare as number | undefined };
}

/** The rules as plain lines for a confirmation dialog (names and CEL shown literally, capped). */
export function describeRules(rules: readonly { name: string; expr: string }[], max = 20): string {
  const lines = rules.slice(0, max).map((r) => `• ${plain(r.name, 80)}: ${plain(r.expr, 300)}`);
  if (rules.length > max) lines.push(`… and ${rules.length - max} more`);
  return lines.join('\n');
}
