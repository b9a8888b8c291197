// Agents view: agent → direction / status / budget use / sandbox repo → branches → commits → changed files.
// Agent nodes refresh individually on agent/budget/experiment events for that agent.
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import type { AnyEvent } from '../../core/events';
import type { Agent } from '../../core/model';
import type { AgentDetail } from '../../hub/api';
import { Sandbox } from '../../git/sandbox';
import { DisposableBase } from '../disposable';
import type { HubConnection } from '../hubConnection';
import { lookalikeGroups } from '../../shared/textSafety';
import { ago, nameWarnings, plain, plainBlock, plainName } from '../text';
import { revUri } from '../review/revFs';
import { agentTreeId, budgetLine, commitNodes, fileNodes, type AgentTreeNode } from './agentsModel';

export class AgentsTreeProvider extends DisposableBase implements vscode.TreeDataProvider<AgentTreeNode> {
  private readonly emitter = new vscode.EventEmitter<AgentTreeNode | undefined | void>();
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly agents = new Map<string, Agent>();
  private readonly agentNodes = new Map<string, AgentTreeNode & { kind: 'agent' }>();
  private readonly repoNodes = new Map<string, AgentTreeNode & { kind: 'repo' }>();
  private readonly details = new Map<string, Promise<AgentDetail>>();
  private loaded: Promise<void> | undefined;
  private error: string | undefined;

  constructor(private readonly conn: HubConnection) {
    super();
    this._register(this.emitter);
    this._register(conn.onEvent((e) => this.onEvent(e)));
    this._register(conn.onDidChangeStatus((s) => s.state === 'connected' && !this.agents.size && void this.reload()));
  }

  reload(): Promise<void> {
    this.loaded = (async () => {
      try {
        const client = await this.conn.ready;
        const { agents } = await client.agents();
        this.agents.clear();
        this.details.clear();
        for (const a of agents) this.agents.set(a.id, a);
        this.error = undefined;
      } catch (err) {
        this.error = (err as Error).message;
      }
      this.emitter.fire();
    })();
    return this.loaded;
  }

  private onEvent(e: AnyEvent): void {
    const d = e.data as { agentId?: string };
    const agentId = d.agentId;
    if (e.type === 'agent.registered') {
      void this.reload();
      return;
    }
    if (e.type === 'experiment.proposed' && agentId) {
      // New commits/branches may exist: refresh the repo subtree only.
      this.details.delete(agentId);
      const r = this.repoNodes.get(agentId);
      if (r) this.emitter.fire(r);
      return;
    }
    if (e.type.startsWith('experiment.approved') || e.type.startsWith('experiment.vetoed')) {
      // Budget use changes; we do not know the agent from the event alone: refetch all known agents cheaply.
      void this.refreshAgents();
      return;
    }
    if (agentId && (e.type.startsWith('agent.') || e.type.startsWith('budget.') || e.type === 'eval.query')) void this.refreshAgent(agentId);
  }

  private async refreshAgents(): Promise<void> {
    try {
      const client = await this.conn.ready;
      const { agents } = await client.agents();
      for (const a of agents) {
        const old = this.agents.get(a.id);
        this.agents.set(a.id, a);
        if (!old) this.emitter.fire();
        else if (JSON.stringify(old.used) !== JSON.stringify(a.used) || old.status !== a.status) this.emitter.fire(this.agentNode(a.id));
      }
    } catch {
      /* next event retries */
    }
  }

  private async refreshAgent(agentId: string): Promise<void> {
    try {
      const client = await this.conn.ready;
      const d = await client.agent(agentId);
      this.agents.set(agentId, d.agent);
      this.details.set(agentId, Promise.resolve(d));
      this.emitter.fire(this.agentNode(agentId));
    } catch {
      /* shown on next expand */
    }
  }

  agentNode(agentId: string): AgentTreeNode & { kind: 'agent' } {
    let n = this.agentNodes.get(agentId);
    if (!n) this.agentNodes.set(agentId, (n = { kind: 'agent', agentId }));
    return n;
  }

  private repoNode(agentId: string): AgentTreeNode & { kind: 'repo' } {
    let n = this.repoNodes.get(agentId);
    if (!n) this.repoNodes.set(agentId, (n = { kind: 'repo', agentId }));
    return n;
  }

  private detail(agentId: string): Promise<AgentDetail> {
    let p = this.details.get(agentId);
    if (!p) {
      p = this.conn.ready.then((c) => c.agent(agentId));
      p.catch(() => this.details.delete(agentId));
      this.details.set(agentId, p);
    }
    return p;
  }

  async getChildren(node?: AgentTreeNode): Promise<AgentTreeNode[]> {
    if (!node) {
      if (!this.conn.isConnected && !this.loaded) return [];
      await (this.loaded ?? this.reload());
      if (this.error && !this.agents.size) return [{ kind: 'message', text: `Cannot load agents: ${plain(this.error)}` }];
      return [...this.agents.keys()].sort().map((id) => this.agentNode(id));
    }
    const client = await this.conn.ready;
    try {
      switch (node.kind) {
        case 'agent':
          return [
            { kind: 'info', agentId: node.agentId, field: 'direction' },
            { kind: 'info', agentId: node.agentId, field: 'status' },
            { kind: 'info', agentId: node.agentId, field: 'budget' },
            this.repoNode(node.agentId),
          ];
        case 'repo': {
          const d = await this.detail(node.agentId);
          // Branches that read the same (equal TR39 skeletons, e.g. `rnain` and `main`) name each other.
          const groups = lookalikeGroups(d.branches.map((b) => b.name));
          return d.branches.map((b) => ({ kind: 'branch', agentId: node.agentId, name: b.name, commit: b.commit, lookalikes: groups.find((g) => g.includes(b.name))?.filter((n) => n !== b.name) }));
        }
        case 'branch': {
          const { commits } = await client.commits(node.agentId, node.commit, 30);
          return commitNodes(node, commits);
        }
        case 'commit':
          return await this.commitFiles(node);
        default:
          return [];
      }
    } catch (err) {
      return [{ kind: 'message', text: plain((err as Error).message) }];
    }
  }

  /** Files changed by a commit: from a proposal pinned to it (via the hub), else from the local sandbox. */
  private async commitFiles(node: AgentTreeNode & { kind: 'commit' }): Promise<AgentTreeNode[]> {
    const { agentId, commit: c } = node;
    const client = await this.conn.ready;
    const { experiments } = await client.listExperiments({ agentId });
    const x = experiments.find((e) => e.commit === c.sha);
    if (x) {
      const r = await client.experimentFiles(x.id);
      return fileNodes(node, r.files, { experimentId: x.id });
    }
    const d = await this.detail(agentId).catch(() => undefined);
    if (!d || !fs.existsSync(d.hubRepo)) return [{ kind: 'message', text: 'Files are shown for proposed commits (repository not on this machine)' }];
    const parent = c.parents[0];
    const files = await new Sandbox(d.hubRepo).changedFiles(parent, c.sha);
    return fileNodes(node, files, { parent });
  }

  getTreeItem(node: AgentTreeNode): vscode.TreeItem {
    const None = vscode.TreeItemCollapsibleState.None;
    const Collapsed = vscode.TreeItemCollapsibleState.Collapsed;
    switch (node.kind) {
      case 'agent': {
        const a = this.agents.get(node.agentId);
        const item = new vscode.TreeItem(plainName(a?.name ?? node.agentId, 'agent', 80), Collapsed);
        item.id = agentTreeId(node);
        if (a) {
          item.description = `${a.status === 'paused' ? '⏸ paused · ' : ''}${plain(a.direction, 60)}`;
          item.tooltip = [`${plain(a.id, 64)} — ${a.status}`, ...nameWarnings(a.name, 'agent'), plainBlock(a.direction, 1000), budgetLine(a)].join('\n');
          item.contextValue = `agent.${a.status}`;
          item.iconPath = new vscode.ThemeIcon(a.status === 'paused' ? 'debug-pause' : 'hubot');
        }
        return item;
      }
      case 'info': {
        const a = this.agents.get(node.agentId);
        const item = new vscode.TreeItem('', None);
        item.id = agentTreeId(node);
        if (node.field === 'direction') {
          item.label = `Direction: ${plain(a?.direction ?? '', 120)}`;
          item.tooltip = plainBlock(a?.direction ?? '', 4000);
          item.iconPath = new vscode.ThemeIcon('compass');
        } else if (node.field === 'status') {
          item.label = `Status: ${a?.status ?? '?'}`;
          item.description = a?.pausedReason ? plain(a.pausedReason, 120) : undefined;
          item.iconPath = new vscode.ThemeIcon(a?.status === 'paused' ? 'debug-pause' : 'pulse');
        } else {
          item.label = a ? `Budget: ${budgetLine(a)}` : 'Budget';
          item.iconPath = new vscode.ThemeIcon('dashboard');
          const over = a && a.used.gpuHours > a.budget.gpuHours * 0.9;
          if (over) item.iconPath = new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground'));
        }
        return item;
      }
      case 'repo': {
        const item = new vscode.TreeItem('Sandbox repository', Collapsed);
        item.id = agentTreeId(node);
        item.iconPath = new vscode.ThemeIcon('repo');
        item.tooltip = plain(this.agents.get(node.agentId)?.repoPath ?? '', 500);
        return item;
      }
      case 'branch': {
        const like = node.lookalikes?.length ? ` ⚠ looks like ${node.lookalikes.map((n) => plain(n, 60)).join(', ')}` : '';
        const item = new vscode.TreeItem(`${plainName(node.name, 'branch', 120)}${like}`, Collapsed);
        item.id = agentTreeId(node);
        item.tooltip = [plain(node.name, 500), ...nameWarnings(node.name, 'branch'), ...(like ? [like.trim()] : [])].join('\n');
        item.description = node.commit.slice(0, 8);
        item.iconPath = new vscode.ThemeIcon('git-branch');
        return item;
      }
      case 'commit': {
        const c = node.commit;
        const item = new vscode.TreeItem(plain(c.subject, 100) || c.sha.slice(0, 8), Collapsed);
        item.id = agentTreeId(node);
        item.description = `${c.sha.slice(0, 8)} · ${ago(c.date)}`;
        item.tooltip = `${c.sha}\n${plain(c.author, 100)} — ${c.date}\n${plain(c.subject, 500)}`;
        item.iconPath = new vscode.ThemeIcon('git-commit');
        return item;
      }
      case 'file': {
        const name = node.path.split('/').pop() ?? node.path;
        const item = new vscode.TreeItem(plainName(name, 'file', 120), None);
        item.id = agentTreeId(node);
        item.description = `${node.status}${node.path.includes('/') ? ` · ${plain(node.path.slice(0, node.path.lastIndexOf('/')), 80)}` : ''}`;
        item.tooltip = [plain(node.path, 500), ...nameWarnings(node.path, 'file')].join('\n');
        item.iconPath = new vscode.ThemeIcon(node.status === 'A' ? 'diff-added' : node.status === 'D' ? 'diff-removed' : 'diff-modified');
        if (node.experimentId) {
          item.command = { command: 'overseer.openDiff', title: 'Open Diff', arguments: [{ experimentId: node.experimentId, file: node.path }] };
        } else if (node.parent) {
          const left = revUri({ kind: 'commit', agentId: node.agentId, commit: node.parent, path: node.path });
          const right = revUri({ kind: 'commit', agentId: node.agentId, commit: node.commit, path: node.path });
          item.command = { command: 'vscode.diff', title: 'Open Diff', arguments: [left, right, `${plainName(name, 'file', 80)} (${node.commit.slice(0, 8)})`] };
        }
        return item;
      }
      default: {
        const item = new vscode.TreeItem(node.text, None);
        item.iconPath = new vscode.ThemeIcon('info');
        return item;
      }
    }
  }
}
