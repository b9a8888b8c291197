// Agent episodes in VS Code (core/episodes.ts): the episode page (webview), the decisions from the queue row
// (resume / retire, keyboard-first: Enter on the row opens the evidence, Ctrl+Enter there resumes), and a
// status-bar digest of the open episodes. Toasts for episodes go through the alert gate (alertsHost.ts).
import * as vscode from 'vscode';
import type { HubConnection } from './hubConnection';
import type { QueueTreeProvider } from './trees/queueTree';
import { EpisodePanel } from './webviews/episodePanel';
import { idArg } from './webviews/index';
import { plain } from './text';

export function registerEpisodes(context: vscode.ExtensionContext, conn: HubConnection, queue: QueueTreeProvider): vscode.Disposable {
  const panels = new Map<string, EpisodePanel>();
  const episodeArg = (arg: unknown) => idArg(arg, 'episodeId');
  const pick = async (): Promise<string | undefined> => {
    const eps = queue.episodes;
    if (eps.length <= 1) return eps[0]?.id;
    const items = eps.map((e) => ({ label: e.id, description: `${plain(e.agentId, 64)} · ${e.trigger.replace('_', ' ')} · ${e.held} held`, detail: plain(e.reason, 200) }));
    return (await vscode.window.showQuickPick(items, { placeHolder: 'Agent episode' }))?.label;
  };
  const open = async (arg?: unknown): Promise<EpisodePanel | undefined> => {
    const id = episodeArg(arg) ?? (await pick());
    if (!id) return undefined;
    let p = panels.get(id);
    if (p) p.reveal();
    else {
      const np = new EpisodePanel(context.extensionUri, conn, id);
      panels.set(id, np);
      np.onDidDispose(() => panels.delete(id));
      p = np;
    }
    return p;
  };
  const decide = (action: 'resume' | 'retire') => async (arg?: unknown) => {
    const id = episodeArg(arg) ?? (await pick());
    if (!id) return;
    const ep = queue.episodes.find((e) => e.id === id);
    const who = ep ? plain(ep.agentId, 64) : id;
    const note = await vscode.window.showInputBox({
      title: `${action === 'resume' ? 'Resume' : 'Retire'} agent ${who} (episode ${id})`,
      prompt: action === 'resume' ? 'Note to the agent (its held flagged proposals are vetoed with it; the rest return to the queue)' : 'Why the agent is retired (its held proposals are vetoed; it stays paused)',
      validateInput: (v) => (v.trim() ? undefined : 'A note is required: it goes to the agent and the ledger'),
    });
    if (!note?.trim()) return;
    if (action === 'retire') {
      const ok = await vscode.window.showWarningMessage(`Retire ${who}? Its held proposals are vetoed and it cannot propose again.`, { modal: true }, 'Retire');
      if (ok !== 'Retire') return;
    }
    try {
      await (await conn.ready).resolveEpisode(id, { action, note: note.trim() });
      void vscode.window.setStatusBarMessage(`Overseer: ${who} ${action === 'resume' ? 'resumed' : 'retired'}`, 5000);
      await queue.refreshSweeps();
    } catch (err) {
      void vscode.window.showErrorMessage(`Overseer: ${(err as Error).message}`);
    }
  };

  // the digest: open episodes in the status bar (one decision each)
  const item = vscode.window.createStatusBarItem('overseer.episodes', vscode.StatusBarAlignment.Left, 99);
  item.name = 'Overseer agent episodes';
  item.command = 'overseer.openEpisode';
  const render = () => {
    const eps = queue.episodes;
    if (!eps.length) return item.hide();
    item.text = `$(warning) ${eps.length} agent episode${eps.length === 1 ? '' : 's'}`;
    item.tooltip = `One decision each (${eps.reduce((n, e) => n + e.held, 0)} proposals held):\n${eps.map((e) => `${e.id} · ${plain(e.agentId, 64)} · ${e.trigger.replace('_', ' ')} · ${e.held} held`).join('\n')}`;
    item.show();
  };
  return vscode.Disposable.from(
    item,
    queue.onDidChangeEpisodes(render),
    vscode.commands.registerCommand('overseer.openEpisode', open),
    vscode.commands.registerCommand('overseer.resumeAgentEpisode', decide('resume')),
    vscode.commands.registerCommand('overseer.retireAgentEpisode', decide('retire')),
    new vscode.Disposable(() => {
      for (const p of [...panels.values()]) p.dispose();
    }),
  );
}
