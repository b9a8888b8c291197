// Forum view: findings newest-first or top, with human verdict badges; each expands into its comments.
import * as vscode from 'vscode';
import type { AnyEvent } from '../../core/events';
import type { AarComment, AarFinding } from '../../hub/api';
import { DisposableBase } from '../disposable';
import type { HubConnection } from '../hubConnection';
import { ago, plain, plainBlock, plainName } from '../text';

export type ForumSort = 'new' | 'top';
export type ForumNode = { kind: 'finding'; id: string } | { kind: 'comment'; findingId: string; comment: AarComment } | { kind: 'message'; text: string };

const VERDICT_BADGE: Record<string, { icon: string; color: string; text: string }> = {
  verified: { icon: 'verified-filled', color: 'testing.iconPassed', text: '✓ verified' },
  suspect: { icon: 'warning', color: 'problemsWarningIcon.foreground', text: '⚠ suspect' },
  retracted: { icon: 'circle-slash', color: 'testing.iconFailed', text: '✗ retracted' },
};

export function findingDescription(f: AarFinding): string {
  const parts: string[] = [];
  if (f.human_verdict) parts.push(VERDICT_BADGE[f.human_verdict]?.text ?? f.human_verdict);
  parts.push(plain(f.author, 40));
  parts.push(`${f.score >= 0 ? '+' : ''}${f.score}`);
  if (f.num_comments) parts.push(`${f.num_comments} 💬`);
  if (f.pgr !== null && f.pgr !== undefined) parts.push(`PGR ${Number(f.pgr).toFixed(3)}${f.self_reported ? ' (self-reported)' : ''}`);
  return parts.join(' · ');
}

export class ForumTreeProvider extends DisposableBase implements vscode.TreeDataProvider<ForumNode> {
  private readonly emitter = new vscode.EventEmitter<ForumNode | undefined | void>();
  readonly onDidChangeTreeData = this.emitter.event;
  private findings = new Map<string, AarFinding>();
  private order: string[] = [];
  private readonly nodes = new Map<string, ForumNode & { kind: 'finding' }>();
  private _sort: ForumSort = 'new';
  private loaded: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly dirty = new Set<string>();
  private error: string | undefined;
  static readonly LIMIT = 200;

  constructor(private readonly conn: HubConnection) {
    super();
    this._register(this.emitter);
    this._register(conn.onEvent((e) => this.onEvent(e)));
    this._register(conn.onDidChangeStatus((s) => s.state === 'connected' && !this.findings.size && void this.reload()));
    void vscode.commands.executeCommand('setContext', 'overseer.forumSort', this._sort);
  }

  get sort(): ForumSort {
    return this._sort;
  }

  setSort(s: ForumSort): Promise<void> {
    this._sort = s;
    void vscode.commands.executeCommand('setContext', 'overseer.forumSort', s);
    return this.reload();
  }

  reload(): Promise<void> {
    this.loaded = (async () => {
      try {
        const client = await this.conn.ready;
        const page = await client.listFindings({ sort: this._sort, limit: ForumTreeProvider.LIMIT });
        this.findings = new Map(page.findings.map((f) => [f.id, f]));
        this.order = page.findings.map((f) => f.id);
        this.error = undefined;
      } catch (err) {
        this.error = (err as Error).message;
      }
      this.emitter.fire();
    })();
    return this.loaded;
  }

  private onEvent(e: AnyEvent): void {
    if (!e.type.startsWith('forum.')) return;
    const postId = (e.data as { postId: string }).postId;
    if (e.type === 'forum.posted' || (this._sort === 'top' && e.type === 'forum.voted')) {
      // Order changes: reload the list (debounced).
      this.dirty.add('*');
    } else this.dirty.add(postId);
    this.timer ??= setTimeout(() => void this.flush(), 50);
  }

  private async flush(): Promise<void> {
    this.timer = undefined;
    const ids = [...this.dirty];
    this.dirty.clear();
    if (ids.includes('*')) return this.reload();
    const client = await this.conn.ready;
    for (const id of ids) {
      if (!this.findings.has(id)) continue;
      try {
        const f = await client.getFinding(id);
        this.findings.set(id, f);
        this.emitter.fire(this.node(id));
      } catch {
        /* retracted/unknown: ignore */
      }
    }
  }

  node(id: string): ForumNode & { kind: 'finding' } {
    let n = this.nodes.get(id);
    if (!n) this.nodes.set(id, (n = { kind: 'finding', id }));
    return n;
  }

  async getChildren(node?: ForumNode): Promise<ForumNode[]> {
    if (!node) {
      if (!this.conn.isConnected && !this.loaded) return [];
      await (this.loaded ?? this.reload());
      if (this.error && !this.findings.size) return [{ kind: 'message', text: `Cannot load the forum: ${plain(this.error)}` }];
      return this.order.map((id) => this.node(id));
    }
    if (node.kind === 'finding') {
      const client = await this.conn.ready;
      const { comments } = await client.findingComments(node.id);
      return comments.map((c) => ({ kind: 'comment', findingId: node.id, comment: c }));
    }
    return [];
  }

  getTreeItem(node: ForumNode): vscode.TreeItem {
    if (node.kind === 'finding') {
      const f = this.findings.get(node.id);
      const item = new vscode.TreeItem(f ? plainName(f.title, 'title', 120) : node.id, f?.num_comments ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
      item.id = `finding:${node.id}`;
      if (f) {
        item.description = findingDescription(f);
        const badge = f.human_verdict ? VERDICT_BADGE[f.human_verdict] : undefined;
        item.iconPath = badge ? new vscode.ThemeIcon(badge.icon, new vscode.ThemeColor(badge.color)) : new vscode.ThemeIcon(f.worked === false ? 'circle-outline' : 'lightbulb');
        item.tooltip = `${plain(f.title, 300)}\n${f.finding_type} by ${plain(f.author, 64)} · ${ago(f.created_at)}${f.human_verdict ? `\nhuman verdict: ${f.human_verdict}${f.human_verdict_note ? ` — ${plain(f.human_verdict_note, 300)}` : ''}` : '\nnot verified by a human'}${f.author_kind === 'human' ? '' : '\n\nagent-written:'}\n${plainBlock(f.summary, 1500)}`;
      }
      item.contextValue = 'finding';
      item.command = { command: 'overseer.openForum', title: 'Open Forum', arguments: [node.id] };
      return item;
    }
    if (node.kind === 'comment') {
      const c = node.comment;
      const item = new vscode.TreeItem(plain(c.content, 120), vscode.TreeItemCollapsibleState.None);
      item.id = `fcomment:${node.findingId}:${c.id}`;
      item.description = `${plain(c.author, 40)} · ${ago(c.created_at)}`;
      item.tooltip = plainBlock(c.content, 3000);
      item.iconPath = new vscode.ThemeIcon(c.author_kind === 'human' ? 'account' : 'comment');
      return item;
    }
    return new vscode.TreeItem(node.text);
  }

  override dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    super.dispose();
  }
}
