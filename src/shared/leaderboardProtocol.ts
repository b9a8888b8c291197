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
}

export interface ProbeAlert {
  seq: number;
  ts: string;
  agentId: string;
  summary: string;
}

export interface LeaderboardState {
  human: string;
  rows: LeaderRow[];
  alerts: ProbeAlert[];
  /** Optional extra rows from the evaluation service's AAR-shaped leaderboard. */
  warnings: string[];
}

export const LeaderboardStateNote = defineNotification<LeaderboardState>('leaderboard/state');
export const OpenAgent = defineRequest<{ agentId: string }, void>('leaderboard/openAgent', (p) => ({ agentId: id(obj(p).agentId, 'agentId') }));
export const OpenExperiment = defineRequest<{ experimentId: string }, void>('leaderboard/openReview', (p) => ({ experimentId: id(obj(p).experimentId, 'experimentId') }));
