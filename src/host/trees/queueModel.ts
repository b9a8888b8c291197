// The Queue view's model: experiments grouped by state, awaiting review first, each group oldest first.
// Pure (no vscode) so it can be unit-tested and benchmarked under plain node. The tree provider asks it
// which group nodes changed after an update and refreshes only those.
import type { Experiment, ExperimentState } from '../../core/model';
import { QUEUE_ORDER, UNDECIDED } from '../../core/lifecycle';
import { nameWarnings, plain, plainName } from '../text';
import { RISK_BADGE, byRiskThenAge } from '../../core/risk';

export const GROUP_ORDER: readonly ExperimentState[] = QUEUE_ORDER;

export const GROUP_LABEL: Record<ExperimentState, string> = {
  awaiting_review: 'Awaiting review',
  screening: 'Screening',
  proposed: 'Proposed',
  approved: 'Approved',
  dispatched: 'Dispatched',
  running: 'Running',
  changes_requested: 'Changes requested',
  succeeded: 'Succeeded',
  scored: 'Scored',
  failed: 'Failed',
  timed_out: 'Timed out',
  cancelled: 'Cancelled',
  vetoed: 'Vetoed',
  superseded: 'Superseded',
};

/** What a change did to the tree: which group nodes to refresh, or the whole root. */
export interface QueueDelta {
  root: boolean;
  groups: ExperimentState[];
  /** Experiments whose own node changed without moving. */
  items: string[];
}

export class QueueModel {
  private readonly byId = new Map<string, Experiment>();
  private readonly groups = new Map<ExperimentState, Map<string, Experiment>>();
  private readonly sorted = new Map<ExperimentState, Experiment[]>();

  constructor() {
    for (const s of GROUP_ORDER) this.groups.set(s, new Map());
  }

  get size(): number {
    return this.byId.size;
  }

  get(id: string): Experiment | undefined {
    return this.byId.get(id);
  }

  /** Replace everything (initial load / resync). */
  reset(experiments: Iterable<Experiment>): void {
    this.byId.clear();
    this.sorted.clear();
    for (const g of this.groups.values()) g.clear();
    for (const x of experiments) this.insert(x);
  }

  private insert(x: Experiment): void {
    this.byId.set(x.id, x);
    let g = this.groups.get(x.state);
    if (!g) this.groups.set(x.state, (g = new Map()));
    g.set(x.id, x);
    this.sorted.delete(x.state);
  }

  /** Insert or update one experiment; returns what to refresh. */
  upsert(x: Experiment): QueueDelta {
    const old = this.byId.get(x.id);
    const delta: QueueDelta = { root: false, groups: [], items: [] };
    if (old && old.state === x.state && old.risk?.level !== x.risk?.level && UNDECIDED.includes(x.state)) {
      // same group, new risk: its place in the triage order moves
      this.insert(x);
      delta.groups.push(x.state);
      return delta;
    }
    if (old && old.state === x.state) {
      this.byId.set(x.id, x);
      this.groups.get(x.state)!.set(x.id, x);
      const arr = this.sorted.get(x.state);
      if (arr) {
        const i = arr.findIndex((e) => e.id === x.id);
        if (i >= 0) arr[i] = x;
      }
      delta.items.push(x.id);
      return delta;
    }
    if (old) {
      const g = this.groups.get(old.state)!;
      g.delete(x.id);
      this.sorted.delete(old.state);
      if (g.size === 0) delta.root = true;
      else delta.groups.push(old.state);
    }
    const target = this.groups.get(x.state);
    const wasEmpty = !target || target.size === 0;
    this.insert(x);
    if (wasEmpty) delta.root = true;
    else delta.groups.push(x.state);
    return delta;
  }

  /** Non-empty groups in display order. */
  groupList(): { state: ExperimentState; count: number }[] {
    const out: { state: ExperimentState; count: number }[] = [];
    for (const s of GROUP_ORDER) {
      const n = this.groups.get(s)?.size ?? 0;
      if (n) out.push({ state: s, count: n });
    }
    return out;
  }

  /** Experiments of one group: undecided ones by risk (highest first) then age, the others oldest first
   * (cached until the group changes). */
  children(state: ExperimentState): readonly Experiment[] {
    let arr = this.sorted.get(state);
    if (!arr) {
      const byRisk = UNDECIDED.includes(state);
      arr = [...(this.groups.get(state)?.values() ?? [])].sort((a, b) => (byRisk ? byRiskThenAge(a, b) : a.proposedSeq - b.proposedSeq));
      this.sorted.set(state, arr);
    }
    return arr;
  }

  awaitingCount(): number {
    let n = 0;
    for (const s of UNDECIDED) n += this.groups.get(s)?.size ?? 0;
    return n;
  }

  /** Undecided proposals that need a human now: high or critical risk. */
  urgentCount(): number {
    let n = 0;
    for (const st of UNDECIDED) for (const x of this.groups.get(st)?.values() ?? []) if (x.risk?.level === 'high' || x.risk?.level === 'critical') n++;
    return n;
  }

  /** Undecided experiments in triage order (awaiting review first; within a state by risk, then oldest first). */
  triageOrder(): Experiment[] {
    return (['awaiting_review', 'screening', 'proposed'] as const).flatMap((s) => [...this.children(s)]);
  }
}

export type ExperimentCategory = 'undecided' | 'approved' | 'running' | 'finished' | 'closed';

export function categoryOf(state: ExperimentState): ExperimentCategory {
  if (UNDECIDED.includes(state)) return 'undecided';
  if (state === 'approved') return 'approved';
  if (state === 'dispatched' || state === 'running') return 'running';
  if (state === 'succeeded' || state === 'failed' || state === 'timed_out' || state === 'scored' || state === 'cancelled') return 'finished';
  return 'closed';
}

/** Everything a tree item shows for an experiment, as plain strings (agent text sanitized). */
export interface ExperimentView {
  label: string;
  description: string;
  tooltip: string;
  contextValue: string;
  icon: string;
  iconColor?: string;
}

const STATE_ICON: Record<ExperimentState, string> = {
  proposed: 'circle-outline',
  screening: 'loading~spin',
  awaiting_review: 'circle-large-outline',
  approved: 'check',
  vetoed: 'close',
  changes_requested: 'request-changes',
  superseded: 'history',
  dispatched: 'clock',
  running: 'sync~spin',
  succeeded: 'pass',
  failed: 'error',
  cancelled: 'circle-slash',
  timed_out: 'watch',
  scored: 'star-full',
};

export function experimentView(x: Experiment): ExperimentView {
  const gaming = x.screening?.gaming === true;
  const cat = categoryOf(x.state);
  const parts = [plain(x.agentId, 64), `${x.resources.gpuHours} GPU-h`];
  if (x.risk && cat === 'undecided') parts.unshift(`${RISK_BADGE[x.risk.level]} risk`);
  if (x.run && (x.state === 'dispatched' || x.state === 'running')) parts.push(`${x.state} on ${plain(x.run.runner, 40)}`);
  else if (x.score) parts.push(`PGR ${x.score.pgr === null ? 'n/a' : x.score.pgr.toFixed(3)}`);
  else if (x.state !== 'awaiting_review') parts.push(x.state.replace('_', ' '));
  if (gaming) parts.push('⚠ gaming suspected');
  if (x.supersedes) parts.push(`follow-up of ${plain(x.supersedes, 64)}`);
  const findings = x.screening?.findings ?? [];
  const tip = [
    `${plain(x.title, 300)}`,
    `${x.id} by ${plain(x.agentId, 64)} — ${x.state.replace('_', ' ')}`,
    `commit ${x.commit.slice(0, 12)}${x.branch ? ` on ${plain(x.branch, 100)}` : ''}`,
    `command: ${plain(x.command, 300)}`,
    `resources: ${x.resources.gpus} GPU, ${x.resources.gpuHours} GPU-h, ${x.resources.timeLimitMinutes} min`,
  ];
  if (x.risk) {
    tip.push(`risk: ${x.risk.level}`);
    for (const r of x.risk.reasons.slice(0, 6)) tip.push(`  • [${r.level}] ${plain(r.text, 200)}`);
  }
  if (x.screening) tip.push(`screening: ${gaming ? 'GAMING SUSPECTED' : 'no gaming detected'} (${findings.length} finding${findings.length === 1 ? '' : 's'}, score ${x.screening.score.toFixed(2)})`);
  for (const f of findings.slice(0, 5)) tip.push(`  • [${f.severity}] ${plain(f.file, 120)}:${f.line} ${plain(f.explanation, 160)}`);
  if (x.verdict) tip.push(`verdict: ${x.verdict.decision.replace('_', ' ')} by ${plain(x.verdict.by.id, 64)}${x.verdict.reason ? ` — ${plain(x.verdict.reason, 300)}` : ''}`);
  if (x.run?.reason) tip.push(`run: ${plain(x.run.reason, 300)}`);
  tip.push(...nameWarnings(x.title, 'title'), ...nameWarnings(x.agentId, 'agent'), ...(x.branch ? nameWarnings(x.branch, 'branch') : []));
  return {
    label: (x.title ? plainName(x.title, 'title', 120) : '') || x.id,
    description: parts.join(' · '),
    tooltip: tip.join('\n'),
    contextValue: `experiment.${cat}${gaming ? '.gaming' : ''}${x.supersedes ? '.followup' : ''}`,
    icon: gaming && cat !== 'closed' ? 'warning' : cat === 'undecided' && (x.risk?.level === 'critical' || x.risk?.level === 'high') ? 'shield' : STATE_ICON[x.state],
    iconColor: gaming ? 'problemsWarningIcon.foreground' : cat === 'undecided' && x.risk?.level === 'critical' ? 'problemsErrorIcon.foreground' : cat === 'undecided' && x.risk?.level === 'high' ? 'problemsWarningIcon.foreground' : x.state === 'failed' ? 'testing.iconFailed' : undefined,
  };
}
