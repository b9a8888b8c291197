// Episode panel: the evidence of one agent episode on one page and the one decision about the agent.
import * as vscode from 'vscode';
import type { AnyEvent } from '../../core/events';
import type { HubClient } from '../../hub/client';
import { EPISODE_SURFACE, EpisodeStateNote, OpenReview, ReleaseHeld, ResolveEpisode, type EpisodeState } from '../../shared/episodeProtocol';
import { SurfacePanel, type WebviewConnection } from './panel';

export class EpisodePanel extends SurfacePanel<EpisodeState> {
  protected readonly stateNote = EpisodeStateNote;
  private agentId: string | undefined;

  constructor(
    extensionUri: vscode.Uri,
    conn: WebviewConnection,
    readonly episodeId: string,
  ) {
    super(EPISODE_SURFACE, `Episode ${episodeId}`, extensionUri, conn);
    this.rpc.onRequest(ResolveEpisode, async (p) => {
      await this.conn.client.resolveEpisode(episodeId, p);
    });
    this.rpc.onRequest(ReleaseHeld, async (p) => {
      await this.conn.client.releaseHeld(episodeId, p.experimentId);
    });
    this.rpc.onRequest(OpenReview, async (p) => {
      await vscode.commands.executeCommand('overseer.openReview', p.experimentId);
    });
  }

  protected relevant(e: AnyEvent): boolean {
    const d = e.data as { agentId?: unknown; episodeId?: unknown };
    if (d.episodeId === this.episodeId || (this.agentId && d.agentId === this.agentId)) return true;
    return e.type.startsWith('experiment.') || e.type === 'run.report';
  }

  protected async load(client: HubClient): Promise<EpisodeState> {
    const view = await client.episode(this.episodeId);
    this.agentId = view.episode.agentId;
    return { human: this.conn.human, view };
  }
}
