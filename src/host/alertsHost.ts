// Shows the alerts of src/host/alerts.ts as VS Code notifications: only what needs a human now (critical findings,
// probing alerts, run-report violations, agents stopped by budget or by the system), each with the action that
// answers it; repeats dropped, bursts summarized. Setting `overseer.notifications`: "needsHuman" (default) or "off".
import * as vscode from 'vscode';
import { AlertGate, alertFor, type Alert } from './alerts';
import type { HubConnection } from './hubConnection';
import type { QueueTreeProvider } from './trees/queueTree';

const ACTIONS: Record<Alert['kind'], string[]> = {
  critical_finding: ['Open Review'],
  probing: ['Open Agent', 'Resume Evaluation…'],
  run_violation: ['Open Review', 'Show Run Log'],
  agent_stopped: ['Open Agent'],
  episode: ['Open Episode'],
};

export function registerAlerts(conn: HubConnection, queue: QueueTreeProvider): vscode.Disposable {
  // at most one toast a minute; the rest come back as one summary (and the episodes stay in the status bar digest)
  const gate = new AlertGate({ burst: 1 });
  const enabled = () => vscode.workspace.getConfiguration('overseer').get<string>('notifications', 'needsHuman') !== 'off';
  const act = async (a: Alert, choice: string | undefined) => {
    if (choice === 'Open Review' && a.experimentId) await vscode.commands.executeCommand('overseer.openReview', a.experimentId);
    else if (choice === 'Show Run Log' && a.experimentId) await vscode.commands.executeCommand('overseer.showRunLog', a.experimentId);
    else if (choice === 'Open Agent' && a.agentId) await vscode.commands.executeCommand('overseer.openAgent', a.agentId);
    else if (choice === 'Open Episode' && a.episodeId) await vscode.commands.executeCommand('overseer.openEpisode', a.episodeId);
    else if (choice === 'Resume Evaluation…' && a.agentId) await vscode.commands.executeCommand('overseer.resumeAgentEvaluation', { agentId: a.agentId });
  };
  const show = (level: 'error' | 'warning', text: string, actions: string[]) =>
    level === 'error' ? vscode.window.showErrorMessage(text, ...actions) : vscode.window.showWarningMessage(text, ...actions);
  const sub = conn.onEvent((e) => {
    if (!enabled()) return;
    const a = alertFor(e, { human: conn.human, experiment: (id) => queue.model.get(id) });
    if (!a || gate.offer(a, Date.now()) !== 'show') return;
    void show(a.level, a.text, ACTIONS[a.kind]).then((c) => act(a, c), () => undefined);
  });
  // held alerts come back as one summary once the burst window allows
  const timer = setInterval(() => {
    const s = gate.flush(Date.now());
    if (!s || !enabled()) return;
    void show(s.level, s.text, ['Show Audit']).then((c) => (c ? vscode.commands.executeCommand('overseer.audit.focus') : undefined), () => undefined);
  }, 15_000);
  return vscode.Disposable.from(sub, new vscode.Disposable(() => clearInterval(timer)));
}
