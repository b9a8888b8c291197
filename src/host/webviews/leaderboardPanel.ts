// Leaderboard panel: PGR (mean with bootstrap CI) per agent/method, verified vs self-reported, probing alerts.
import * as vscode from 'vscode';
import type { AnyEvent } from '../../core/events';
import type { HubClient } from '../../hub/client';
import { LEADERBOARD_SURFACE, LeaderboardStateNote, OpenAgent, OpenExperiment, RunFinalEvaluation, type LeaderboardState } from '../../shared/leaderboardProtocol';
import { buildLeaderboard, diversityView, finalResults, pgrSeries, probeAlerts } from './leaderboardModel';
import { SurfacePanel, errorMessage, type WebviewConnection } from './panel';

export class LeaderboardPanel extends SurfacePanel<LeaderboardState> {
  protected readonly stateNote = LeaderboardStateNote;

  constructor(extensionUri: vscode.Uri, conn: WebviewConnection) {
    super(LEADERBOARD_SURFACE, 'Overseer Leaderboard', extensionUri, conn);
    this.rpc.onRequest(OpenAgent, async (p) => {
      await vscode.commands.executeCommand('overseer.openAgent', p.agentId);
    });
    this.rpc.onRequest(OpenExperiment, async (p) => {
      await vscode.commands.executeCommand('overseer.openReview', p.experimentId);
    });
    this.rpc.onRequest(RunFinalEvaluation, async (p) => {
      await vscode.commands.executeCommand('overseer.runFinalEvaluation', p.experimentId);
    });
  }

  protected relevant(e: AnyEvent): boolean {
    return e.type === 'experiment.scored' || e.type.startsWith('eval.') || e.type === 'agent.registered' || e.type === 'diversity.measured';
  }

  protected async load(client: HubClient): Promise<LeaderboardState> {
    const warnings: string[] = [];
    const [agents, list, audit, diversity, finals] = await Promise.all([
      client.agents(),
      client.listExperiments(),
      client.audit(2000).catch((err) => {
        warnings.push(`audit: ${errorMessage(err)}`);
        return { entries: [] };
      }),
      client.diversity().catch((err) => {
        warnings.push(`diversity: ${errorMessage(err)}`);
        return null;
      }),
      client.evaluationFinals().catch((err) => {
        warnings.push(`final evaluations: ${errorMessage(err)}`);
        return { finals: [] };
      }),
    ]);
    const alerts = probeAlerts(audit.entries, agents.agents.map((a) => a.id));
    return {
      human: this.conn.human,
      rows: buildLeaderboard(agents.agents, list.experiments, alerts),
      alerts,
      diversity: diversityView(diversity),
      finals: finalResults(finals.finals, list.experiments),
      series: pgrSeries(agents.agents, list.experiments),
      warnings,
    };
  }
}
