// Policy view: the approval policy in force (rules, disabled ones with who/why), the post-hoc audit queue and
// what the policy approved in the last hour. Reloads from `GET /api/policy` on the relevant ledger events and
// on `overseer.refresh`; the rendering lives in policyModel.ts (vscode-free).
import * as vscode from 'vscode';
import type { AnyEvent } from '../../core/events';
import { DisposableBase } from '../disposable';
import type { HubConnection } from '../hubConnection';
import { PolicyModel, type PolicyNode } from './policyModel';

/** Ledger events after which the view reloads. */
const RELOAD_ON = new Set(['policy.set', 'policy.rule_disabled', 'policy.rule_enabled', 'audit.confirmed', 'audit.flagged', 'experiment.approved']);

export class PolicyTreeProvider extends DisposableBase implements vscode.TreeDataProvider<PolicyNode> {
  private readonly emitter = new vscode.EventEmitter<PolicyNode | undefined | void>();
  readonly onDidChangeTreeData = this.emitter.event;
  readonly model = new PolicyModel();
  private loaded: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private generation = 0;
  private hourTimer: NodeJS.Timeout | undefined;

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
        // the hub's view holds everything shown: titles, and who disabled each rule and why
        this.model.reset(view);
      } catch (err) {
        if (gen !== this.generation) return;
        this.model.error = (err as Error).message;
      }
      // Re-render only when something shown changed: a redraw replaces the rows' commands, and a click landing
      // between a redraw and its rows' registration is lost ("command not found"); reloads are frequent.
      // (the minute is part of it: "5m ago" labels stay roughly current)
      const sig = JSON.stringify([this.model.view, this.model.error ?? null, Math.floor(Date.now() / 60_000)]);
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
    if (!this.loaded) return; // nobody looked at the view yet: load on first getChildren
    this.refreshSoon();
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
