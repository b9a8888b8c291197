// Review panel: one experiment (reused panel), decisions pinned to the commit/tree shown, queue triage; or a
// sweep: its representative member's review plus the table of members and their varying values, decided
// together (one pinned decision per member).
import * as vscode from 'vscode';
import type { AnyEvent } from '../../core/events';
import type { Experiment } from '../../core/model';
import { HubError, type HubClient } from '../../hub/client';
import {
  AcceptResult,
  BatchApprove,
  Decide,
  DecideSweep,
  OpenDiff,
  REVIEW_SURFACE,
  ReviewStateNote,
  ShowExperiment,
  type BatchResult,
  type FileDiff,
  type QueueItem,
  type ReviewState,
  type SweepMemberView,
  type SweepReview,
  sweepApproval,
} from '../../shared/reviewProtocol';
import { SurfacePanel, errorMessage, type WebviewConnection } from './panel';
import { byRiskThenAge } from '../../core/risk';

/** Commits listed on the review page (pin back to the base). */
const MAX_COMMITS = 50;
/** Inline diffs only for small text files; larger ones open in the native diff editor. */
export const SMALL_FILE_LINES = 300;
export const MAX_INLINE_FILES = 12;
export const MAX_INLINE_PATCH = 40_000;

const UNDECIDED = new Set(['proposed', 'screening', 'awaiting_review']);

export function toQueueItem(x: Experiment): QueueItem {
  return {
    id: x.id,
    title: x.title,
    agentId: x.agentId,
    gaming: x.screening?.gaming ?? false,
    score: x.screening?.score,
    gpuHours: x.resources.gpuHours,
    commit: x.commit,
    tree: x.tree,
    risk: x.risk?.level,
  };
}

/** The sweep a panel shows: its id and every member it has shown (decided ones stay in the table). */
export interface SweepRef {
  id: string;
  shownIds: string[];
  /** Each member's value per literal name, as last known (a decided member keeps its values). */
  values: Map<string, Record<string, string>>;
  names: string[];
  /** Why the last reload happened (a 409), shown once. */
  note?: string;
  /** The hub's label when last open: a decided sweep keeps its name ("lr ∈ {…} · 3 experiments"). */
  label?: string;
}

export class ReviewPanel extends SurfacePanel<ReviewState> {
  protected readonly stateNote = ReviewStateNote;
  private _experimentId: string;
  private sweepRef: SweepRef | undefined;

  constructor(extensionUri: vscode.Uri, conn: WebviewConnection, experimentId: string) {
    super(REVIEW_SURFACE, `Review ${experimentId}`, extensionUri, conn);
    this._experimentId = experimentId;
    this.rpc.onRequest(Decide, (p) => this.decide(p));
    this.rpc.onRequest(BatchApprove, (p) => this.batchApprove(p.items));
    this.rpc.onRequest(DecideSweep, (p) => this.decideSweep(p));
    this.rpc.onRequest(OpenDiff, async (p) => {
      await vscode.commands.executeCommand('overseer.openDiff', { experimentId: p.experimentId, file: p.file, line: p.line });
    });
    this.rpc.onRequest(ShowExperiment, async (p) => this.show(p.experimentId));
    this.rpc.onRequest(AcceptResult, async (p) => {
      const x = await this.conn.client.acceptResult(p.experimentId, { reason: p.reason, ...(p.falseAlarms.length ? { falseAlarms: p.falseAlarms } : {}) });
      this.refresh(0);
      return { status: x.verification?.status ?? x.state };
    });
    // Triage keys (a/v/r/j/k) are handled inside the webview, which knows when the reviewer is typing a
    // reason. We deliberately do not set the `overseer.reviewFocused` context: VS Code forwards every
    // keydown in a webview to the workbench keybinding service, so workbench keybindings on the same
    // single letters would fire as well (twice-decided experiments, or a veto reason typed as "a..."
    // approving). See the report to the host engineer.
  }

  get experimentId(): string {
    return this._experimentId;
  }

  /** The sweep under review, if the panel shows one. */
  get sweepId(): string | undefined {
    return this.sweepRef?.id;
  }

  show(experimentId: string): void {
    this.sweepRef = undefined;
    this._experimentId = experimentId;
    this.panel.title = `Review ${experimentId}`;
    this.refresh(0);
  }

  /** Review a sweep: the first member's review and the table of members (ids as the queue shows them). */
  showSweep(sweepId: string, memberIds: string[]): void {
    this.sweepRef = { id: sweepId, shownIds: [...memberIds], values: new Map(), names: [] };
    this._experimentId = memberIds[0] ?? sweepId;
    this.panel.title = `Review sweep ${sweepId}`;
    this.refresh(0);
  }

  protected relevant(e: AnyEvent): boolean {
    if (e.type.startsWith('experiment.')) return true; // the queue changes with any experiment
    if (e.type === 'review.commented' || e.type === 'review.file_viewed') return e.data.experimentId === this._experimentId;
    return e.type.startsWith('budget.') || e.type.startsWith('agent.');
  }

  protected async load(client: HubClient): Promise<ReviewState> {
    if (!this.sweepRef) return loadReviewState(client, this._experimentId, this.conn.human);
    const sweep = await loadSweepReview(client, this.sweepRef);
    this._experimentId = sweep.members.find((m) => m.open)?.id ?? sweep.members[0]?.id ?? this._experimentId;
    return { ...(await loadReviewState(client, this._experimentId, this.conn.human)), sweep };
  }

  private async decideSweep(p: { sweepId: string; decision: 'approve' | 'veto' | 'request_changes'; members: { experimentId: string; commit: string; tree: string }[]; reason?: string }) {
    const client = this.conn.client;
    if (p.decision === 'approve') {
      // the page refuses too; the rule is checked again on the members as they are now
      const now = await Promise.all(p.members.map((m) => client.getExperiment(m.experimentId)));
      const rule = sweepApproval(now.map((x) => ({ id: x.id, gaming: x.screening?.gaming === true, risk: x.risk })));
      if (rule.refused) throw new Error(rule.refused);
    }
    try {
      const r = await client.decideSweep({ decision: p.decision, members: p.members, reason: p.reason });
      this.refresh(0);
      return { decided: r.experiments.map((x) => x.id) };
    } catch (err) {
      if (err instanceof HubError && err.status === 409) {
        if (this.sweepRef) this.sweepRef.note = `Nothing was decided: ${err.message}. The sweep was reloaded; review it again.`;
        this.refresh(0);
        throw new Error(`The sweep changed since it was shown (${err.message}): reloaded, review it again.`);
      }
      throw err;
    }
  }

  private async decide(p: { experimentId: string; decision: 'approve' | 'veto' | 'requestChanges'; commit: string; tree: string; reason?: string }) {
    const client = this.conn.client;
    const pin = { commit: p.commit, tree: p.tree };
    let x: Experiment;
    if (p.decision === 'approve') x = await client.approve(p.experimentId, { ...pin, note: p.reason });
    else if (p.decision === 'veto') x = await client.veto(p.experimentId, { ...pin, reason: p.reason ?? '' });
    else x = await client.requestChanges(p.experimentId, { ...pin, reason: p.reason ?? '' });
    this.refresh(0);
    return { state: x.state };
  }

  private async batchApprove(items: { experimentId: string; commit: string; tree: string }[]): Promise<{ results: BatchResult[] }> {
    const results: BatchResult[] = [];
    // Sequential on purpose: each approval charges the budget, so order decides which ones fit.
    for (const it of items) {
      try {
        // like the bulk command: gaming-flagged, high and critical risk proposals need their own review
        const x = await this.conn.client.getExperiment(it.experimentId);
        const level = x.risk?.level;
        if (x.screening?.gaming || level === 'high' || level === 'critical') {
          results.push({ experimentId: it.experimentId, ok: false, error: `${x.screening?.gaming ? 'flagged for gaming' : `${level} risk`}: approve it individually` });
          continue;
        }
        await this.conn.client.approve(it.experimentId, { commit: it.commit, tree: it.tree });
        results.push({ experimentId: it.experimentId, ok: true });
      } catch (err) {
        results.push({ experimentId: it.experimentId, ok: false, error: errorMessage(err) });
      }
    }
    this.refresh(0);
    return { results };
  }
}

export async function loadReviewState(client: HubClient, experimentId: string, human: string): Promise<ReviewState> {
  const warnings: string[] = [];
  const soft = <T>(what: string, p: Promise<T>, fallback: T): Promise<T> =>
    p.catch((err) => {
      warnings.push(`${what}: ${errorMessage(err)}`);
      return fallback;
    });
  const experiment = await client.getExperiment(experimentId);
  const [agent, files, comments, all] = await Promise.all([
    soft('agent', client.agent(experiment.agentId).then((d) => d), undefined),
    soft('files', client.experimentFiles(experimentId).then((f) => f.files), []),
    soft('comments', client.experimentComments(experimentId).then((c) => c.comments), []),
    soft('queue', client.listExperiments().then((l) => l.experiments), [] as Experiment[]),
  ]);
  const log = await soft('commits', client.commits(experiment.agentId, experiment.commit, MAX_COMMITS + 1).then((c) => c.commits), []);
  const atBase = experiment.baseCommit ? log.findIndex((c) => c.sha === experiment.baseCommit) : -1;
  const commits = (atBase >= 0 ? log.slice(0, atBase) : log).slice(0, MAX_COMMITS);
  const commitsTruncated = atBase < 0 && log.length > MAX_COMMITS;
  const small = files.filter((f) => !f.binary && f.additions + f.deletions <= SMALL_FILE_LINES).slice(0, MAX_INLINE_FILES);
  const diffs: FileDiff[] = [];
  let budget = MAX_INLINE_PATCH;
  const patches = await Promise.all(small.map((f) => soft(`diff of ${f.path}`, client.experimentDiff(experimentId, f.path), undefined)));
  for (let i = 0; i < small.length; i++) {
    const d = patches[i];
    if (!d) continue;
    if (d.patch.length > budget) break;
    budget -= d.patch.length;
    diffs.push({ file: small[i].path, patch: d.patch, truncated: d.truncated });
  }
  const queue = all
    .filter((x) => UNDECIDED.has(x.state))
    .sort(byRiskThenAge)
    .map(toQueueItem);
  return {
    human,
    experiment,
    agent: agent && {
      id: agent.agent.id,
      name: agent.agent.name,
      direction: agent.agent.direction,
      budget: agent.agent.budget,
      used: agent.agent.used,
      status: agent.agent.status,
      remainingGpuHours: agent.budget.remainingGpuHours,
    },
    files,
    diffs,
    comments,
    commits,
    commitsTruncated,
    queue,
    warnings,
  };
}

/** The sweep table: the hub's current sweep (by id, else the one sharing most members with what was shown),
 * plus every member shown before (decided ones keep their row, with their state). */
export async function loadSweepReview(client: HubClient, ref: SweepRef): Promise<SweepReview> {
  const t = await client.triage();
  const shown = new Set(ref.shownIds);
  const overlap = (ids: string[]) => ids.filter((i) => shown.has(i)).length;
  const hub = t.sweeps.find((s) => s.id === ref.id) ?? [...t.sweeps].sort((a, b) => overlap(b.experimentIds) - overlap(a.experimentIds)).find((s) => overlap(s.experimentIds) > 0);
  if (hub) {
    for (const p of hub.params) if (!ref.names.includes(p.name)) ref.names.push(p.name);
    hub.experimentIds.forEach((id, i) => {
      const v = ref.values.get(id) ?? {};
      for (const p of hub.params) v[p.name] = String(p.values[i] ?? '');
      ref.values.set(id, v);
    });
    ref.id = hub.id;
    ref.label = hub.label;
  }
  const ids = [...(hub?.experimentIds ?? []), ...ref.shownIds.filter((i) => !hub?.experimentIds.includes(i))];
  ref.shownIds = ids;
  const known = new Map(t.experiments.map((x) => [x.id, x]));
  const xs = await Promise.all(ids.map((id) => (known.get(id) ? Promise.resolve(known.get(id)!) : client.getExperiment(id).catch(() => undefined))));
  const open = new Set(hub?.experimentIds ?? []);
  const members: SweepMemberView[] = [];
  xs.forEach((x, i) => {
    const id = ids[i]!;
    if (!x) return;
    const v = ref.values.get(id) ?? {};
    members.push({
      id,
      title: x.title,
      agentId: x.agentId,
      state: x.state,
      commit: x.commit,
      tree: x.tree,
      gaming: x.screening?.gaming === true,
      risk: x.risk,
      values: ref.names.map((n) => v[n] ?? ''),
      open: open.has(id) && UNDECIDED.has(x.state),
    });
  });
  const note = ref.note ?? (hub || !members.some((m) => UNDECIDED.has(m.state)) ? undefined : 'This is no longer an open sweep (fewer than two undecided members, or they no longer differ only in values): decide the remaining members individually.');
  ref.note = undefined;
  return { id: ref.id, label: hub?.label ?? ref.label ?? `sweep ${ref.id}`, params: [...ref.names], members, open: !!hub && members.filter((m) => m.open).length >= 2, note };
}
