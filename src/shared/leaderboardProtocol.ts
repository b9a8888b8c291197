// Leaderboard webview protocol: PGR with confidence intervals per agent/method, verification, probing alerts.
import { defineNotification, defineRequest, id, obj } from './protocol';

export const LEADERBOARD_SURFACE = 'leaderboard';

export interface ScoredRun {
  experimentId: string;
  title: string;
  pgr: number | null;
  transferAcc: number;
  verified: boolean;
  dataset: string;
  split: string;
  /** Mean PGR of its replication jobs on the fleet's hidden transfer task (null: none scored). */
  transferPgr: number | null;
  /** Its replication on the hidden task (null: the fleet has none, or it does not need one). */
  replication: 'pending' | 'running' | 'replicated' | 'did_not_replicate' | null;
}

export interface LeaderRow {
  agentId: string;
  name: string;
  /** First line of the agent's research direction (agent-written: render as text). */
  method: string;
  n: number;
  meanPgr: number | null;
  ci: { lo: number; hi: number } | null;
  best: number | null;
  verified: number;
  unverified: number;
  runs: ScoredRun[];
  probing: number;
  /** Mean hidden-task PGR over its runs that have one (null: none). */
  meanTransferPgr: number | null;
  replicated: number;
  notReplicated: number;
}

/** Rows ranked by their mean hidden-task PGR (rows without one last): the leaderboard's "rank by hidden task". */
export function rankByTransfer(rows: readonly LeaderRow[]): LeaderRow[] {
  return [...rows].sort((p, q) => (q.meanTransferPgr ?? -Infinity) - (p.meanTransferPgr ?? -Infinity) || p.name.localeCompare(q.name));
}

export interface ProbeAlert {
  seq: number;
  ts: string;
  agentId: string;
  summary: string;
}

/** "Diversity of ideas": how similar the agents' proposals and posts are (from `diversity.measured`). */
export interface DiversityView {
  seq: number;
  ts: string;
  /** Mean pairwise similarity (0..1) over everything so far; null when fewer than two agents wrote. */
  meanSimilarity: number | null;
  /** Same over the most recent window. */
  currentMeanSimilarity: number | null;
  converged: boolean;
  /** Convergence threshold of the mean similarity (null if not recorded). */
  threshold: number | null;
  agents: number;
  documents: number;
  /** Most similar agent pairs (ids are agent-chosen: render as text). */
  topPairs: { a: string; b: string; similarity: number }[];
  /** Derived from agent-written text: render with textContent only. */
  flags: string[];
  /** Oldest first. */
  history: { seq: number; ts: string; meanSimilarity: number | null; currentMeanSimilarity: number | null; converged: boolean }[];
}

/** One final (held-out) evaluation (`eval.final`), with the experiment it scored when known. */
export interface FinalResultView {
  seq: number;
  ts: string;
  by: string;
  dataset: string;
  split: string;
  experimentId: string | null;
  /** Agent-written title of the experiment (render as text). */
  title: string | null;
  agentId: string | null;
  transferAcc: number | null;
  pgr: number | null;
  transferAccCi: [number, number] | null;
  pgrCi: [number, number] | null;
  correct: number | null;
  total: number | null;
}

/** One scored experiment on the "PGR over time" chart. */
export interface PgrPoint {
  /** Ledger seq of the `experiment.scored` event (falls back to the proposal's seq). */
  seq: number;
  /** When it was scored (ISO). */
  ts: string;
  pgr: number;
  verified: boolean;
  experimentId: string;
}

/** One agent's PGR history, oldest first (name is agent-chosen: render as text). */
export interface AgentPgrSeries {
  agentId: string;
  name: string;
  points: PgrPoint[];
}

export interface LeaderboardState {
  human: string;
  rows: LeaderRow[];
  alerts: ProbeAlert[];
  /** Null when the fleet has no diversity measurement yet (or the hub predates /api/diversity). */
  diversity: DiversityView | null;
  /** Newest first. */
  finals: FinalResultView[];
  /** PGR of each scored experiment over time, one series per agent with at least one finite PGR (absent from older hosts). */
  series?: AgentPgrSeries[];
  /** Optional extra rows from the evaluation service's AAR-shaped leaderboard. */
  warnings: string[];
}

export const LeaderboardStateNote = defineNotification<LeaderboardState>('leaderboard/state');
export const OpenAgent = defineRequest<{ agentId: string }, void>('leaderboard/openAgent', (p) => ({ agentId: id(obj(p).agentId, 'agentId') }));
export const OpenExperiment = defineRequest<{ experimentId: string }, void>('leaderboard/openReview', (p) => ({ experimentId: id(obj(p).experimentId, 'experimentId') }));
/** Asks the host to run `overseer.runFinalEvaluation` (it asks for the experiment, dataset and confirmation). */
export const RunFinalEvaluation = defineRequest<{ experimentId?: string }, void>('leaderboard/runFinalEvaluation', (p) => {
  const o = p === undefined || p === null ? {} : obj(p);
  return o.experimentId === undefined ? {} : { experimentId: id(o.experimentId, 'experimentId') };
});
