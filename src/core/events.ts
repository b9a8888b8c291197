// Ledger event schemas. Every change of fleet state is one of these, validated with zod before it is
// appended and again when a ledger is loaded.
import { z } from 'zod';

export const SHA_RE = /^[0-9a-f]{40}$/;
export const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export const sha = z.string().regex(SHA_RE, 'expected a full 40-hex git object id');
export const id = z.string().regex(ID_RE, 'expected an id of letters, digits, . _ - (max 64)');
const text = (max: number) => z.string().max(max);

export const actorSchema = z.strictObject({
  kind: z.enum(['human', 'agent', 'system']),
  id: z.string().min(1).max(64),
});

export const budgetSchema = z.strictObject({
  gpuHours: z.number().nonnegative().finite(),
  usd: z.number().nonnegative().finite(),
  evalQueries: z.number().int().nonnegative(),
});

/** Seed jobs of one experiment (each seed runs as its own confined job; the hub chooses the seed values). */
export const MAX_SEED_JOBS = 20;
export const seedCount = z.number().int().min(1).max(MAX_SEED_JOBS);
/** A hub-chosen seed value (crypto-random, 1..2^31-1). */
export const seedValue = z.number().int().min(0).max(2 ** 31 - 1);
const jobIndex = z.number().int().min(0).max(MAX_SEED_JOBS - 1);

export const resourcesSchema = z.strictObject({
  gpus: z.number().int().min(0).max(64),
  gpuHours: z.number().nonnegative().max(100_000),
  timeLimitMinutes: z.number().int().min(1).max(60 * 24 * 14),
});

const findingSchema = z.strictObject({
  kind: text(64),
  severity: z.enum(['info', 'low', 'medium', 'high', 'critical']),
  file: text(4096),
  line: z.number().int().nonnegative(),
  explanation: text(2000),
  confidence: z.number().min(0).max(1),
  source: z.enum(['static', 'ai']),
});

export const screeningReportSchema = z.strictObject({
  gaming: z.boolean(),
  score: z.number().min(0).max(1),
  findings: z.array(findingSchema).max(1000),
  ai: z
    .strictObject({
      model: text(200),
      inputTokens: z.number().int().nonnegative(),
      outputTokens: z.number().int().nonnegative(),
      usd: z.number().nonnegative(),
      error: text(2000).optional(),
    })
    .optional(),
});

const jsonRecord = z.record(z.string(), z.unknown());

/** Event payloads by type. Keep names `area.verb_past`. */
export const eventSchemas = {
  'fleet.created': z.strictObject({ name: text(200), baseBranch: text(200).optional() }),
  'agent.registered': z.strictObject({
    agentId: id,
    name: text(200),
    direction: text(20_000),
    repoPath: text(4096),
    budget: budgetSchema,
  }),
  'agent.paused': z.strictObject({ agentId: id, reason: text(2000) }),
  'agent.resumed': z.strictObject({ agentId: id }),
  'budget.set': z.strictObject({
    agentId: id,
    gpuHours: z.number().nonnegative().finite().optional(),
    usd: z.number().nonnegative().finite().optional(),
    evalQueries: z.number().int().nonnegative().optional(),
  }),
  /** Model spend of a fleet agent (tokens and dollars as reported by the API responses). */
  'budget.charged': z.strictObject({
    agentId: id,
    usd: z.number().nonnegative().finite(),
    tokensIn: z.number().int().nonnegative(),
    tokensOut: z.number().int().nonnegative(),
    agentHours: z.number().nonnegative().finite(),
  }),
  'experiment.proposed': z.strictObject({
    experimentId: id,
    agentId: id,
    title: text(300),
    rationale: text(20_000),
    command: text(4000),
    resources: resourcesSchema,
    taskMode: z.enum(['normal', 'no-testing']),
    commit: sha,
    tree: sha,
    baseCommit: sha.optional(),
    branch: text(255).optional(),
    supersedes: id.optional(),
    /** Seed jobs the agent asks for (the approval fixes the number). */
    seeds: seedCount.optional(),
  }),
  'experiment.screening_started': z.strictObject({ experimentId: id }),
  'experiment.screened': z.strictObject({ experimentId: id, report: screeningReportSchema }),
  /** By a human; or by the system under an approval policy a human set (`policy` names the rule and version). */
  'experiment.approved': z.strictObject({
    experimentId: id,
    commit: sha,
    tree: sha,
    note: text(2000).optional(),
    policy: z
      .strictObject({ rule: text(100), version: z.number().int().positive(), setBy: text(64), sampled: z.boolean() })
      .optional(),
    /** Seed jobs the approval fixes (absent in approvals recorded before seed jobs existed: one job). */
    seeds: seedCount.optional(),
    /** Replication jobs on the fleet's hidden transfer task the approval charges for (core/replication.ts). */
    replications: seedCount.optional(),
  }),
  'experiment.vetoed': z.strictObject({ experimentId: id, commit: sha, tree: sha, reason: text(4000).min(1) }),
  'experiment.changes_requested': z.strictObject({
    experimentId: id,
    commit: sha,
    tree: sha,
    reason: text(4000).min(1),
  }),
  'experiment.dispatched': z.strictObject({
    experimentId: id,
    runner: text(100),
    jobId: text(200),
    commit: sha,
    tree: sha,
    logPath: text(4096).optional(),
  }),
  'experiment.running': z.strictObject({ experimentId: id, jobId: text(200) }),
  /** One seed job of an experiment was submitted to a runner with the seed value the hub chose for it. */
  'run.job_dispatched': z.strictObject({
    experimentId: id,
    index: jobIndex,
    seed: seedValue,
    runner: text(100),
    jobId: text(200),
    logPath: text(4096).optional(),
  }),
  'run.job_started': z.strictObject({ experimentId: id, index: jobIndex, jobId: text(200) }),
  /** A seed job ended (the experiment finishes once all of its seed jobs have). */
  'run.job_finished': z.strictObject({
    experimentId: id,
    index: jobIndex,
    jobId: text(200),
    state: z.enum(['succeeded', 'failed', 'cancelled', 'timed_out']),
    exitCode: z.number().int().optional(),
    reason: text(2000).optional(),
    artifacts: jsonRecord.optional(),
  }),
  'experiment.finished': z.strictObject({
    experimentId: id,
    state: z.enum(['succeeded', 'failed', 'cancelled', 'timed_out']),
    exitCode: z.number().int().optional(),
    reason: text(2000).optional(),
    artifacts: jsonRecord.optional(),
  }),
  'experiment.cancel_requested': z.strictObject({ experimentId: id, reason: text(2000).optional() }),
  'experiment.scored': z.strictObject({
    experimentId: id,
    dataset: text(200),
    split: text(64),
    transferAcc: z.number().min(0).max(1),
    pgr: z.number().nullable(),
    evalSeq: z.number().int().nonnegative(),
    extra: jsonRecord.optional(),
  }),
  /** A seed job submitted predictions that follow the decoy labels planted where the fleet keeps labels
   * (runners/decoys.ts): the run read them. The agent is not told. */
  'run.decoy_matched': z.strictObject({
    experimentId: id,
    index: z.number().int().min(0).max(63).optional(),
    dataset: text(200),
    split: text(64),
    path: text(4096),
    agreement: z.number().min(0).max(1),
  }),
  /** The fleet's hidden transfer task (fleet.json `tasks.<name>.transfer`), recorded by the hub when it starts with a
   * setting other than the recorded one: experiments approved after it must replicate to be verified. */
  'replication.configured': z.strictObject({
    enabled: z.boolean(),
    datasets: z.record(z.string().max(64), z.string().max(64)).optional(),
    seeds: z.number().int().min(1).max(MAX_SEED_JOBS).optional(),
    goldLabels: z.number().int().min(0).optional(),
    tolerance: z.number().min(0).max(10).optional(),
    release: z.boolean().optional(),
  }),
  /** A replication job (the approved tree and command on the hidden transfer task) was submitted to a runner. */
  'replication.job_dispatched': z.strictObject({
    experimentId: id,
    index: jobIndex,
    jobs: seedCount,
    seed: seedValue,
    runner: text(100),
    jobId: text(200),
  }),
  'replication.job_finished': z.strictObject({
    experimentId: id,
    index: jobIndex,
    jobId: text(200),
    state: z.enum(['succeeded', 'failed', 'cancelled', 'timed_out']),
    exitCode: z.number().int().optional(),
    reason: text(2000).optional(),
    violations: z.number().int().nonnegative().optional(),
    summary: text(2000).optional(),
    report: jsonRecord.optional(),
  }),
  /** A replication job's evaluation, scored on the hidden labels (exact; humans only unless the fleet releases). */
  'replication.scored': z.strictObject({
    experimentId: id,
    index: jobIndex,
    dataset: text(200),
    transferDataset: text(200),
    split: text(64),
    predHash: text(64),
    n: z.number().int().nonnegative(),
    transferAcc: z.number().min(0).max(1),
    pgr: z.number().nullable(),
    /** false: a later vector of a job already scored (kept as evidence, never the score). */
    first: z.boolean(),
  }),
  /** A human moves an experiment's replication jobs ahead of agents' own jobs. */
  'replication.raised': z.strictObject({ experimentId: id }),
  /** A human accepts a result after seeing it: it may then rank as verified (policies never accept). */
  'experiment.result_accepted': z.strictObject({
    experimentId: id,
    reason: text(2000).min(1),
    falseAlarms: z
      .array(z.strictObject({ kind: text(64), file: text(4096), line: z.number().int().nonnegative(), why: text(2000).min(1) }))
      .max(200),
  }),
  'review.commented': z.strictObject({
    commentId: id,
    experimentId: id,
    file: text(4096),
    line: z.number().int().nonnegative(),
    side: z.enum(['base', 'head']),
    body: text(10_000).min(1),
    inReplyTo: id.optional(),
  }),
  'review.file_viewed': z.strictObject({ experimentId: id, file: text(4096), viewed: z.boolean() }),
  'forum.posted': z.strictObject({
    postId: id,
    title: text(500),
    summary: text(5000),
    findingType: text(64),
    ideaName: text(200).optional(),
    runId: text(200).optional(),
    commitId: text(200).optional(),
    metrics: z.strictObject({
      pgr: z.number().finite().optional(),
      transferAcc: z.number().finite().optional(),
      numSeeds: z.number().int().nonnegative().optional(),
      worked: z.boolean().optional(),
    }),
    config: jsonRecord.optional(),
    /** Fields an AAR client sends that Overseer keeps verbatim (idea_uid, dataset, pgr_se, s3_key, ...). */
    extra: jsonRecord.optional(),
  }),
  'forum.commented': z.strictObject({ postId: id, commentId: id, content: text(5000).min(1) }),
  'forum.voted': z.strictObject({ postId: id, vote: z.enum(['up', 'down']) }),
  'forum.verdict': z.strictObject({
    postId: id,
    verdict: z.enum(['verified', 'suspect', 'retracted']),
    note: text(2000).optional(),
  }),
  'auth.token_created': z.strictObject({
    principal: actorSchema,
    tokenId: text(64),
    /** Job-scoped tokens name the experiment whose run they belong to (and the seed job). */
    scope: z.strictObject({ experimentId: id, job: jobIndex.optional() }).optional(),
  }),
  'auth.token_revoked': z.strictObject({ tokenId: text(64) }),
  /** Evaluation: every query is logged with a hash of the prediction vector, never the vector. */
  'eval.query': z.strictObject({
    agentId: z.string().max(64),
    dataset: text(200),
    split: text(64),
    predHash: z.string().regex(/^[0-9a-f]{64}$/),
    n: z.number().int().nonnegative(),
    released: jsonRecord,
    runId: text(200).optional(),
    experimentId: id.optional(),
    /** Run-bound queries: the seed job (from the job token) and its hub-chosen seed; the score's identity. */
    job: jobIndex.optional(),
    seed: seedValue.optional(),
    /** What the request body called its run (`run_id`), seed and idea: stored, never used for identity. */
    clientRunId: text(200).optional(),
    clientSeed: text(64).optional(),
    ideaName: text(200).optional(),
    ideaUid: text(200).optional(),
  }),
  'eval.probing_suspected': z.strictObject({
    agentId: z.string().max(64),
    dataset: text(200),
    split: text(64),
    evidence: jsonRecord,
    /** True when the alert suspended the agent's evaluation access (until `eval.resumed`). */
    suspended: z.boolean().optional(),
  }),
  /** A human lifts a probing suspension of an agent's evaluation access. */
  'eval.resumed': z.strictObject({ agentId: id, note: text(2000).optional() }),
  'eval.final': z.strictObject({ dataset: text(200), split: text(64), result: jsonRecord, experimentId: id.optional() }),
  'eval.budget_set': z.strictObject({ agentId: id, split: text(64), queries: z.number().int().nonnegative() }),
  'fleet.agent_stats': z.strictObject({ agentId: id, data: jsonRecord }),
  'diversity.measured': z.strictObject({ data: jsonRecord }),
  'runner.lost': z.strictObject({ runner: text(100), jobId: text(200), experimentId: id, reason: text(2000) }),
  /** What a run tried that its rules forbid or its sandbox denied (runners/runReport.ts); before `experiment.finished`. */
  'run.report': z.strictObject({
    experimentId: id,
    jobId: text(200),
    /** The seed job reported on (absent: the experiment's only job, before seed jobs existed). */
    index: jobIndex.optional(),
    sandbox: z.enum(['bwrap', 'none']),
    violations: z.number().int().nonnegative(),
    summary: text(2000),
    report: jsonRecord,
  }),
  /** A human sets the approval policy (core/policy.ts): CEL rules; only humans may. */
  'policy.set': z.strictObject({
    version: z.number().int().positive(),
    rules: z.array(z.strictObject({ name: text(100).min(1), expr: text(4000).min(1) })).max(50),
    auditShare: z.number().min(0).max(1),
    note: text(2000).optional(),
  }),
  /** A rule stops approving (a flagged audit); only a human's `policy.rule_enabled` turns it back on. */
  'policy.rule_disabled': z.strictObject({ rule: text(100), version: z.number().int().positive(), reason: text(2000), experimentId: id.optional() }),
  'policy.rule_enabled': z.strictObject({ rule: text(100), version: z.number().int().positive() }),
  /** A human's post-hoc audit of a sampled automatic approval. */
  'audit.confirmed': z.strictObject({ experimentId: id, note: text(2000).optional() }),
  'audit.flagged': z.strictObject({ experimentId: id, reason: text(2000).min(1) }),
  /** An agent episode (core/episodes.ts): a trigger (a gaming veto, a probing alert, a run report naming violations)
   * holds the agent's open proposals until a human takes one decision about the agent. Opened by the system. */
  'episode.opened': z.strictObject({
    episodeId: id,
    agentId: id,
    trigger: z.enum(['gaming_veto', 'probing_alert', 'run_violation', 'human']),
    experimentId: id.optional(),
    reason: text(2000).min(1),
  }),
  /** A human releases one held proposal for an individual decision (at its own pin); the episode stays open. */
  'episode.released': z.strictObject({ episodeId: id, experimentId: id }),
  /** A human's one decision about the agent: resume (the note goes to its inbox), resume on probation (an extra
   * CEL condition every automatic approval of this agent must also meet), review the held proposals one by one,
   * or retire the agent. */
  'episode.resolved': z.strictObject({
    episodeId: id,
    agentId: id,
    action: z.enum(['resume', 'probation', 'review', 'retire']),
    note: text(2000).min(1),
    probation: text(4000).min(1).optional(),
  }),
  /** A human configured a runner with `"sandbox": "none"`: its runs are not confined (a standing warning). */
  'runner.unconfined': z.strictObject({ runner: text(100), confined: z.boolean() }),
} as const;

export type EventType = keyof typeof eventSchemas;
export type EventData<T extends EventType> = z.infer<(typeof eventSchemas)[T]>;

export interface LedgerEvent<T extends EventType = EventType> {
  seq: number;
  ts: string;
  type: T;
  actor: { kind: 'human' | 'agent' | 'system'; id: string };
  data: EventData<T>;
  prev: string;
  hash: string;
}

export type AnyEvent = { [K in EventType]: LedgerEvent<K> }[EventType];

export function isEventType(t: string): t is EventType {
  return Object.prototype.hasOwnProperty.call(eventSchemas, t);
}

export class EventValidationError extends Error {
  constructor(
    readonly type: string,
    readonly issues: string[],
  ) {
    super(`invalid ${type} event: ${issues.join('; ')}`);
    this.name = 'EventValidationError';
  }
}

export function validateEventData<T extends EventType>(type: T, data: unknown): EventData<T> {
  if (!isEventType(type)) throw new EventValidationError(String(type), ['unknown event type']);
  const r = eventSchemas[type].safeParse(data);
  if (!r.success) {
    throw new EventValidationError(
      type,
      r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`),
    );
  }
  return r.data as EventData<T>;
}
