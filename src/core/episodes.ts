// Agent episodes: attention spent on agents, not proposals.
//
// Design. A misbehaving agent used to cost one human decision per proposal (every proposal of an agent with
// vetoes or an open probing alert is medium/high risk, so no policy may decide it). An *episode* turns that into
// one decision about the agent:
//  - Triggers (pure, `triggerOf`): a human veto of a proposal screening flagged as gaming, a probing alert
//    (`eval.probing_suspected`), a run report naming violations, or a human pausing the agent into review. The
//    hub's episode engine (episodeOps.ts) appends `episode.opened` in the same synchronous step as the trigger
//    is sequenced, so nothing (the policy engine, the dispatcher) can act on the agent in between.
//  - While open, the agent's open proposals (undecided, or approved and not yet dispatched) are *held*: out of
//    the triage queue, refused by approve/veto/request-changes and by dispatch, never approved by a policy.
//    New proposals are accepted and held too. Further triggers add evidence to the open episode.
//  - The human takes one decision (`episode.resolved`, human-only): `resume` (the note goes to the agent's
//    inbox; held proposals screening flagged are vetoed with the note; open probing alerts are lifted);
//    `probation` (the same, plus a CEL condition every later automatic approval of this agent must also meet);
//    `review` (every held proposal is released into the queue for an individual decision, which no policy takes);
//    `retire` (held proposals are vetoed, the agent is paused for good). A single held proposal may also be
//    released (`episode.released`) and decided at its own pin while the episode stays open.
//  - The agent's record as risk reads it starts after its last resolution: the human decided about the vetoes
//    and violations before it with the evidence on one page; a new trigger opens a new episode.
// Fair triage (`fairOrder`): risk first, but every proposal has a deadline (by risk level); rows past their
// deadline go first, earliest deadline first, so low-risk work policies could not decide ages into view.
// Everything here is a fold over ledger events or a pure function of the state: no I/O, no vscode.
import type { AnyEvent } from './events';
import type { Experiment } from './model';
import { UNDECIDED } from './lifecycle';
import { riskRank, type AgentRecord, type Risk, type RiskLevel } from './risk';

export type EpisodeTrigger = 'gaming_veto' | 'probing_alert' | 'run_violation' | 'human';
export type EpisodeAction = 'resume' | 'probation' | 'review' | 'retire';
export const EPISODE_ACTIONS: readonly EpisodeAction[] = ['resume', 'probation', 'review', 'retire'];

export interface EpisodeEvidence {
  kind: 'veto' | 'probing_alert' | 'run_violation' | 'opened';
  seq: number;
  ts: string;
  experimentId?: string;
  /** Agent-influenced text (veto reasons quote findings, run summaries quote paths): render as text. */
  text: string;
}

export interface EpisodeResolution {
  action: EpisodeAction;
  by: string;
  note: string;
  probation?: string;
  seq: number;
  ts: string;
  /** Held proposals at the time of the decision. */
  held: string[];
}

export interface Episode {
  id: string;
  agentId: string;
  trigger: EpisodeTrigger;
  /** The proposal whose veto or run opened it. */
  experimentId?: string;
  reason: string;
  openedSeq: number;
  openedAt: string;
  evidence: EpisodeEvidence[];
  /** Proposals a human released for an individual decision while the episode was open. */
  released: string[];
  resolution?: EpisodeResolution;
}

export interface EpisodeSnapshot {
  episodes: Episode[];
  probation: [string, { expr: string; episodeId: string; by: string; seq: number }][];
  released: string[];
}

/** What an event means for episodes: the trigger it is, if any (pure; `experiment` reads the state after it). */
export function triggerOf(e: AnyEvent, experiment: (id: string) => Experiment | undefined): { agentId: string; trigger: EpisodeTrigger; experimentId?: string; reason: string } | undefined {
  if (e.type === 'experiment.vetoed') {
    const x = experiment(e.data.experimentId);
    if (!x || e.actor.kind !== 'human' || !x.screening?.gaming) return undefined;
    return { agentId: x.agentId, trigger: 'gaming_veto', experimentId: x.id, reason: `vetoed as gaming by ${e.actor.id}: ${e.data.reason}`.slice(0, 2000) };
  }
  if (e.type === 'eval.probing_suspected') {
    return { agentId: e.data.agentId, trigger: 'probing_alert', reason: `probing alert on ${e.data.dataset}/${e.data.split}${e.data.suspended ? ' (evaluation suspended)' : ''}`.slice(0, 2000) };
  }
  if (e.type === 'run.report' && e.data.violations > 0) {
    const x = experiment(e.data.experimentId);
    if (!x) return undefined;
    return { agentId: x.agentId, trigger: 'run_violation', experimentId: x.id, reason: `run of ${x.id} reported ${e.data.violations} violation${e.data.violations === 1 ? '' : 's'}: ${e.data.summary}`.slice(0, 2000) };
  }
  return undefined;
}

/** States a held proposal may be in: undecided, or approved and not dispatched yet. */
const HOLDABLE = new Set<string>([...UNDECIDED, 'approved']);

export class EpisodeBook {
  readonly episodes = new Map<string, Episode>();
  /** agentId -> its open episode's id. */
  readonly openByAgent = new Map<string, string>();
  /** agentId -> the probation condition a human set with its last resolution. */
  readonly probation = new Map<string, { expr: string; episodeId: string; by: string; seq: number }>();
  /** Proposals released from an episode for an individual (human) decision: no policy decides them. */
  readonly released = new Set<string>();
  /** agentId -> seq of its last resolution (its record for risk starts after it). */
  readonly resolvedAt = new Map<string, number>();
  readonly retired = new Set<string>();

  /** Fold one event (called after the fleet state applied it). */
  apply(e: AnyEvent, experiment: (id: string) => Experiment | undefined, experimentsOf: (agentId: string) => Iterable<Experiment>): void {
    switch (e.type) {
      case 'episode.opened': {
        if (this.openByAgent.has(e.data.agentId)) return;
        const ep: Episode = {
          id: e.data.episodeId,
          agentId: e.data.agentId,
          trigger: e.data.trigger,
          ...(e.data.experimentId ? { experimentId: e.data.experimentId } : {}),
          reason: e.data.reason,
          openedSeq: e.seq,
          openedAt: e.ts,
          evidence: [{ kind: 'opened', seq: e.seq, ts: e.ts, ...(e.data.experimentId ? { experimentId: e.data.experimentId } : {}), text: e.data.reason }],
          released: [],
        };
        this.episodes.set(ep.id, ep);
        this.openByAgent.set(ep.agentId, ep.id);
        return;
      }
      case 'episode.released': {
        const ep = this.episodes.get(e.data.episodeId);
        if (!ep || ep.resolution || e.actor.kind !== 'human') return;
        ep.released.push(e.data.experimentId);
        this.released.add(e.data.experimentId);
        return;
      }
      case 'episode.resolved': {
        const ep = this.episodes.get(e.data.episodeId);
        if (!ep || ep.resolution || e.actor.kind !== 'human') return;
        const held = [...experimentsOf(ep.agentId)].filter((x) => this.isHeld(x)).map((x) => x.id);
        ep.resolution = { action: e.data.action, by: e.actor.id, note: e.data.note, ...(e.data.probation ? { probation: e.data.probation } : {}), seq: e.seq, ts: e.ts, held };
        this.openByAgent.delete(ep.agentId);
        this.resolvedAt.set(ep.agentId, e.seq);
        if (e.data.action === 'review') for (const i of held) this.released.add(i);
        if (e.data.action === 'probation' && e.data.probation) this.probation.set(ep.agentId, { expr: e.data.probation, episodeId: ep.id, by: e.actor.id, seq: e.seq });
        else if (e.data.action === 'resume') this.probation.delete(ep.agentId);
        if (e.data.action === 'retire') this.retired.add(ep.agentId);
        return;
      }
      default: {
        // later triggers while an episode is open are its evidence
        const t = triggerOf(e, experiment) ?? this.vetoEvidence(e, experiment);
        if (!t) return;
        const ep = this.openOf(t.agentId);
        if (!ep || ep.evidence.some((q) => q.seq === e.seq)) return;
        const kind = e.type === 'experiment.vetoed' ? 'veto' : e.type === 'eval.probing_suspected' ? 'probing_alert' : 'run_violation';
        ep.evidence.push({ kind, seq: e.seq, ts: e.ts, ...(t.experimentId ? { experimentId: t.experimentId } : {}), text: t.reason });
      }
    }
  }

  /** Any human veto of the agent's proposals while an episode is open is evidence too. */
  private vetoEvidence(e: AnyEvent, experiment: (id: string) => Experiment | undefined) {
    if (e.type !== 'experiment.vetoed') return undefined;
    const x = experiment(e.data.experimentId);
    return x && { agentId: x.agentId, experimentId: x.id, reason: `vetoed by ${e.actor.id}: ${e.data.reason}`.slice(0, 2000) };
  }

  openOf(agentId: string): Episode | undefined {
    const id = this.openByAgent.get(agentId);
    return id === undefined ? undefined : this.episodes.get(id);
  }

  open(): Episode[] {
    return [...this.openByAgent.values()].map((i) => this.episodes.get(i)!).sort((a, b) => a.openedSeq - b.openedSeq);
  }

  /** Held: the agent has an open episode, the proposal is open (undecided, or approved and not dispatched) and no
   * human released it. Held proposals never dispatch and no one decides them one by one. */
  isHeld(x: Experiment): boolean {
    return this.openByAgent.has(x.agentId) && HOLDABLE.has(x.state) && !x.run && !this.released.has(x.id);
  }

  /** Why no policy may approve this proposal because of an episode (undefined: episodes do not stop it). */
  policyHold(x: Experiment): string | undefined {
    const ep = this.openOf(x.agentId);
    if (ep && this.isHeld(x)) return `held by episode ${ep.id} of ${x.agentId}`;
    if (this.released.has(x.id)) return 'released from an episode for an individual decision';
    return undefined;
  }

  nextId(): string {
    let n = this.episodes.size + 1;
    while (this.episodes.has(`ep-${n}`)) n++;
    return `ep-${n}`;
  }

  toJSON(): EpisodeSnapshot {
    return { episodes: [...this.episodes.values()], probation: [...this.probation], released: [...this.released] };
  }

  static fromJSON(s: EpisodeSnapshot): EpisodeBook {
    const b = new EpisodeBook();
    for (const ep of s.episodes) {
      b.episodes.set(ep.id, ep);
      if (!ep.resolution) b.openByAgent.set(ep.agentId, ep.id);
      else {
        b.resolvedAt.set(ep.agentId, Math.max(b.resolvedAt.get(ep.agentId) ?? 0, ep.resolution.seq));
        if (ep.resolution.action === 'retire') b.retired.add(ep.agentId);
      }
    }
    for (const [k, v] of s.probation) b.probation.set(k, v);
    for (const i of s.released) b.released.add(i);
    return b;
  }
}

/** The agent's record as risk reads it: vetoes and run violations after its last episode resolution (the human
 * decided about the earlier ones), and its open probing alerts. */
export function recordSince(xs: Iterable<Experiment>, openAlerts: number, since: number): AgentRecord {
  let vetoes = 0;
  let runViolations = 0;
  for (const x of xs) {
    if (x.verdict?.decision === 'vetoed' && x.verdict.seq > since) vetoes++;
    if ((x.run?.report?.violations ?? 0) > 0 && (x.run!.report!.seq ?? 0) > since) runViolations++;
  }
  return { vetoes, openAlerts, runViolations };
}

// ---------------------------------------------------------------- fair triage

/** Minutes a proposal of each risk level may wait before it goes ahead of the risk order. */
export const DECISION_DEADLINE_MINUTES: Record<RiskLevel, number> = { critical: 0, high: 5, medium: 10, low: 10 };

export interface FairRow {
  risk?: Risk;
  proposedSeq: number;
}

/** Triage order: rows past their deadline first (earliest deadline first), then the rest by risk then age.
 * `at(row)` is when the row was proposed and `now` the present, both in ms (wall or simulated time). */
export function fairOrder<T extends FairRow>(rows: T[], at: (r: T) => number, now: number, deadlines: Record<RiskLevel, number> = DECISION_DEADLINE_MINUTES): T[] {
  const level = (r: T): RiskLevel => r.risk?.level ?? 'medium';
  const due = (r: T) => at(r) + deadlines[level(r)] * 60_000;
  const keyed = rows.map((r) => ({ r, due: due(r), over: due(r) <= now }));
  keyed.sort((a, b) => {
    if (a.over !== b.over) return a.over ? -1 : 1;
    if (a.over) return a.due - b.due || a.r.proposedSeq - b.r.proposedSeq;
    return riskRank(level(b.r)) - riskRank(level(a.r)) || a.r.proposedSeq - b.r.proposedSeq;
  });
  return keyed.map((k) => k.r);
}

/** The record risk and policies read for an agent (see recordSince). */
export function agentRecord(st: { experimentsOf(a: string): Iterable<Experiment>; openProbingAlerts: Map<string, number>; episodes: EpisodeBook }, agentId: string): AgentRecord {
  return recordSince(st.experimentsOf(agentId), st.openProbingAlerts.get(agentId) ?? 0, st.episodes.resolvedAt.get(agentId) ?? 0);
}
