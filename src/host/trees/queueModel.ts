// The Queue view's model: experiments grouped by state, awaiting review first, each group oldest first.
// Undecided members of an open sweep (hub: attention.ts) are one row under "Awaiting review", expandable
// to its members. Pure (no vscode) so it can be unit-tested and benchmarked under plain node. The tree
// provider asks it which group nodes changed after an update and refreshes only those.
import type { Experiment, ExperimentState } from '../../core/model';
import type { Sweep } from '../../hub/attention';
import { QUEUE_ORDER, UNDECIDED } from '../../core/lifecycle';
import { nameWarnings, plain, plainName } from '../text';
import { RISK_BADGE, byRiskThenAge, riskRank, type Risk, type RiskLevel } from '../../core/risk';
import { sweepApproval } from '../../shared/reviewProtocol';

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

/** One row of a group: an experiment, or (under "Awaiting review") an open sweep. */
export type QueueRow = { kind: 'experiment'; id: string } | { kind: 'sweep'; id: string };

/** An open sweep as the queue shows it: its members still undecided here (at least two), in proposal order. */
export interface SweepRow {
  /** The first current member's id (the hub's sweep id once it regroups). */
  id: string;
  memberIds: string[];
  /** The literals that still vary across the current members, each member's value in member order. */
  params: { name: string; values: string[] }[];
  /** Raw (agent-derived) label, e.g. `lr ∈ {1e-5, 3e-5} · 2 experiments`; sanitize before showing. */
  label: string;
  baseCommit: string | null;
}

export class QueueModel {
  private readonly byId = new Map<string, Experiment>();
  private readonly groups = new Map<ExperimentState, Map<string, Experiment>>();
  private readonly sorted = new Map<ExperimentState, Experiment[]>();
  /** Sweeps as the hub last reported them, and the open sweeps derived from them and the current states. */
  private hubSweeps: Sweep[] = [];
  private readonly rawMembers = new Set<string>();
  private sweepRows = new Map<string, SweepRow>();
  private readonly sweepOfId = new Map<string, string>();
  private readonly hidden = new Map<ExperimentState, number>();
  private readonly rowCache = new Map<ExperimentState, QueueRow[]>();

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
    this.rowCache.clear();
    for (const g of this.groups.values()) g.clear();
    for (const x of experiments) this.insert(x);
    this.deriveSweeps();
  }

  private insert(x: Experiment): void {
    this.byId.set(x.id, x);
    let g = this.groups.get(x.state);
    if (!g) this.groups.set(x.state, (g = new Map()));
    g.set(x.id, x);
    this.sorted.delete(x.state);
    this.rowCache.delete(x.state);
  }

  /** Insert or update one experiment; returns what to refresh. */
  upsert(x: Experiment): QueueDelta {
    const visible = this.visibleKey();
    const member = this.rawMembers.has(x.id);
    const before = member ? this.sweepSnapshot() : undefined;
    const delta: QueueDelta = { root: false, groups: [], items: [] };
    const old = this.byId.get(x.id);
    if (old && old.state === x.state && old.risk?.level !== x.risk?.level && UNDECIDED.includes(x.state)) {
      // same group, new risk: its place in the triage order moves
      this.insert(x);
      delta.groups.push(x.state);
    } else if (old && old.state === x.state) {
      this.byId.set(x.id, x);
      this.groups.get(x.state)!.set(x.id, x);
      const arr = this.sorted.get(x.state);
      if (arr) {
        const i = arr.findIndex((e) => e.id === x.id);
        if (i >= 0) arr[i] = x;
      }
      delta.items.push(x.id);
    } else {
      if (old) {
        this.groups.get(old.state)!.delete(x.id);
        this.sorted.delete(old.state);
        this.rowCache.delete(old.state);
        delta.groups.push(old.state);
      }
      this.insert(x);
      delta.groups.push(x.state);
    }
    // a member decided or superseded leaves its sweep; a sweep of one is no longer a sweep
    if (member) this.deriveSweeps();
    // a member's risk or gaming flag is part of its sweep row (badge, order, whether it can be approved)
    if (this.sweepOfId.has(x.id) && (old?.risk?.level !== x.risk?.level || old?.screening?.gaming !== x.screening?.gaming)) delta.groups.push('awaiting_review');
    return this.finish(delta, visible, before);
  }

  /** The open sweeps from `GET /api/triage` (replaces the previous ones); returns what to refresh. */
  setSweeps(sweeps: readonly Sweep[]): QueueDelta {
    const visible = this.visibleKey();
    const before = this.sweepSnapshot();
    this.hubSweeps = [...sweeps];
    this.deriveSweeps();
    return this.finish({ root: false, groups: [], items: [] }, visible, before);
  }

  /** Compare with the state before a change: a sweep that changed refreshes "Awaiting review" and the
   * groups its members came from or went back to; a group appearing or disappearing refreshes the root. */
  private finish(delta: QueueDelta, visible: string, before: { sig: string; of: Map<string, string> } | undefined): QueueDelta {
    const after = before && this.sweepSnapshot();
    if (before && after && after.sig !== before.sig) {
      delta.groups.push('awaiting_review');
      for (const id of new Set([...before.of.keys(), ...after.of.keys()])) {
        if (before.of.has(id) === after.of.has(id)) continue; // still in a sweep row (maybe a renamed one) or still not
        const st = this.byId.get(id)?.state;
        if (st) delta.groups.push(st);
      }
    }
    if (this.visibleKey() !== visible) return { root: true, groups: [], items: delta.items };
    delta.groups = [...new Set(delta.groups)];
    return delta;
  }

  private sweepSnapshot(): { sig: string; of: Map<string, string> } {
    const sig = [...this.sweepRows.values()].map((r) => `${r.id}:${r.memberIds.join(',')}|${r.label}`).join('\n');
    return { sig, of: new Map(this.sweepOfId) };
  }

  /** Open sweeps from the hub's sweeps and the members' current states (undecided ones only, two or more,
   * and still differing in some value: identical proposals are duplicates, not a sweep). */
  private deriveSweeps(): void {
    this.rawMembers.clear();
    this.sweepOfId.clear();
    this.hidden.clear();
    this.rowCache.clear();
    const rows = new Map<string, SweepRow>();
    for (const s of this.hubSweeps) {
      for (const id of s.experimentIds) this.rawMembers.add(id);
      const keep: number[] = [];
      s.experimentIds.forEach((id, i) => {
        const x = this.byId.get(id);
        if (x && UNDECIDED.includes(x.state) && !this.sweepOfId.has(id)) keep.push(i);
      });
      if (keep.length < 2) continue;
      const params = s.params
        .map((p) => ({ name: p.name, values: keep.map((i) => String(p.values[i] ?? '')) }))
        .filter((p) => new Set(p.values).size > 1);
      if (!params.length) continue;
      const memberIds = keep.map((i) => s.experimentIds[i]!);
      const label = `${params.map((p) => `${p.name} ∈ {${[...new Set(p.values)].join(', ')}}`).join(', ')} · ${memberIds.length} experiments`;
      const row: SweepRow = { id: memberIds[0]!, memberIds, params, label, baseCommit: s.baseCommit ?? null };
      rows.set(row.id, row);
      for (const id of memberIds) {
        this.sweepOfId.set(id, row.id);
        const st = this.byId.get(id)!.state;
        this.hidden.set(st, (this.hidden.get(st) ?? 0) + 1);
      }
    }
    this.sweepRows = rows;
  }

  /** Experiments shown under a group's node (members of a sweep row count under "Awaiting review"). */
  groupCount(state: ExperimentState): number {
    const n = (this.groups.get(state)?.size ?? 0) - (this.hidden.get(state) ?? 0);
    if (state !== 'awaiting_review') return n;
    let m = 0;
    for (const r of this.sweepRows.values()) m += r.memberIds.length;
    return n + m;
  }

  private rowCount(state: ExperimentState): number {
    return (this.groups.get(state)?.size ?? 0) - (this.hidden.get(state) ?? 0) + (state === 'awaiting_review' ? this.sweepRows.size : 0);
  }

  private visibleKey(): string {
    return GROUP_ORDER.filter((s) => this.rowCount(s) > 0).join(',');
  }

  /** Non-empty groups in display order. */
  groupList(): { state: ExperimentState; count: number }[] {
    const out: { state: ExperimentState; count: number }[] = [];
    for (const s of GROUP_ORDER) {
      if (this.rowCount(s) > 0) out.push({ state: s, count: this.groupCount(s) });
    }
    return out;
  }

  /** The rows of a group: its experiments that are not in an open sweep, and under "Awaiting review" the
   * open sweeps, in triage order (a sweep by its highest member risk, then its oldest member). */
  rows(state: ExperimentState): readonly QueueRow[] {
    let rows = this.rowCache.get(state);
    if (rows) return rows;
    const xs = this.children(state);
    if (!this.sweepOfId.size) rows = xs.map((x) => ({ kind: 'experiment' as const, id: x.id }));
    else {
      const keyed: { row: QueueRow; key: { risk?: Risk; proposedSeq: number } }[] = xs
        .filter((x) => !this.sweepOfId.has(x.id))
        .map((x) => ({ row: { kind: 'experiment' as const, id: x.id }, key: x }));
      if (state === 'awaiting_review') for (const r of this.sweepRows.values()) keyed.push({ row: { kind: 'sweep', id: r.id }, key: this.sweepKey(r) });
      // experiments of a decided group keep their order (oldest first); only undecided groups gain sweeps
      if (UNDECIDED.includes(state)) keyed.sort((a, b) => byRiskThenAge(a.key, b.key));
      rows = keyed.map((k) => k.row);
    }
    this.rowCache.set(state, rows);
    return rows;
  }

  private sweepKey(r: SweepRow): { risk?: Risk; proposedSeq: number } {
    const xs = this.sweepMembers(r.id);
    return { risk: highestRisk(xs), proposedSeq: Math.min(...xs.map((x) => x.proposedSeq)) };
  }

  /** Open sweeps, in the order of the "Awaiting review" rows. */
  sweepList(): SweepRow[] {
    return this.rows('awaiting_review').flatMap((r) => (r.kind === 'sweep' ? [this.sweepRows.get(r.id)!] : []));
  }

  sweep(id: string): SweepRow | undefined {
    return this.sweepRows.get(id);
  }

  /** The open sweep an experiment is shown in, if any. */
  sweepOf(experimentId: string): SweepRow | undefined {
    const id = this.sweepOfId.get(experimentId);
    return id === undefined ? undefined : this.sweepRows.get(id);
  }

  /** A sweep's current members (proposal order). */
  sweepMembers(id: string): Experiment[] {
    return (this.sweepRows.get(id)?.memberIds ?? []).map((m) => this.byId.get(m)!).filter(Boolean);
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

/** The highest risk among experiments (unassessed counts as medium, as in the triage order). */
export function highestRisk(xs: readonly Experiment[]): Risk | undefined {
  let best: Risk | undefined;
  for (const x of xs) {
    const r = x.risk ?? { level: 'medium' as RiskLevel, reasons: [] };
    if (!best || riskRank(r.level) > riskRank(best.level)) best = r;
  }
  return best;
}

/** A sweep row's tree item (agent-derived label, names and values sanitized). */
export function sweepView(row: SweepRow, members: readonly Experiment[]): ExperimentView {
  const risk = highestRisk(members);
  const agents = [...new Set(members.map((x) => x.agentId))];
  const verdict = sweepApproval(members.map(sweepMemberOf));
  const parts = [`${RISK_BADGE[risk?.level ?? 'medium']} risk`, agents.map((a) => plain(a, 40)).slice(0, 3).join(', ') + (agents.length > 3 ? ` +${agents.length - 3}` : '')];
  if (verdict.refused) parts.push('approve members individually');
  const tip = [`Sweep of ${members.length} experiments (same base, same code shape; only these values differ):`];
  members.forEach((x, i) => {
    const vals = row.params.map((p) => `${plain(p.name, 40)}=${plain(p.values[i], 60)}`).join(', ');
    tip.push(`  ${x.id}: ${vals} — ${x.risk ? RISK_BADGE[x.risk.level] : 'MED'}${x.screening?.gaming ? ', ⚠ gaming suspected' : ''} · ${x.commit.slice(0, 12)}`);
  });
  if (verdict.refused) tip.push(verdict.refused);
  tip.push(...nameWarnings(row.label, 'title'));
  return {
    label: plainName(row.label, 'title', 160) || `sweep of ${members.length}`,
    description: parts.join(' · '),
    tooltip: tip.join('\n'),
    contextValue: verdict.refused ? 'sweep.refused' : 'sweep.open',
    icon: verdict.refused ? 'warning' : 'layers',
    iconColor: verdict.refused || risk?.level === 'high' ? 'problemsWarningIcon.foreground' : undefined,
  };
}

/** What the sweep approval rule needs of a member. */
export function sweepMemberOf(x: Experiment): { id: string; gaming: boolean; risk?: Risk } {
  return { id: x.id, gaming: x.screening?.gaming === true, risk: x.risk };
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

/** Views by experiment version. An experiment object is one version (each comes from a fresh JSON reply; the
 * model replaces, never edits, them), so its view — sanitized text, badges, risk lines — is computed once and
 * dropped with the version. */
const VIEWS = new WeakMap<Experiment, ExperimentView>();

/** Everything a tree item shows for an experiment (cached per version: see VIEWS). */
export function experimentView(x: Experiment): ExperimentView {
  let v = VIEWS.get(x);
  if (!v) VIEWS.set(x, (v = computeExperimentView(x)));
  return v;
}

/** The view computed afresh (no cache): what every render cost before views were kept per version (bench baseline). */
export function computeExperimentView(x: Experiment): ExperimentView {
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
