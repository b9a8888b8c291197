// Forum panel: threads (sortable), one selected thread with comments, votes and human verdicts.
import type * as vscode from 'vscode';
import type { AnyEvent } from '../../core/events';
import type { HubClient } from '../../hub/client';
import { AddComment, FORUM_SURFACE, ForumStateNote, SelectThread, SetSort, SetVerdict, Vote, type ForumSort, type ForumState } from '../../shared/forumProtocol';
import { SurfacePanel, errorMessage, type WebviewConnection } from './panel';

export const FORUM_PAGE = 200;

export class ForumPanel extends SurfacePanel<ForumState> {
  protected readonly stateNote = ForumStateNote;
  private sort: ForumSort = 'new';
  private selected: string | undefined;

  constructor(extensionUri: vscode.Uri, conn: WebviewConnection) {
    super(FORUM_SURFACE, 'Overseer Forum', extensionUri, conn);
    this.rpc.onRequest(SelectThread, (p) => {
      this.selected = p.postId;
      this.refresh(0);
    });
    this.rpc.onRequest(SetSort, (p) => {
      this.sort = p.sort;
      this.refresh(0);
    });
    this.rpc.onRequest(Vote, async (p) => {
      const r = await this.conn.client.voteFinding(p.postId, p.vote);
      return { score: r.score };
    });
    this.rpc.onRequest(AddComment, async (p) => {
      await this.conn.client.commentFinding(p.postId, p.content);
    });
    this.rpc.onRequest(SetVerdict, async (p) => {
      await this.conn.client.findingVerdict(p.postId, p.verdict, p.note);
    });
  }

  select(postId: string | undefined): void {
    this.selected = postId;
    this.refresh(0);
  }

  protected relevant(e: AnyEvent): boolean {
    return e.type.startsWith('forum.');
  }

  protected async load(client: HubClient): Promise<ForumState> {
    const warnings: string[] = [];
    const page = await client.listFindings({ sort: this.sort, limit: FORUM_PAGE });
    let selected;
    const id = this.selected ?? page.findings[0]?.id;
    if (id) {
      try {
        selected = await client.getFinding(id);
      } catch (err) {
        warnings.push(`thread ${id}: ${errorMessage(err)}`);
      }
    }
    return { human: this.conn.human, sort: this.sort, threads: page.findings, total: page.total, selected, warnings };
  }
}
