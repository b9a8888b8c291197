// Queue view: experiments grouped by state (awaiting review first), each expandable into its changed files;
// open sweeps are one row under "Awaiting review", expandable into their members.
// Refreshes node by node from ledger events: a state move refreshes the two group nodes involved, an
// in-place change refreshes the experiment's node, a viewed toggle refreshes its file list. Sweeps come
// from GET /api/triage, refetched (debounced) after the queue changes.
import * as vscode from 'vscode';
import type { AnyEvent } from '../../core/events';
import type { Experiment, ExperimentState } from '../../core/model';
import type { ChangedFileView, EpisodeList } from '../../hub/api';
import { DisposableBase } from '../disposable';
import type { HubConnection } from '../hubConnection';
import { nameWarnings, plain, plainName } from '../text';
import { GROUP_LABEL, QueueModel, experimentView, sweepView, type QueueDelta } from './queueModel';

export type QueueNode = GroupNode | SweepNode | ExperimentNode | FileNode | MessageNode | EpisodeNode;

/** An open agent episode (core/episodes.ts): one row at the top of the queue; its held proposals under it. */
export class EpisodeNode {
  readonly kind = 'episode';
  constructor(readonly episodeId: string) {}
}

/** Debounce of the sweep refetch after queue changes (a burst of proposals regroups once). */
export const SWEEP_REFRESH_MS = 400;

export class GroupNode {
  readonly kind = 'group';
  constructor(readonly state: ExperimentState) {}
}
export class SweepNode {
  readonly kind = 'sweep';
  constructor(readonly sweepId: string) {}
}
export class ExperimentNode {
  readonly kind = 'experiment';
  constructor(readonly experimentId: string) {}
}
export class FileNode {
  readonly kind = 'file';
  constructor(
    readonly experimentId: string,
    public file: ChangedFileView,
  ) {}
}
export class MessageNode {
  readonly kind = 'message';
  constructor(readonly text: string) {}
}

const FILE_STATUS: Record<string, string> = { A: 'added', M: 'modified', D: 'deleted', R: 'renamed', C: 'copied', T: 'type changed' };

export class QueueTreeProvider extends DisposableBase implements vscode.TreeDataProvider<QueueNode> {
  readonly model = new QueueModel();
  private readonly emitter = new vscode.EventEmitter<QueueNode | undefined | void>();
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly countEmitter = new vscode.EventEmitter<number>();
  /** Fires with the awaiting-review count whenever it may have changed. */
  readonly onDidChangeAwaiting = this.countEmitter.event;
  private readonly groupNodes = new Map<ExperimentState, GroupNode>();
  private readonly expNodes = new Map<string, ExperimentNode>();
  private readonly sweepNodes = new Map<string, SweepNode>();
  /** Open agent episodes from GET /api/triage (their held proposals leave "Awaiting review"). */
  private episodeRows: EpisodeList['episodes'] = [];
  private heldIds = new Set<string>();
  private readonly episodeNodes = new Map<string, EpisodeNode>();
  private readonly episodesEmitter = new vscode.EventEmitter<EpisodeList['episodes']>();
  /** Fires with the open episodes whenever they were refetched. */
  readonly onDidChangeEpisodes = this.episodesEmitter.event;
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweepsLoading: Promise<void> | undefined;
  private sweepsAgain = false;
  private readonly files = new Map<string, Promise<FileNode[]>>();
  private loadedPromise: Promise<void> | undefined;
  private error: string | undefined;
  private dirty = new Set<string>();
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(private readonly conn: HubConnection) {
    super();
    this._register(this.emitter);
    this._register(this.countEmitter);
    this._register(this.episodesEmitter);
    this._register(conn.onEvent((e) => this.onEvent(e)));
    this._register(conn.onDidChangeStatus((s) => s.state === 'connected' && !this.model.size && this.reload()));
  }

  /** Initial load (or full resync) from GET /api/fleet. */
  reload(): Promise<void> {
    this.loadedPromise = (async () => {
      try {
        const client = await this.conn.ready;
        const f = await client.fleet();
        this.model.reset(f.queue.flatMap((g) => g.experiments));
        this.files.clear();
        this.error = undefined;
        await this.loadSweeps(false);
      } catch (err) {
        this.error = (err as Error).message;
      }
      this.emitter.fire();
      this.countEmitter.fire(this.model.awaitingCount());
    })();
    return this.loadedPromise;
  }

  /** Refetch the open sweeps soon (debounced). */
  scheduleSweeps(delayMs = SWEEP_REFRESH_MS): void {
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    this.sweepTimer = setTimeout(() => {
      this.sweepTimer = undefined;
      void this.refreshSweeps();
    }, delayMs);
  }

  /** Refetch the open sweeps now and refresh what changed (one request in flight; a request during it runs once after). */
  async refreshSweeps(): Promise<void> {
    if (this.sweepsLoading) {
      this.sweepsAgain = true;
      return this.sweepsLoading;
    }
    this.sweepsLoading = this.loadSweeps(true).finally(() => {
      this.sweepsLoading = undefined;
      if (this.sweepsAgain) {
        this.sweepsAgain = false;
        void this.refreshSweeps();
      }
    });
    return this.sweepsLoading;
  }

  private async loadSweeps(fire: boolean): Promise<void> {
    let sweeps;
    let episodes: EpisodeList['episodes'];
    try {
      const t = await (await this.conn.ready).triage();
      sweeps = t.sweeps;
      episodes = t.episodes ?? [];
    } catch {
      return; // an older hub or a failed request: the experiments still show, one row each
    }
    const episodesChanged = this.setEpisodes(episodes);
    const delta = this.model.setSweeps(sweeps);
    if (episodesChanged) delta.root = true;
    if (fire) this.fireDelta(delta);
  }

  private setEpisodes(episodes: EpisodeList['episodes']): boolean {
    const sig = (es: EpisodeList['episodes']) => es.map((e) => `${e.id}:${(e.heldIds ?? []).join(',')}`).join('|');
    const changed = sig(episodes) !== sig(this.episodeRows);
    this.episodeRows = episodes;
    this.heldIds = new Set(episodes.flatMap((e) => e.heldIds ?? []));
    this.episodesEmitter.fire(episodes);
    return changed;
  }

  /** The open episodes as last fetched. */
  get episodes(): EpisodeList['episodes'] {
    return this.episodeRows;
  }

  episodeNode(id: string): EpisodeNode {
    let n = this.episodeNodes.get(id);
    if (!n) this.episodeNodes.set(id, (n = new EpisodeNode(id)));
    return n;
  }

  /** Resolves once the first load finished. */
  get loaded(): Promise<void> {
    return this.loadedPromise ?? this.reload();
  }

  private onEvent(e: AnyEvent): void {
    const d = e.data as { experimentId?: string; supersedes?: string };
    if (e.type === 'review.file_viewed') {
      const x = e.data;
      const cached = this.files.get(x.experimentId);
      if (cached) {
        void cached.then((nodes) => {
          const n = nodes.find((f) => f.file.path === x.file);
          if (n) {
            n.file = { ...n.file, viewed: x.viewed };
            this.emitter.fire(n);
          }
        });
      }
      return;
    }
    // an episode opened or decided (or one of its triggers) changes the episode rows and what is held
    if (e.type.startsWith('episode.') || e.type === 'eval.probing_suspected' || e.type === 'run.report') this.scheduleSweeps(50);
    if (!e.type.startsWith('experiment.') || !d.experimentId) return;
    this.dirty.add(d.experimentId);
    if (d.supersedes) this.dirty.add(d.supersedes);
    // Batch the refetches of one burst of events.
    this.flushTimer ??= setTimeout(() => void this.flush(), 15);
  }

  /** Refetch the experiments touched by recent events and refresh only their nodes. */
  async flush(): Promise<void> {
    this.flushTimer = undefined;
    const ids = [...this.dirty];
    this.dirty.clear();
    if (!ids.length) return;
    let client;
    try {
      client = await this.conn.ready;
    } catch {
      return;
    }
    const got = await Promise.all(ids.map((id) => client.getExperiment(id).catch(() => undefined)));
    this.apply(got.filter((x): x is Experiment => !!x));
    // a new proposal may join or form a sweep; a decided one has already left its sweep (apply)
    this.scheduleSweeps();
  }

  /** Apply updated experiments to the model and fire the minimal set of node changes. */
  apply(experiments: Experiment[]): QueueDelta {
    const total: QueueDelta = { root: false, groups: [], items: [] };
    for (const x of experiments) {
      const delta = this.model.upsert(x);
      total.root ||= delta.root;
      total.groups.push(...delta.groups);
      total.items.push(...delta.items);
    }
    this.fireDelta(total);
    return total;
  }

  private fireDelta(total: QueueDelta): void {
    if (total.root) this.emitter.fire();
    else {
      for (const s of new Set(total.groups)) this.emitter.fire(this.groupNode(s));
      for (const id of new Set(total.items)) this.emitter.fire(this.expNode(id));
    }
    this.countEmitter.fire(this.model.awaitingCount());
  }

  sweepNode(id: string): SweepNode {
    let n = this.sweepNodes.get(id);
    if (!n) this.sweepNodes.set(id, (n = new SweepNode(id)));
    return n;
  }

  private groupNode(s: ExperimentState): GroupNode {
    let n = this.groupNodes.get(s);
    if (!n) this.groupNodes.set(s, (n = new GroupNode(s)));
    return n;
  }

  expNode(id: string): ExperimentNode {
    let n = this.expNodes.get(id);
    if (!n) this.expNodes.set(id, (n = new ExperimentNode(id)));
    return n;
  }

  getChildren(node?: QueueNode): vscode.ProviderResult<QueueNode[]> {
    if (!node) {
      if (!this.loadedPromise) {
        if (!this.conn.isConnected) return [];
        return this.loaded.then(() => this.rootChildren());
      }
      return this.rootChildren();
    }
    if (node instanceof GroupNode) return this.model.rows(node.state).filter((r) => r.kind === 'sweep' || !this.heldIds.has(r.id)).map((r) => (r.kind === 'sweep' ? this.sweepNode(r.id) : this.expNode(r.id)));
    if (node instanceof EpisodeNode) return (this.episodeRows.find((e) => e.id === node.episodeId)?.heldIds ?? []).filter((i) => this.model.get(i)).map((i) => this.expNode(i));
    if (node instanceof SweepNode) return this.model.sweepMembers(node.sweepId).map((x) => this.expNode(x.id));
    if (node instanceof ExperimentNode) return this.fileNodes(node.experimentId);
    return [];
  }

  private rootChildren(): QueueNode[] {
    if (this.error && !this.model.size) return [new MessageNode(`Cannot load the queue: ${plain(this.error, 200)}`)];
    return [...this.episodeRows.map((e) => this.episodeNode(e.id)), ...this.model.groupList().map((g) => this.groupNode(g.state))];
  }

  fileNodes(experimentId: string): Promise<FileNode[]> {
    let p = this.files.get(experimentId);
    if (!p) {
      p = (async () => {
        const client = await this.conn.ready;
        const r = await client.experimentFiles(experimentId);
        return r.files.map((f) => new FileNode(experimentId, f));
      })();
      p.catch(() => this.files.delete(experimentId));
      this.files.set(experimentId, p);
    }
    return p;
  }

  getTreeItem(node: QueueNode): vscode.TreeItem {
    if (node instanceof GroupNode) {
      // held proposals are listed under their episode row, not counted here
      const n = this.model.groupCount(node.state) - [...this.heldIds].filter((i) => this.model.get(i)?.state === node.state).length;
      const item = new vscode.TreeItem(
        GROUP_LABEL[node.state],
        node.state === 'awaiting_review' || node.state === 'running' ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed,
      );
      item.id = `group:${node.state}`;
      item.description = String(n);
      item.contextValue = `group.${node.state}`;
      return item;
    }
    if (node instanceof EpisodeNode) {
      const ep = this.episodeRows.find((e) => e.id === node.episodeId);
      if (!ep) return new vscode.TreeItem(`episode ${node.episodeId} (decided)`);
      const item = new vscode.TreeItem(`Agent ${plain(ep.agentId, 64)}: ${ep.trigger.replace('_', ' ')}`, ep.held ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
      item.id = `episode:${ep.id}`;
      item.description = `${ep.held} held · one decision`;
      item.tooltip = `${ep.id}: ${plain(ep.reason, 500)}\nEnter opens the evidence; decide there (Ctrl+Enter resumes).`;
      item.contextValue = 'episode.open';
      item.iconPath = new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground'));
      item.command = { command: 'overseer.openEpisode', title: 'Open Episode', arguments: [ep.id] };
      item.accessibilityInformation = { label: `episode of agent ${plain(ep.agentId, 64)}, ${ep.trigger.replace('_', ' ')}, ${ep.held} held proposals` };
      return item;
    }
    if (node instanceof SweepNode) {
      const row = this.model.sweep(node.sweepId);
      if (!row) return new vscode.TreeItem(`sweep ${node.sweepId} (no longer open)`);
      const members = this.model.sweepMembers(row.id);
      const v = sweepView(row, members);
      const item = new vscode.TreeItem(v.label, vscode.TreeItemCollapsibleState.Collapsed);
      item.id = `sweep:${row.id}`;
      item.description = v.description;
      item.tooltip = v.tooltip;
      item.contextValue = v.contextValue;
      item.iconPath = new vscode.ThemeIcon(v.icon, v.iconColor ? new vscode.ThemeColor(v.iconColor) : undefined);
      item.command = { command: 'overseer.openSweep', title: 'Open Sweep', arguments: [row.id] };
      item.accessibilityInformation = { label: `sweep of ${members.length} experiments: ${v.label}, ${v.description}` };
      return item;
    }
    if (node instanceof ExperimentNode) {
      const x = this.model.get(node.experimentId);
      if (!x) return new vscode.TreeItem(node.experimentId);
      const v = experimentView(x);
      const item = new vscode.TreeItem(v.label, vscode.TreeItemCollapsibleState.Collapsed);
      item.id = `exp:${x.id}`;
      item.description = v.description;
      item.tooltip = v.tooltip;
      item.contextValue = v.contextValue;
      item.iconPath = new vscode.ThemeIcon(v.icon, v.iconColor ? new vscode.ThemeColor(v.iconColor) : undefined);
      item.command = { command: 'overseer.openReview', title: 'Open Review', arguments: [x.id] };
      item.accessibilityInformation = { label: `${v.label}, ${x.state.replace('_', ' ')}${x.screening?.gaming ? ', gaming suspected' : ''}` };
      return item;
    }
    if (node instanceof FileNode) {
      const f = node.file;
      const name = f.path.split('/').pop() ?? f.path;
      const item = new vscode.TreeItem(plainName(name, 'file', 120), vscode.TreeItemCollapsibleState.None);
      item.id = `file:${node.experimentId}:${f.path}`;
      const dir = f.path.includes('/') ? f.path.slice(0, f.path.lastIndexOf('/')) : '';
      item.description = `${f.viewed ? '✓ viewed · ' : ''}${f.binary ? 'binary' : `+${f.additions} −${f.deletions}`}${dir ? ` · ${plain(dir, 80)}` : ''}`;
      item.tooltip = [`${plain(f.path, 500)} (${FILE_STATUS[f.status] ?? f.status}${f.oldPath ? ` from ${plain(f.oldPath, 300)}` : ''})`, ...nameWarnings(f.path, 'file')].join('\n');
      item.contextValue = f.viewed ? 'file.viewed' : 'file.unviewed';
      item.iconPath = new vscode.ThemeIcon(f.viewed ? 'pass-filled' : f.status === 'A' ? 'diff-added' : f.status === 'D' ? 'diff-removed' : f.status === 'R' ? 'diff-renamed' : 'diff-modified');
      item.command = { command: 'overseer.openDiff', title: 'Open Diff', arguments: [{ experimentId: node.experimentId, file: f.path }] };
      return item;
    }
    const item = new vscode.TreeItem(node.text);
    item.iconPath = new vscode.ThemeIcon('info');
    return item;
  }

  getParent(node: QueueNode): QueueNode | undefined {
    if (node instanceof ExperimentNode) {
      const sw = this.model.sweepOf(node.experimentId);
      if (sw) return this.sweepNode(sw.id);
      const x = this.model.get(node.experimentId);
      return x ? this.groupNode(x.state) : undefined;
    }
    if (node instanceof SweepNode) return this.model.sweep(node.sweepId) ? this.groupNode('awaiting_review') : undefined;
    if (node instanceof FileNode) return this.expNode(node.experimentId);
    return undefined;
  }

  override dispose(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    super.dispose();
  }
}
