// Wire types of the hub HTTP API (shared by the hub, HubClient, the extension and the fleet runtime).
// Types only: no runtime imports, no vscode, no DOM.
import type { AnyEvent } from '../core/events';
import type { DiversityMeasurement, DiversityPoint, FinalEvaluation } from '../core/fleet';
import type {
  Actor,
  Agent,
  AuditEntry,
  Budget,
  Experiment,
  ExperimentState,
  InboxItem,
  Resources,
  ReviewComment,
  TaskMode,
  HumanVerdictValue,
} from '../core/model';
import type { ChangedFile, CommitInfo } from '../git/sandbox';

export type { AnyEvent, CommitInfo, DiversityMeasurement, DiversityPoint, FinalEvaluation };

/** Every error body: `{"error": {"code", "message"}}`. */
export interface ApiErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

// ------------------------------------------------------------------ agent-facing (ours)

export interface WhoAmI {
  actor: Actor;
  agent?: Agent;
  fleet: string;
}

export interface ProposeRequest {
  commit: string;
  command: string;
  title: string;
  rationale: string;
  resources: Resources;
  taskMode: TaskMode;
  branch?: string;
  supersedes?: string;
  /** Humans proposing on behalf of an agent must name it; agents may omit it (or name themselves). */
  agentId?: string;
  /** Seed jobs asked for (1..20; default: fleet.json `seeds`, else 3). The hub chooses the seed values and runs
   * each seed as its own job (OVERSEER_SEED, `{seed}` in the command); the approval fixes the number.
   * `num_seeds` is accepted as a synonym (AAR's word). */
  seeds?: number;
  num_seeds?: number;
}

export interface ExperimentList {
  experiments: Experiment[];
}

export interface InboxResponse {
  items: InboxItem[];
  /** Highest seq in the ledger when the inbox was read (pass as `after` next time). */
  lastSeq: number;
}

// ------------------------------------------------------------------ AAR-compatible forum

export interface AarComment {
  id: string;
  post_id: string;
  content: string;
  author: string;
  author_kind: Actor['kind'];
  created_at: string;
  seq: number;
}

/** A finding in the shape AAR agents read (snake_case), plus our verification fields. */
export interface AarFinding {
  id: string;
  finding_id: string;
  post_id: string;
  title: string;
  summary: string;
  finding_type: string;
  idea_name: string | null;
  run_id: string | null;
  commit_id: string | null;
  pgr: number | null;
  transfer_acc: number | null;
  num_seeds: number | null;
  worked: boolean | null;
  config: Record<string, unknown> | null;
  /** AAR's fields, kept verbatim from the share request (null when not sent). */
  idea_uid: string | null;
  dataset: string | null;
  weak_model: string | null;
  strong_model: string | null;
  session_id: string | null;
  iteration: number | null;
  pgr_se: number | null;
  pgr_delta: number | null;
  transfer_acc_se: number | null;
  weak_acc: number | null;
  strong_acc: number | null;
  s3_path: string | null;
  s3_key: string | null;
  parent_commit_id: string | null;
  sequence_number: number | null;
  files_snapshot: unknown[] | null;
  code_snippet: string | null;
  /** AAR's name for `summary`. */
  content: string;
  author: string;
  author_kind: Actor['kind'];
  agent_id: string | null;
  score: number;
  upvotes: number;
  downvotes: number;
  num_comments: number;
  created_at: string;
  seq: number;
  /** Metrics are self-reported unless a human verified the finding. */
  self_reported: boolean;
  human_verdict: HumanVerdictValue | null;
  human_verdict_note: string | null;
}

export interface ShareFindingRequest {
  summary: string;
  title?: string;
  finding_type?: string;
  idea_name?: string;
  run_id?: string;
  pgr?: number;
  transfer_acc?: number;
  num_seeds?: number;
  worked?: boolean;
  commit_id?: string;
  config?: Record<string, unknown>;
}

export interface ShareFindingResponse {
  message: string;
  finding_id: string;
  post_id: string;
  finding: AarFinding;
}

export interface FindingsQuery {
  query?: string;
  finding_type?: string;
  sort?: 'new' | 'top' | 'discussed';
  limit?: number;
  offset?: number;
}

export interface FindingsPage {
  findings: AarFinding[];
  total: number;
  limit: number;
  offset: number;
}

export interface FindingDetail extends AarFinding {
  comments: AarComment[];
}

export interface VoteResponse {
  message: string;
  finding_id: string;
  score: number;
  upvotes: number;
  downvotes: number;
}

export interface CommentResponse {
  message: string;
  comment_id: string;
  comment: AarComment;
}

export interface LeaderboardQuery {
  /** Rank by visible PGR (default) or by transfer PGR on the hidden task (humans). */
  by?: 'visible' | 'transfer';
  dataset?: string;
  weak_model?: string;
  strong_model?: string;
}

export interface LeaderboardEntry {
  /** Replication on the hidden transfer task (humans only, unless the fleet releases it; core/replication.ts). */
  replication?: 'pending' | 'running' | 'replicated' | 'did_not_replicate';
  transfer_pgr?: number | null;
  transfer_pgr_ci?: [number, number] | null;
  transfer_seeds?: number;
  transfer_gap?: number | null;
  transfer_dataset?: string | null;
  experiment_id?: string;
  agent_id?: string;
  /** verified | incomplete | awaiting_acceptance | unverified (core/verification.ts) */
  status?: string;
  unverified_reason?: string;
  [k: string]: unknown;
}

export interface LeaderboardResponse {
  experiments: LeaderboardEntry[];
  total: number;
  fixed_baselines: Record<string, unknown>;
  [k: string]: unknown;
}

export interface SnapshotResponse {
  commit_id: string;
  agent_id: string;
  finding_ids: string[];
  subject: string;
  files: { path: string; size: number; is_binary: boolean; content?: string }[];
  truncated: boolean;
  /** AAR's snapshot metadata (from the latest finding that shared this commit; see README "Running AAR agents").
   * `idea_uid` falls back to the agent id and `run_id` to the commit when the finding named none. */
  idea_uid: string;
  run_id: string;
  finding_id: string | null;
  title: string | null;
  idea_name: string | null;
  pgr: number | null;
  transfer_acc: number | null;
  files_snapshot: unknown[];
  s3_path: string | null;
  s3_key: string | null;
  parent_commit_id: string | null;
  sequence_number: number | null;
}

export interface EvaluatePredictionsRequest {
  predictions: number[];
  dataset: string;
  split?: string;
  weak_model?: string;
  strong_model?: string;
  /** Stored with the query; never part of a score's identity (a job's token is). */
  run_id?: string;
  seed?: number | string;
  idea_name?: string;
  idea_uid?: string;
  experiment_id?: string;
}

/** AAR shape (fields may be coarsened by the evaluation service). */
export interface EvaluatePredictionsResponse {
  transfer_acc: number | null;
  pgr: number | null;
  correct?: number | null;
  total: number;
  fixed_weak_acc?: number | null;
  fixed_strong_acc?: number | null;
  [k: string]: unknown;
}

// ------------------------------------------------------------------ human-facing

export interface FleetOverview {
  name: string;
  baseBranch: string;
  lastSeq: number;
  counts: { agents: number; experiments: number; awaitingReview: number; findings: number; running: number };
  agents: Agent[];
  queue: { state: ExperimentState; experiments: Experiment[] }[];
  /** Runners a human set to `"sandbox": "none"`: their runs are not confined (a standing warning). */
  unconfinedRunners?: string[];
}

export interface AgentList {
  agents: Agent[];
}

export interface AgentDetail {
  agent: Agent;
  /** The agent's hub-owned repository on the hub's machine (what the hub reviews and runs). */
  hubRepo: string;
  branches: { name: string; commit: string }[];
  budget: { budget: Budget; used: Agent['used']; remainingGpuHours: number };
}

export interface CommitList {
  commits: CommitInfo[];
}

export interface ChangedFileView extends ChangedFile {
  viewed: boolean;
}

export interface ExperimentFiles {
  experimentId: string;
  base: string | null;
  commit: string;
  files: ChangedFileView[];
}

export interface DiffResponse {
  experimentId: string;
  file: string | null;
  patch: string;
  truncated: boolean;
}

export interface ContentResponse {
  experimentId: string;
  path: string;
  side: 'base' | 'head';
  commit: string | null;
  exists: boolean;
  isBinary: boolean;
  size: number;
  base64: string;
}

export interface ReviewCommentList {
  comments: ReviewComment[];
}

export interface DecisionRequest {
  commit: string;
  tree: string;
}

export interface ReviewCommentRequest {
  file: string;
  line: number;
  side: 'base' | 'head';
  body: string;
  inReplyTo?: string;
}

export interface BudgetRequest {
  gpuHours?: number;
  usd?: number;
  evalQueries?: number;
}

/** `POST /api/agents/:id/charge` (human: a fleet runtime's operator): model spend of one call. */
export interface ChargeRequest {
  usd: number;
  tokensIn: number;
  tokensOut: number;
  agentHours: number;
}

export interface AuditResponse {
  entries: AuditEntry[];
}

export interface RunLogResponse {
  experimentId: string;
  offset: number;
  nextOffset: number;
  size: number;
  text: string;
  eof: boolean;
}

export interface OkResponse {
  ok: true;
}

export type EvaluationStatus = Record<string, unknown>;
export interface EvaluationFinalRequest {
  dataset: string;
  split?: string;
  experiment_id?: string;
  predictions?: number[];
  [k: string]: unknown;
}
export type EvaluationFinalResponse = Record<string, unknown>;
/** `POST /api/evaluation/resume` (human): lift a probing suspension of an agent's evaluation access. */
export interface EvaluationResumeRequest {
  agent_id: string;
  note?: string;
}
/** The agent's evaluation status after the resumption (`suspended: null`, `lastResumed` set). */
export type EvaluationResumeResponse = Record<string, unknown>;

/** `GET /api/diversity` (human): the latest `diversity.measured` and a short history (oldest first). */
export interface DiversityResponse {
  latest: DiversityMeasurement | null;
  history: DiversityPoint[];
}

/** `GET /api/evaluation/finals` (human): final (held-out) evaluations from `eval.final`, newest first. */
export interface FinalEvaluationList {
  finals: FinalEvaluation[];
}

/** `GET /api/triage`: undecided proposals in risk order (each with its risk) and the sweeps among them. */
export interface TriageResponse {
  experiments: Experiment[];
  sweeps: import('./attention').Sweep[];
  /** Open agent episodes (one row each; their proposals are held, not in `experiments`). Absent from older hubs. */
  episodes?: EpisodeList['episodes'];
}

/** `POST /api/sweeps/decide`: one decision for a sweep; each member at the pin the human was shown. */
export interface SweepDecisionRequest {
  decision: 'approve' | 'veto' | 'request_changes';
  members: { experimentId: string; commit: string; tree: string }[];
  reason?: string;
  note?: string;
}

/** `GET /api/policy` (human), and the answer of every policy and audit change: the approval policy in force
 * (null: off), its rules disabled by a flagged audit, the post-hoc audit queue, and what it approved in the last hour. */
export interface PolicyView {
  policy: import('../core/policy').Policy | null;
  disabledRules: string[];
  /** The disabled rules with who disabled them (the human who flagged), when and why. */
  disabled: { rule: string; by: string; reason: string; ts: string; seq: number; experimentId?: string }[];
  /** Automatic approvals (each with its experiment's title, agent-written) waiting for a post-hoc audit. */
  auditQueue: (import('../core/fleet').AutoApproval & { title: string })[];
  lastHour: (import('../core/fleet').AutoApproval & { title: string })[];
  /** Automatic approvals since the fleet began. */
  autoApproved: number;
}

/** `POST /api/policy` (human): a new policy version (its rules replace the old; `rules: []` turns it off), or the
 * `approvalPolicy` of fleet.json. */
export interface PolicySetRequest {
  rules?: { name: string; expr: string }[];
  auditShare?: number;
  note?: string;
  fromFleetJson?: boolean;
}

/** `POST /api/audits/:experimentId` (human): the post-hoc audit of an automatic approval. A flag pauses the agent
 * and disables the rule until a human enables it again. */
export interface AuditRequest {
  outcome: 'confirm' | 'flag';
  reason?: string;
}

/** An agent episode as humans read it (core/episodes.ts): the one decision about a misbehaving agent, with its
 * evidence on one page. Titles, reasons, findings and summaries are agent-influenced text: render as text. */
export interface EpisodeView {
  episode: import('../core/episodes').Episode;
  agent: Agent | null;
  /** Proposals the episode holds (with risk). */
  held: Experiment[];
  /** The agent's vetoed proposals, newest first (at most 20). */
  vetoes: { experimentId: string; title: string; reason: string; by: string; seq: number; gaming: boolean }[];
  /** Probing alerts of the agent, newest first (open ones are counted in `openAlerts`). */
  alerts: { seq: number; ts: string; dataset: string; split: string; suspended: boolean }[];
  openAlerts: number;
  /** Screening findings of medium severity or above on the held and vetoed proposals. */
  findings: { experimentId: string; kind: string; severity: string; file: string; line: number; explanation: string }[];
  /** The agent's runs whose report names violations, newest first. */
  runs: { experimentId: string; title: string; violations: number; summary: string; seq: number }[];
  /** The agent's earlier episodes (id, action, by, note), newest first. */
  earlier: { id: string; action: string; by: string; note: string; seq: number }[];
  probation?: string;
}

/** `GET /api/episodes` (human): open episodes, oldest first; `?all=1` adds resolved ones. */
export interface EpisodeList {
  episodes: (import('../core/episodes').Episode & { held: number; heldIds?: string[] })[];
}

/** `POST /api/episodes/:id/resolve` (human): the one decision about an agent. */
export interface EpisodeResolveRequest {
  action: 'resume' | 'probation' | 'review' | 'retire';
  note: string;
  probation?: string;
}
