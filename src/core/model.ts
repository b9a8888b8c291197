// Domain model of a fleet. Pure types: no vscode, no DOM, no I/O.
import type { ReplicationInfo } from './replication';
import type { Risk } from './risk';

export type PrincipalKind = 'human' | 'agent' | 'system';

/** Who did something. Every ledger event names one. */
export interface Actor {
  kind: PrincipalKind;
  id: string;
}

export const SYSTEM: Actor = { kind: 'system', id: 'overseer' };

export type TaskMode = 'normal' | 'no-testing';

/** The mode a run is confined by: the fleet's task mode wins over what a proposal declares, unless the proposal
 * asks for the stricter one (`no-testing` is stricter than `normal`). */
export function effectiveTaskMode(declared: TaskMode, fleet: TaskMode | undefined): TaskMode {
  return declared === 'no-testing' || fleet === 'no-testing' ? 'no-testing' : 'normal';
}

export interface Budget {
  /** GPU-hours the agent may have approved in total. */
  gpuHours: number;
  /** Dollars of model spend (fleet runtime). */
  usd: number;
  /** Evaluation queries per split. */
  evalQueries: number;
}

export interface Usage {
  gpuHours: number;
  usd: number;
  evalQueries: number;
  tokensIn: number;
  tokensOut: number;
  agentHours: number;
}

export type AgentStatus = 'active' | 'paused';

export interface Agent {
  id: string;
  name: string;
  direction: string;
  /** Absolute path of the agent's sandbox git repository (on the hub's machine). */
  repoPath: string;
  budget: Budget;
  used: Usage;
  status: AgentStatus;
  pausedReason?: string;
  registeredSeq: number;
}

export interface Resources {
  gpus: number;
  /** Estimated GPU-hours (what is charged against the budget at approval). */
  gpuHours: number;
  /** Wall-clock limit for the job in minutes. */
  timeLimitMinutes: number;
}

export const EXPERIMENT_STATES = [
  'proposed',
  'screening',
  'awaiting_review',
  'approved',
  'vetoed',
  'changes_requested',
  'superseded',
  'dispatched',
  'running',
  'succeeded',
  'failed',
  'cancelled',
  'timed_out',
  'scored',
] as const;
export type ExperimentState = (typeof EXPERIMENT_STATES)[number];

export type Decision = 'approved' | 'vetoed' | 'changes_requested';

export interface Verdict {
  decision: Decision;
  by: Actor;
  reason?: string;
  /** The exact commit and tree the human reviewed (equal to the proposal's pin). */
  commit: string;
  tree: string;
  seq: number;
  ts: string;
  /** Set when an approval policy approved (the rule, the policy version and the human who set it). */
  policy?: { rule: string; version: number; setBy: string; sampled: boolean };
}

export type RunEndState = 'succeeded' | 'failed' | 'cancelled' | 'timed_out';

export interface RunInfo {
  runner: string;
  jobId: string;
  commit: string;
  tree: string;
  dispatchedAt: string;
  startedAt?: string;
  endedAt?: string;
  exitCode?: number;
  endState?: RunEndState;
  reason?: string;
  logPath?: string;
  artifacts?: Record<string, unknown>;
  /** The run report (`run.report`): what the run tried that its rules forbid or its sandbox denied. */
  report?: RunReportInfo;
  /** The experiment's seed jobs, by index (`run.job_*` events): each seed is its own confined job. */
  jobs?: SeedJob[];
}

/** One seed job of an experiment: its own run directory, job token and hub-chosen seed value. */
export interface SeedJob {
  index: number;
  /** The seed value the hub chose at dispatch (crypto-random; absent for a job recorded before seed jobs). */
  seed?: number;
  runner: string;
  jobId: string;
  logPath?: string;
  dispatchedAt?: string;
  startedAt?: string;
  endedAt?: string;
  endState?: RunEndState;
  exitCode?: number;
  reason?: string;
  artifacts?: Record<string, unknown>;
  report?: RunReportInfo;
}

export interface RunReportInfo {
  seq: number;
  jobId: string;
  sandbox: 'bwrap' | 'none';
  violations: number;
  summary: string;
  /** The full report (runners/runReport.ts RunReport): items with kind, detail, source, blocked, violation. */
  report: Record<string, unknown>;
}

export type Severity = 'info' | 'low' | 'medium' | 'high' | 'critical';

export interface ScreeningFinding {
  kind: string;
  severity: Severity;
  file: string;
  line: number;
  explanation: string;
  confidence: number;
  source: 'static' | 'ai';
}

export interface ScreeningReport {
  gaming: boolean;
  score: number;
  findings: ScreeningFinding[];
  ai?: { model: string; inputTokens: number; outputTokens: number; usd: number; error?: string };
}

export interface ScoreInfo {
  dataset: string;
  split: string;
  transferAcc: number;
  pgr: number | null;
  verified: boolean;
  evalSeq: number;
  [k: string]: unknown;
}

export interface HistoryEntry {
  seq: number;
  ts: string;
  type: string;
  actor: Actor;
  summary: string;
}

export interface Experiment {
  id: string;
  agentId: string;
  title: string;
  rationale: string;
  command: string;
  resources: Resources;
  taskMode: TaskMode;
  /** Pinned commit (full 40-hex SHA) and its tree hash, resolved by the hub at proposal time. */
  commit: string;
  tree: string;
  /** Commit the proposal is diffed against (merge base with the fleet's base branch), if known. */
  baseCommit?: string;
  branch?: string;
  supersedes?: string;
  supersededBy?: string;
  /** Seed jobs the proposal asked for. */
  seeds?: number;
  /** Seed jobs the approval fixed (each charged `resources.gpuHours`); absent before approval, and for
   * experiments approved before seed jobs existed (one job). */
  seedJobs?: number;
  state: ExperimentState;
  proposedSeq: number;
  proposedAt: string;
  verdict?: Verdict;
  screening?: ScreeningReport;
  run?: RunInfo;
  score?: ScoreInfo;
  history: HistoryEntry[];
  /** Explained risk (core/risk.ts), computed by the hub for human readers; never stored in the ledger. */
  risk?: Risk;
  /** Why its result enters the verified ranking only once a human accepts it after seeing it (fixed at approval:
   * gaming or critical findings, or an approval that overrode the policy's hard limits). */
  acceptanceRequired?: string[];
  /** A human accepted the result after seeing it (`experiment.result_accepted`). */
  acceptance?: ResultAcceptance;
  /** Events that demote every score of this experiment (a probing alert while it ran or on its submissions). */
  demotions?: { seq: number; reason: string }[];
  /** Replication jobs its approval charged for (absent: none, or approved before the fleet had a transfer task). */
  replicationJobs?: number;
  /** Its replication on the fleet's hidden transfer task (core/replication.ts): humans only unless released. */
  replication?: ReplicationInfo;
  /** What its result is worth (core/verification.ts), kept current by the projection. */
  verification?: { status: 'verified' | 'incomplete' | 'awaiting_acceptance' | 'unverified'; reasons: string[] };
}

export interface FalseAlarm {
  kind: string;
  file: string;
  line: number;
  why: string;
}

export interface ResultAcceptance {
  by: Actor;
  seq: number;
  ts: string;
  reason: string;
  /** Findings the human judged false alarms, each with why. */
  falseAlarms: FalseAlarm[];
}

export interface ReviewComment {
  id: string;
  experimentId: string;
  agentId: string;
  file: string;
  line: number;
  side: 'base' | 'head';
  body: string;
  author: Actor;
  seq: number;
  ts: string;
  inReplyTo?: string;
}

export type VoteValue = 'up' | 'down';
export type HumanVerdictValue = 'verified' | 'suspect' | 'retracted';

export interface ForumComment {
  id: string;
  postId: string;
  author: Actor;
  content: string;
  seq: number;
  ts: string;
}

export interface ForumPost {
  id: string;
  author: Actor;
  title: string;
  summary: string;
  findingType: string;
  ideaName?: string;
  runId?: string;
  commitId?: string;
  /** Self-reported metrics (unverified unless an evaluation event backs them). */
  metrics: { pgr?: number; transferAcc?: number; numSeeds?: number; worked?: boolean };
  config?: Record<string, unknown>;
  /** AAR fields kept verbatim with the finding (see hub/schemas AAR_SHARE_FIELDS). */
  extra?: Record<string, unknown>;
  votes: Record<string, VoteValue>;
  score: number;
  comments: ForumComment[];
  humanVerdict?: { verdict: HumanVerdictValue; by: Actor; note?: string; seq: number };
  seq: number;
  ts: string;
}

export interface InboxItem {
  seq: number;
  ts: string;
  kind: 'verdict' | 'review_comment' | 'forum_verdict' | 'run' | 'budget' | 'notice';
  experimentId?: string;
  postId?: string;
  text: string;
  data: Record<string, unknown>;
}

export interface AuditEntry {
  seq: number;
  ts: string;
  type: string;
  actor: Actor;
  summary: string;
  hash: string;
}
