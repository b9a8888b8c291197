// Policy view: the approval policy in force (rules, disabled ones with who/why), the post-hoc audit queue and
// what the policy approved in the last hour. Reloads from `GET /api/policy` on the relevant ledger events and
// on `overseer.refresh`; the rendering lives in policyModel.ts (vscode-free).
import * as vscode from 'vscode';
import type { AnyEvent } from '../../core/events';
import { DisposableBase } from '../disposable';
import type { HubConnection } from '../hubConnection';
import { PolicyModel, disabledFromTrail, flaggedExperimentIds, type DisabledInfo, type PolicyNode } from './policyModel';

/** Ledger events after which the view reloads. */
const RELOAD_ON = new Set(['policy.set', 'policy.rule_disabled', 'policy.rule_enabled', 'audit.confirmed', 'audit.flagged', 'experiment.approved']);
const TITLE_FETCH_MAX = 50;
const TITLE_CACHE_MAX = 2000;

export class PolicyTreeProvider extends DisposableBase implements vscode.TreeDataProvider<PolicyNode> {
  private readonly emitter = new vscode.EventEmitter<PolicyNode | undefined | void>();
  readonly onDidChangeTreeData = this.emitter.event;
  readonly model = new PolicyModel();
  private loaded: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private generation = 0;
  private hourTimer: NodeJS.Timeout | undefined;
  /** From live `policy.rule_disabled` events: exact rule, actor and reason (keyed by version and rule). */
  private readonly live = new Map<string, DisabledInfo>();

  constructor(private readonly conn: HubConnection) {
    super();
    this._register(this.emitter);
    this._register(conn.onEvent((e) => this.onEvent(e)));
    this._register(conn.onDidChangeStatus((s) => s.state === 'connected' && void this.reload()));
  }

  /** Resolves when the last reload finished (for tests and commands). */
  get ready(): Promise<void> {
    return this.loaded ?? this.reload();
  }

  private shownSig = '';

  reload(): Promise<void> {
    const gen = ++this.generation;
    const p = (async () => {
      try {
        const client = await this.conn.ready;
        const view = await client.policy();
        if (gen !== this.generation) return; // a later reload answers
        this.model.reset(view);
        if (this.model.titles.size > TITLE_CACHE_MAX) this.model.titles.clear();
        // the hub sends each automatic approval's title; older hubs do not (fetched one by one below)
        for (const a of [...view.auditQueue, ...view.lastHour]) if (typeof a.title === 'string') this.model.titles.set(a.experimentId, a.title);
        await Promise.all([this.fetchTitles(), this.resolveDisabled()]);
      } catch (err) {
        if (gen !== this.generation) return;
        this.model.error = (err as Error).message;
      }
      // Re-render only when something shown changed: a redraw replaces the rows' commands, and a click landing
      // between a redraw and its rows' registration is lost ("command not found"); reloads are frequent.
      // (the minute is part of it: "5m ago" labels stay roughly current)
      const sig = JSON.stringify([this.model.view, [...this.model.titles], [...this.model.disabled], this.model.error ?? null, Math.floor(Date.now() / 60_000)]);
      if (sig !== this.shownSig) {
        this.shownSig = sig;
        this.emitter.fire();
      }
      this.scheduleHourTick();
    })();
    this.loaded = p;
    return p;
  }

  /** Reload soon (coalesces bursts of events). */
  refreshSoon(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.reload();
    }, 100);
  }

  private onEvent(e: AnyEvent): void {
    if (!RELOAD_ON.has(e.type)) return;
    if (e.type === 'experiment.approved' && !e.data.policy) return;
    if (e.type === 'policy.rule_disabled') this.live.set(`${e.data.version}:${e.data.rule}`, { by: e.actor.id, reason: e.data.reason, ts: e.ts, experimentId: e.data.experimentId });
    if (!this.loaded) return; // nobody looked at the view yet: load on first getChildren
    this.refreshSoon();
  }

  private async fetchTitles(): Promise<void> {
    const client = this.conn.client;
    const ids = this.model.missingTitles().slice(0, TITLE_FETCH_MAX);
    await Promise.all(
      ids.map(async (id) => {
        try {
          this.model.titles.set(id, (await client.getExperiment(id)).title);
        } catch {
          /* shown by id */
        }
      }),
    );
  }

  /** Who disabled each disabled rule and why: live events first, else the audit trail (the API names only the rule). */
  private async resolveDisabled(): Promise<void> {
    const p = this.model.policy;
    const out = new Map<string, DisabledInfo>();
    this.model.disabled = out;
    if (!p || !this.model.view?.disabledRules.length) return;
    // the hub names who disabled each rule and why; live events and the audit trail serve a hub that does not
    const fromHub = new Map((this.model.view.disabled ?? []).filter((d) => d.by).map((d) => [d.rule, d]));
    const missing = this.model.view.disabledRules.filter((r) => {
      const h = fromHub.get(r);
      if (h) {
        out.set(r, { by: h.by, reason: h.reason, ts: h.ts, experimentId: h.experimentId });
        return false;
      }
      const l = this.live.get(`${p.version}:${r}`);
      if (l) out.set(r, l);
      return !l;
    });
    if (!missing.length) return;
    const client = this.conn.client;
    const entries = (await client.audit(500)).entries;
    const rules = new Map<string, string>();
    for (const a of [...this.model.view.lastHour, ...this.model.view.auditQueue]) rules.set(a.experimentId, a.rule);
    await Promise.all(
      flaggedExperimentIds(entries, p.seq)
        .filter((id) => !rules.has(id))
        .slice(0, TITLE_FETCH_MAX)
        .map(async (id) => {
          try {
            const x = await client.getExperiment(id);
            if (x.verdict?.policy) rules.set(id, x.verdict.policy.rule);
            this.model.titles.set(id, x.title);
          } catch {
            /* unknown rule: shown without who/why */
          }
        }),
    );
    for (const [rule, info] of disabledFromTrail(entries, p.seq, (id) => rules.get(id))) if (missing.includes(rule)) out.set(rule, info);
  }

  /** Entries age out of "the last hour" without any event: re-render when the oldest one does. */
  private scheduleHourTick(): void {
    if (this.hourTimer) clearTimeout(this.hourTimer);
    this.hourTimer = undefined;
    const items = this.model.lastHour();
    if (!items.length) return;
    const oldest = Math.min(...items.map((a) => Date.parse(a.ts)));
    const wait = Math.max(1000, oldest + 3600_000 - Date.now() + 500);
    this.hourTimer = setTimeout(() => {
      this.hourTimer = undefined;
      this.emitter.fire();
      this.scheduleHourTick();
    }, Math.min(wait, 2 ** 31 - 1));
  }

  async getChildren(node?: PolicyNode): Promise<PolicyNode[]> {
    if (!node && !this.conn.isConnected && !this.loaded) return [];
    await this.ready;
    return this.model.children(node);
  }

  getTreeItem(node: PolicyNode): vscode.TreeItem {
    const v = this.model.render(node);
    const state = v.expandable ? (node.kind === 'recentRoot' ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.Expanded) : vscode.TreeItemCollapsibleState.None;
    const item = new vscode.TreeItem(v.label, state);
    item.id = v.id;
    item.description = v.description;
    item.tooltip = v.tooltip; // a plain string: no markdown, no command links
    item.iconPath = new vscode.ThemeIcon(v.icon);
    item.contextValue = v.contextValue;
    if (v.open) item.command = { command: 'overseer.openReview', title: 'Open Review', arguments: [v.open] };
    return item;
  }

  override dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.hourTimer) clearTimeout(this.hourTimer);
    super.dispose();
  }
}
