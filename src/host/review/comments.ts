// Review comments in native diffs: one CommentController; commenting ranges come from the pure hunk
// mapping in src/git/hunks.ts; comments are posted to the hub (where they land in the agent's inbox) and
// threads are kept in sync with `review.commented` ledger events.
import * as vscode from 'vscode';
import type { AnyEvent } from '../../core/events';
import type { ReviewComment } from '../../core/model';
import { commentingRanges, patchForFile, type Side } from '../../git/hunks';
import { REV_SCHEME, type RevRef } from '../../git/revUri';
import { DisposableBase } from '../disposable';
import type { HubConnection } from '../hubConnection';
import { plain, plainBlock, plainName } from '../text';
import { parseRevUri } from './revFs';

export const COMMENT_CONTROLLER_ID = 'overseer.review';

class ReviewNote implements vscode.Comment {
  body: vscode.MarkdownString;
  mode = vscode.CommentMode.Preview;
  author: vscode.CommentAuthorInformation;
  timestamp?: Date;
  contextValue: string;
  constructor(readonly data: ReviewComment) {
    // Agent-written text: appendText escapes markdown; untrusted, no HTML, no command links.
    const md = new vscode.MarkdownString(undefined, false);
    md.isTrusted = false;
    md.supportHtml = false;
    md.appendText(plainBlock(data.body, 10_000));
    this.body = md;
    this.author = { name: `${plain(data.author.id, 64)}${data.author.kind === 'agent' ? ' (agent)' : ''}` };
    const t = Date.parse(data.ts);
    if (Number.isFinite(t)) this.timestamp = new Date(t);
    this.contextValue = data.author.kind;
  }
}

type ExpRef = Extract<RevRef, { kind: 'experiment' }>;

export class ReviewComments extends DisposableBase {
  readonly controller: vscode.CommentController;
  /** experimentId:file -> parsed patch promise (ranges per side). */
  private readonly ranges = new Map<string, Promise<{ base: vscode.Range[]; head: vscode.Range[] }>>();
  /** experimentId -> loaded comments */
  private readonly loaded = new Map<string, Promise<void>>();
  /** root comment id -> thread */
  private readonly threads = new Map<string, vscode.CommentThread>();
  private readonly seen = new Set<string>();
  private readonly openDocs = new Map<string, { uri: vscode.Uri; ref: ExpRef }[]>();
  private readonly pending = new Map<string, ReviewComment[]>();

  constructor(private readonly conn: HubConnection) {
    super();
    this.controller = this._register(vscode.comments.createCommentController(COMMENT_CONTROLLER_ID, 'Overseer review'));
    this.controller.options = { placeHolder: 'Comment for the agent (lands in its inbox)', prompt: 'Add a review comment' };
    this.controller.commentingRangeProvider = {
      provideCommentingRanges: async (doc) => {
        const ref = this.expRef(doc.uri);
        if (!ref) return [];
        this.track(doc.uri, ref);
        const r = await this.rangesFor(ref.experimentId, ref.path);
        return ref.side === 'head' ? r.head : r.base;
      },
    };
    this._register(vscode.workspace.onDidOpenTextDocument((d) => this.onOpen(d.uri)));
    for (const d of vscode.workspace.textDocuments) this.onOpen(d.uri);
    this._register(conn.onEvent((e) => this.onEvent(e)));
  }

  private expRef(uri: vscode.Uri): ExpRef | undefined {
    if (uri.scheme !== REV_SCHEME) return undefined;
    try {
      const r = parseRevUri(uri);
      return r.kind === 'experiment' ? r : undefined;
    } catch {
      return undefined;
    }
  }

  private track(uri: vscode.Uri, ref: ExpRef): void {
    const list = this.openDocs.get(ref.experimentId) ?? [];
    if (!list.some((d) => d.uri.toString() === uri.toString())) list.push({ uri, ref });
    this.openDocs.set(ref.experimentId, list);
  }

  private onOpen(uri: vscode.Uri): void {
    const ref = this.expRef(uri);
    if (!ref) return;
    this.track(uri, ref);
    void this.loadComments(ref.experimentId).then(() => this.flushPending(ref.experimentId));
  }

  rangesFor(experimentId: string, file: string): Promise<{ base: vscode.Range[]; head: vscode.Range[] }> {
    const key = `${experimentId}\0${file}`;
    let p = this.ranges.get(key);
    if (!p) {
      p = (async () => {
        const client = await this.conn.ready;
        const d = await client.experimentDiff(experimentId, file);
        const fp = patchForFile(d.patch, file);
        const conv = (side: Side) => commentingRanges(fp, side).map((r) => new vscode.Range(r.start - 1, 0, r.end - 1, 0));
        return { base: conv('base'), head: conv('head') };
      })();
      p.catch(() => this.ranges.delete(key));
      this.ranges.set(key, p);
    }
    return p;
  }

  private loadComments(experimentId: string): Promise<void> {
    let p = this.loaded.get(experimentId);
    if (!p) {
      p = (async () => {
        const client = await this.conn.ready;
        const { comments } = await client.experimentComments(experimentId);
        for (const c of comments.sort((a, b) => a.seq - b.seq)) this.queue(c);
      })();
      p.catch(() => this.loaded.delete(experimentId));
      this.loaded.set(experimentId, p);
    }
    return p;
  }

  private queue(c: ReviewComment): void {
    const list = this.pending.get(c.experimentId) ?? [];
    list.push(c);
    this.pending.set(c.experimentId, list);
  }

  /** Attach queued comments to threads on open documents of that experiment. */
  private flushPending(experimentId: string): void {
    const list = this.pending.get(experimentId);
    if (!list?.length) return;
    const docs = this.openDocs.get(experimentId) ?? [];
    const keep: ReviewComment[] = [];
    for (const c of list) {
      if (this.seen.has(c.id)) continue;
      const root = c.inReplyTo && this.threads.get(c.inReplyTo);
      if (root) {
        this.addToThread(root, c);
        continue;
      }
      const doc = docs.find((d) => d.ref.path === c.file && d.ref.side === c.side);
      if (!doc) {
        keep.push(c);
        continue;
      }
      const line = Math.max(0, c.line - 1);
      const t = this.controller.createCommentThread(doc.uri, new vscode.Range(line, 0, line, 0), []);
      t.canReply = true;
      t.label = `${plainName(c.file, 'file', 300)}:${c.line}`;
      t.collapsibleState = vscode.CommentThreadCollapsibleState.Expanded;
      this.threads.set(c.id, t);
      this.addToThread(t, c);
    }
    this.pending.set(experimentId, keep);
  }

  private addToThread(t: vscode.CommentThread, c: ReviewComment): void {
    if (this.seen.has(c.id)) return;
    this.seen.add(c.id);
    if (c.inReplyTo) this.threads.set(c.id, t);
    t.comments = [...t.comments, new ReviewNote(c)];
  }

  private onEvent(e: AnyEvent): void {
    if (e.type !== 'review.commented') return;
    const d = e.data;
    if (this.seen.has(d.commentId) || !this.loaded.has(d.experimentId)) return;
    this.queue({
      id: d.commentId,
      experimentId: d.experimentId,
      agentId: '',
      file: d.file,
      line: d.line,
      side: d.side,
      body: d.body,
      author: e.actor,
      seq: e.seq,
      ts: e.ts,
      inReplyTo: d.inReplyTo,
    });
    this.flushPending(d.experimentId);
  }

  /** Post a comment from the comment widget (command `overseer.postReviewComment`). */
  async post(reply: vscode.CommentReply): Promise<ReviewComment | undefined> {
    const t = reply.thread;
    const ref = this.expRef(t.uri);
    const body = reply.text.trim();
    if (!ref) throw new Error('comments can only be added in Overseer diffs');
    if (!body) {
      void vscode.window.showWarningMessage('Overseer: the comment is empty.');
      return undefined;
    }
    const line = (t.range?.start.line ?? 0) + 1;
    const root = t.comments[0] instanceof ReviewNote ? (t.comments[0] as ReviewNote).data.id : undefined;
    const client = await this.conn.ready;
    const c = await client.comment(ref.experimentId, { file: ref.path, line, side: ref.side, body, inReplyTo: root });
    if (!root) {
      this.threads.set(c.id, t);
      t.label = `${plainName(ref.path, 'file', 300)}:${line}`;
      t.canReply = true;
    }
    this.addToThread(t, c);
    return c;
  }

  /** Test/inspection helper: threads currently shown for an experiment. */
  threadsOf(experimentId: string): vscode.CommentThread[] {
    const uris = new Set((this.openDocs.get(experimentId) ?? []).map((d) => d.uri.toString()));
    return [...new Set(this.threads.values())].filter((t) => uris.has(t.uri.toString()));
  }

  /** Load and show the comments of an experiment now (after a diff opened). */
  async refresh(experimentId: string): Promise<void> {
    await this.loadComments(experimentId);
    this.flushPending(experimentId);
  }

  override dispose(): void {
    for (const t of new Set(this.threads.values())) t.dispose();
    this.threads.clear();
    super.dispose();
  }
}
