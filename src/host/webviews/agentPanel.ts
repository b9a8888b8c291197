// Agent panel: direction, commit timeline, experiments with scores, budget use.
import * as vscode from 'vscode';
import type { AnyEvent } from '../../core/events';
import type { HubClient } from '../../hub/client';
import { AGENT_SURFACE, AgentStateNote, OpenReview, PauseAgent, ResumeAgent, type AgentState } from '../../shared/agentProtocol';
import { SurfacePanel, errorMessage, type WebviewConnection } from './panel';

export const AGENT_COMMITS = 60;

export class AgentPanel extends SurfacePanel<AgentState> {
  protected readonly stateNote = AgentStateNote;

  constructor(
    extensionUri: vscode.Uri,
    conn: WebviewConnection,
    readonly agentId: string,
  ) {
    super(AGENT_SURFACE, `Agent ${agentId}`, extensionUri, conn);
    this.rpc.onRequest(OpenReview, async (p) => {
      await vscode.commands.executeCommand('overseer.openReview', p.experimentId);
    });
    this.rpc.onRequest(PauseAgent, async (p) => {
      await this.conn.client.pauseAgent(agentId, p.reason);
    });
    this.rpc.onRequest(ResumeAgent, async () => {
      await this.conn.client.resumeAgent(agentId);
    });
  }

  protected relevant(e: AnyEvent): boolean {
    const d = e.data as { agentId?: unknown };
    if (d.agentId === this.agentId) return true;
    if (e.type.startsWith('experiment.')) return true; // experiment events name the experiment, not the agent
    return e.actor.kind === 'agent' && e.actor.id === this.agentId;
  }

  protected async load(client: HubClient): Promise<AgentState> {
    const warnings: string[] = [];
    const [detail, commits, list] = await Promise.all([
      client.agent(this.agentId),
      client.commits(this.agentId, undefined, AGENT_COMMITS).catch((err) => {
        warnings.push(`commits: ${errorMessage(err)}`);
        return { commits: [] };
      }),
      client.listExperiments({ agentId: this.agentId }).catch((err) => {
        warnings.push(`experiments: ${errorMessage(err)}`);
        return { experiments: [] };
      }),
    ]);
    const experiments = list.experiments.filter((x) => x.agentId === this.agentId).sort((a, b) => b.proposedSeq - a.proposedSeq);
    return { human: this.conn.human, detail, commits: commits.commits, experiments, warnings };
  }
}
