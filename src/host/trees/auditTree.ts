// Audit view: recent decisions and other audited ledger events, newest first.
import * as vscode from 'vscode';
import type { AnyEvent } from '../../core/events';
import type { AuditEntry } from '../../core/model';
import { DisposableBase } from '../disposable';
import type { HubConnection } from '../hubConnection';
import { ago, plain } from '../text';

const ICON: Record<string, string> = {
  'experiment.approved': 'check',
  'experiment.vetoed': 'close',
  'experiment.changes_requested': 'request-changes',
  'experiment.cancel_requested': 'debug-stop',
  'experiment.dispatched': 'rocket',
  'experiment.finished': 'flag',
  'forum.verdict': 'verified',
  'agent.paused': 'debug-pause',
  'agent.resumed': 'debug-start',
  'budget.set': 'dashboard',
  'eval.probing_suspected': 'warning',
  'auth.token_created': 'key',
  'policy.set': 'law',
  'policy.rule_disabled': 'circle-slash',
  'policy.rule_enabled': 'pass',
  'audit.confirmed': 'verified',
  'audit.flagged': 'report',
};

export class AuditTreeProvider extends DisposableBase implements vscode.TreeDataProvider<AuditEntry> {
  private readonly emitter = new vscode.EventEmitter<AuditEntry | undefined | void>();
  readonly onDidChangeTreeData = this.emitter.event;
  private entries: AuditEntry[] = [];
  private loaded: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  static readonly LIMIT = 200;

  constructor(private readonly conn: HubConnection) {
    super();
    this._register(this.emitter);
    this._register(conn.onEvent((e) => this.onEvent(e)));
    this._register(conn.onDidChangeStatus((s) => s.state === 'connected' && void this.reload()));
  }

  reload(): Promise<void> {
    this.loaded = (async () => {
      try {
        const client = await this.conn.ready;
        this.entries = (await client.audit(AuditTreeProvider.LIMIT)).entries;
      } catch {
        /* keep the last entries */
      }
      this.emitter.fire();
    })();
    return this.loaded;
  }

  private onEvent(e: AnyEvent): void {
    if (!(e.type in ICON) && !/^(experiment\.(approved|vetoed|changes_requested)|eval\.|runner\.|auth\.)/.test(e.type)) return;
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.reload();
    }, 100);
  }

  async getChildren(node?: AuditEntry): Promise<AuditEntry[]> {
    if (node) return [];
    if (!this.conn.isConnected && !this.loaded) return [];
    await (this.loaded ?? this.reload());
    return this.entries;
  }

  getTreeItem(a: AuditEntry): vscode.TreeItem {
    const item = new vscode.TreeItem(plain(a.summary, 140), vscode.TreeItemCollapsibleState.None);
    item.id = `audit:${a.seq}`;
    item.description = `${plain(a.actor.id, 40)} · ${ago(a.ts)}`;
    item.tooltip = `#${a.seq} ${a.type} by ${a.actor.kind} ${plain(a.actor.id, 64)}\n${a.ts}\nhash ${a.hash}\n${plain(a.summary, 1000)}`;
    item.iconPath = new vscode.ThemeIcon(ICON[a.type] ?? 'history');
    return item;
  }

  override dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    super.dispose();
  }
}
