// Extension entry: wires the hub connection, the four views, the review machinery (rev file system,
// diffs, comments), commands, status bar and the webviews. activate() only registers things; the hub
// connection (embedded hub start or team-hub handshake) happens in the background.
import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { registerPolicyCommands } from './policyCommands';
import { HubConnection } from './hubConnection';
import { ReviewComments } from './review/comments';
import { RevFileSystemProvider } from './review/revFs';
import { RunLogs } from './runLog';
import { AgentsTreeProvider } from './trees/agentsTree';
import { AuditTreeProvider } from './trees/auditTree';
import { registerAlerts } from './alertsHost';
import { ForumTreeProvider } from './trees/forumTree';
import { PolicyTreeProvider } from './trees/policyTree';
import { QueueTreeProvider } from './trees/queueTree';
import { registerWebviews } from './webviews/index';
import { registerEpisodes } from './episodes';
import { plain } from './text';

/** What activate() returns: the live objects, for the extension-host tests and other extensions. */
export interface OverseerApi {
  conn: HubConnection;
  queue: QueueTreeProvider;
  agents: AgentsTreeProvider;
  forum: ForumTreeProvider;
  audit: AuditTreeProvider;
  policy: PolicyTreeProvider;
  comments: ReviewComments;
  revFs: RevFileSystemProvider;
  runLogs: RunLogs;
  /** Milliseconds spent inside activate(). */
  activationMs: number;
}

let current: HubConnection | undefined;

export function activate(context: vscode.ExtensionContext): OverseerApi {
  const t0 = performance.now();
  const log = vscode.window.createOutputChannel('Overseer', { log: true });
  const conn = new HubConnection({ secrets: context.secrets, globalStorage: context.globalStorageUri.fsPath, log });
  current = conn;
  const sub = context.subscriptions;
  sub.push(log);

  const { provider: revFs, disposable: revReg } = RevFileSystemProvider.register(conn);
  const queue = new QueueTreeProvider(conn);
  const agents = new AgentsTreeProvider(conn);
  const forum = new ForumTreeProvider(conn);
  const audit = new AuditTreeProvider(conn);
  const policy = new PolicyTreeProvider(conn);
  const comments = new ReviewComments(conn);
  const runLogs = new RunLogs(conn);
  const queueView = vscode.window.createTreeView('overseer.queue', { treeDataProvider: queue, canSelectMany: true, showCollapseAll: true });
  const agentsView = vscode.window.createTreeView('overseer.agents', { treeDataProvider: agents, showCollapseAll: true });
  const forumView = vscode.window.createTreeView('overseer.forum', { treeDataProvider: forum });
  const auditView = vscode.window.createTreeView('overseer.audit', { treeDataProvider: audit });
  const policyView = vscode.window.createTreeView('overseer.policy', { treeDataProvider: policy });
  sub.push(revReg, queue, agents, forum, audit, comments, runLogs, queueView, agentsView, forumView, auditView);
  sub.push(policy, policyView);
  // `overseer.refresh` reloads the Audit view; the Policy view follows (once it has been shown).
  sub.push(audit.onDidChangeTreeData(() => policyView.visible && policy.refreshSoon()));

  // Badge + status bar: the awaiting-review count.
  const status = vscode.window.createStatusBarItem('overseer.status', vscode.StatusBarAlignment.Left, 50);
  status.name = 'Overseer';
  status.command = 'overseer.queue.focus';
  // What the approval policy approved in the last hour (from the event stream since connecting).
  const autoApproved: number[] = [];
  const autoLastHour = () => {
    const since = Date.now() - 3600_000;
    while (autoApproved.length && autoApproved[0]! < since) autoApproved.shift();
    return autoApproved.length;
  };
  const render = () => {
    const s = conn.status;
    const n = queue.model.awaitingCount();
    const auto = Math.max(autoLastHour(), policy.model.lastHour().length);
    const urgent = queue.model.urgentCount();
    queueView.badge = n ? { value: n, tooltip: `${n} experiment${n === 1 ? '' : 's'} awaiting review${urgent ? `, ${urgent} high or critical risk` : ''}` } : undefined;
    if (s.state === 'connected') {
      status.text = `$(eye) ${n} to review${urgent ? ` · $(shield) ${urgent} high risk` : ''}`;
      status.tooltip = `Overseer: ${n} awaiting review${urgent ? `, ${urgent} of high or critical risk` : ''}${auto ? `; the approval policy approved ${auto} in the last hour` : ''} — ${s.mode} hub${s.url ? ` ${s.url}` : ''}, acting as ${conn.human}`;
      // the warning colour only for what needs a human now (high/critical risk), not for every proposal
      status.backgroundColor = urgent ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    } else {
      status.text = s.state === 'error' ? '$(error) Overseer' : '$(sync~spin) Overseer';
      status.tooltip = `Overseer hub: ${s.state}${s.error ? ` — ${s.error}` : ''}`;
      status.backgroundColor = s.state === 'error' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    }
    status.show();
  };
  sub.push(status, queue.onDidChangeAwaiting(render));
  // the Policy view's badge: sampled automatic approvals waiting for a human; the tooltip's last-hour count from the hub
  sub.push(
    policy.onDidChangeTreeData(() => {
      const n = policy.model.auditQueue().length;
      policyView.badge = n ? { value: n, tooltip: `${n} automatic approval${n === 1 ? '' : 's'} waiting for a post-hoc audit` } : undefined;
      render();
    }),
  );
  sub.push(
    conn.onEvent((e) => {
      if (e.type !== 'experiment.approved' || !e.data.policy) return;
      autoApproved.push(Date.parse(e.ts) || Date.now());
      render();
      // a sampled automatic approval needs a human now: the post-hoc audit
      if (e.data.policy.sampled) {
        const id = e.data.experimentId;
        void vscode.window
          .showInformationMessage(`Overseer audit sample: policy rule "${plain(e.data.policy.rule, 100)}" (v${e.data.policy.version}) approved ${id}. Confirm or flag it.`, 'Confirm', 'Flag…', 'Open Review')
          .then((go) =>
            go === 'Confirm'
              ? vscode.commands.executeCommand('overseer.auditConfirm', id)
              : go === 'Flag…'
                ? vscode.commands.executeCommand('overseer.auditFlag', id)
                : go === 'Open Review' && vscode.commands.executeCommand('overseer.openReview', id),
          );
      }
    }),
  );
  // notifications only for what needs a human now (critical findings, probing, run violations, budget stops)
  sub.push(registerAlerts(conn, queue));
  sub.push(
    conn.onDidChangeStatus((s) => {
      void vscode.commands.executeCommand('setContext', 'overseer.connected', s.state === 'connected' || s.state === 'reconnecting');
      render();
    }),
  );
  render();

  sub.push(...registerCommands({ conn, queue, queueView, agents, forum, audit, comments, runLogs, secrets: context.secrets }));
  sub.push(...registerPolicyCommands({ conn, policy }));
  sub.push(registerWebviews(context, conn));
  sub.push(registerEpisodes(context, conn, queue));

  sub.push(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('overseer.hubUrl') || e.affectsConfiguration('overseer.fleetDir') || e.affectsConfiguration('overseer.humanName')) {
        void conn.connect();
      }
    }),
    context.secrets.onDidChange((e) => e.key === 'overseer.hubToken' && vscode.workspace.getConfiguration('overseer').get<string>('hubUrl') && void conn.connect()),
  );
  sub.push({ dispose: () => void conn.close() });

  // Connect in the background so activation stays cheap. Without a team hub or an existing fleet, wait until
  // the user opens an Overseer view (so no `.overseer/fleet` appears in unrelated workspaces).
  if (conn.shouldConnectEagerly()) setImmediate(() => void conn.connect());
  for (const v of [queueView, agentsView, forumView, auditView, policyView]) {
    sub.push(v.onDidChangeVisibility((e) => e.visible && conn.status.state === 'idle' && void conn.connect()));
    if (v.visible && conn.status.state === 'idle') setImmediate(() => void conn.connect());
  }

  const activationMs = performance.now() - t0;
  log.info(`activated in ${activationMs.toFixed(1)} ms`);
  return { conn, queue, agents, forum, audit, policy, comments, revFs, runLogs, activationMs };
}

export async function deactivate(): Promise<void> {
  await current?.close();
  current = undefined;
}
