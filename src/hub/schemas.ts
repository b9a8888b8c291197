// zod schemas for every request body and query of the hub. Objects are strict: unknown fields are a 400.
// String limits mirror the ledger event schemas so that nothing valid here fails at append time.
import { z } from 'zod';
import { ID_RE, SHA_RE, resourcesSchema, seedCount } from '../core/events';

export const idParam = z.string().regex(ID_RE, 'expected an id of letters, digits, . _ - (max 64)');
export const shaParam = z.string().regex(SHA_RE, 'expected a full 40-hex git object id');
const str = (max: number) => z.string().max(max);
const nonEmpty = (max: number) => z.string().trim().min(1).max(max);
/** Query numbers arrive as strings. */
const qInt = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

export const idParams = z.strictObject({ id: idParam });
/** A git commit (hex) or an AAR snapshot id (letters, digits, _ -), as AAR's download tool validates it. */
export const commitParams = z.strictObject({ commit_id: z.string().regex(/^[A-Za-z0-9_-]{4,64}$/, 'expected a commit or snapshot id') });

export const proposeBody = z.strictObject({
  commit: shaParam,
  command: nonEmpty(4000),
  title: nonEmpty(300),
  rationale: str(20_000),
  resources: resourcesSchema,
  taskMode: z.enum(['normal', 'no-testing']),
  branch: str(255).optional(),
  supersedes: idParam.optional(),
  agentId: idParam.optional(),
  seeds: seedCount.optional(),
  /** AAR's word for the same thing. */
  num_seeds: seedCount.optional(),
});

export const listExperimentsQuery = z.strictObject({
  agentId: idParam.optional(),
  state: str(32).optional(),
});

export const inboxQuery = z.strictObject({ after: qInt(0, Number.MAX_SAFE_INTEGER).optional() });

const num = z.number().finite().nullish();
const count = z.number().int().nonnegative().max(1_000_000).nullish();
/** Fields the AAR release's share tool and server know that Overseer does not interpret: accepted (null = absent)
 * and kept verbatim with the finding (`extra`), returned in every finding. Anything else is still a 400. */
export const AAR_SHARE_FIELDS = {
  idea_uid: str(200).nullish(),
  dataset: str(200).nullish(),
  weak_model: str(200).nullish(),
  strong_model: str(200).nullish(),
  session_id: str(200).nullish(),
  iteration: count,
  pgr_se: num,
  pgr_delta: num,
  transfer_acc_se: num,
  weak_acc: num,
  strong_acc: num,
  s3_path: str(1000).nullish(),
  s3_key: str(1000).nullish(),
  parent_commit_id: str(200).nullish(),
  sequence_number: count,
  files_snapshot: z.array(z.union([str(1000), z.record(z.string().max(200), z.unknown())])).max(2000).nullish(),
  code_snippet: str(20_000).nullish(),
};
export const AAR_SHARE_KEYS = Object.keys(AAR_SHARE_FIELDS) as (keyof typeof AAR_SHARE_FIELDS)[];

export const shareBody = z.strictObject({
  summary: nonEmpty(5000),
  title: str(500).nullish(),
  finding_type: str(64).nullish(),
  idea_name: str(200).nullish(),
  run_id: str(200).nullish(),
  pgr: num,
  transfer_acc: num,
  num_seeds: count,
  worked: z.boolean().nullish(),
  commit_id: str(200).nullish(),
  config: z.record(z.string().max(200), z.unknown()).nullish(),
  ...AAR_SHARE_FIELDS,
});

export const findingsQuery = z.strictObject({
  query: str(500).optional(),
  finding_type: str(64).optional(),
  // AAR's list filters
  dataset: str(200).optional(),
  idea_name: str(200).optional(),
  idea_uid: str(200).optional(),
  worked: z.enum(['true', 'false', '1', '0', 'yes', 'no']).optional(),
  sort: z.enum(['new', 'top', 'discussed']).optional(),
  limit: qInt(1, 500).optional(),
  offset: qInt(0, 1_000_000).optional(),
});

export const searchBody = z.strictObject({ query: str(500), limit: z.number().int().min(1).max(500).optional() });
/** AAR's snapshot search: `query` holds `key:value` filters (idea_uid, run_id, idea_name, commit_id) and words. */
export const snapshotSearchBody = z.strictObject({ query: str(1000).nullish(), limit: z.number().int().min(1).max(10_000).nullish() });
export const snapshotSearchQuery = z.strictObject({ query: str(1000).optional(), limit: qInt(1, 10_000).optional() });
export const voteBody = z.strictObject({ vote: z.enum(['up', 'down']) });
export const contentBody = z.strictObject({ content: nonEmpty(5000) });
export const leaderboardQuery = z.strictObject({
  /** Rank verified entries by visible PGR (default) or by their transfer PGR on the hidden task (humans). */
  by: z.enum(['visible', 'transfer']).optional(),
  dataset: str(200).optional(),
  split: str(64).optional(),
  weak_model: str(200).optional(),
  strong_model: str(200).optional(),
});

export const evaluateBody = z.strictObject({
  predictions: z.array(z.number().int().min(-1_000_000).max(1_000_000)).max(2_000_000),
  dataset: nonEmpty(200),
  split: str(64).optional(),
  // AAR's MCP tool always sends the model names (empty when unknown): null and "" mean "not named".
  weak_model: str(200).nullish(),
  strong_model: str(200).nullish(),
  // What the caller calls its run, seed and idea: stored with the query, never used to tell scores apart (a
  // job's score is identified by its job token alone).
  run_id: str(200).nullish(),
  seed: z.union([z.number().int().min(-(2 ** 53)).max(2 ** 53), str(64)]).nullish(),
  idea_name: str(200).nullish(),
  idea_uid: str(200).nullish(),
});

export const evaluationFinalBody = z.strictObject({
  dataset: nonEmpty(200),
  split: str(64).optional(),
  experiment_id: idParam.optional(),
  predictions: z.array(z.number().int().min(-1_000_000).max(1_000_000)).max(2_000_000).optional(),
  weak_model: str(200).optional(),
  strong_model: str(200).optional(),
});

export const evaluationResumeBody = z.strictObject({ agent_id: idParam, note: str(2000).optional() });

export const commitsQuery = z.strictObject({
  ref: z
    .string()
    .regex(/^[A-Za-z0-9._/@^~-]{1,255}$/, 'invalid ref')
    .refine((r) => !r.startsWith('-'), 'invalid ref')
    .optional(),
  max: qInt(1, 1000).optional(),
});

export const diffQuery = z.strictObject({ file: str(4096).min(1).optional() });
export const contentQuery = z.strictObject({ path: str(4096).min(1), side: z.enum(['base', 'head']) });

const pin = { commit: shaParam, tree: shaParam };
export const approveBody = z.strictObject({ ...pin, note: str(2000).optional(), seeds: seedCount.optional() });
export const vetoBody = z.strictObject({ ...pin, reason: nonEmpty(4000) });
/** A human sets the approval policy: rules given here, or the `approvalPolicy` section of fleet.json. */
export const policyBody = z.strictObject({
  rules: z.array(z.strictObject({ name: nonEmpty(100), expr: nonEmpty(4000) })).max(50).optional(),
  auditShare: z.number().min(0).max(1).optional(),
  note: str(2000).optional(),
  fromFleetJson: z.boolean().optional(),
});
export const ruleParams = z.strictObject({ name: nonEmpty(100) });
export const auditBody = z.strictObject({ outcome: z.enum(['confirm', 'flag']), reason: str(2000).optional() });
/** One decision for a sweep: each member is decided at the pin the human was shown (its own commit). */
export const sweepDecisionBody = z.strictObject({
  decision: z.enum(['approve', 'veto', 'request_changes']),
  members: z.array(z.strictObject({ experimentId: idParam, ...pin })).min(1).max(200),
  reason: str(4000).optional(),
  note: str(1000).optional(),
});

export const reviewCommentBody = z.strictObject({
  file: str(4096).min(1),
  line: z.number().int().nonnegative().max(10_000_000),
  side: z.enum(['base', 'head']),
  body: nonEmpty(10_000),
  inReplyTo: idParam.optional(),
});

export const viewedBody = z.strictObject({ file: str(4096).min(1), viewed: z.boolean() });
export const cancelBody = z.strictObject({ reason: str(2000).optional() });
export const acceptResultBody = z.strictObject({
  reason: str(2000).min(1),
  falseAlarms: z
    .array(z.strictObject({ kind: str(64).min(1), file: str(4096), line: z.number().int().nonnegative(), why: str(2000).min(1) }))
    .max(200)
    .optional(),
});
export const budgetBody = z
  .strictObject({
    gpuHours: z.number().nonnegative().finite().max(1e9).optional(),
    usd: z.number().nonnegative().finite().max(1e9).optional(),
    evalQueries: z.number().int().nonnegative().max(1e9).optional(),
  })
  .refine((b) => b.gpuHours !== undefined || b.usd !== undefined || b.evalQueries !== undefined, 'name at least one of gpuHours, usd, evalQueries');
/** Model spend of one call (or of idle agent-hours), recorded by a fleet runtime's human operator. */
export const chargeBody = z.strictObject({
  usd: z.number().nonnegative().finite().max(1e6),
  tokensIn: z.number().int().nonnegative().max(1e12),
  tokensOut: z.number().int().nonnegative().max(1e12),
  agentHours: z.number().nonnegative().finite().max(1e6),
});
export const pauseBody = z.strictObject({ reason: nonEmpty(2000) });
export const emptyBody = z.strictObject({});
/** Agent episodes (core/episodes.ts). */
export const episodeResolveBody = z.strictObject({ action: z.enum(['resume', 'probation', 'review', 'retire']), note: nonEmpty(2000), probation: nonEmpty(4000).optional() });
export const episodeReleaseBody = z.strictObject({ experimentId: idParam });
export const episodesQuery = z.strictObject({ all: z.enum(['0', '1']).optional() });
export const verdictBody = z.strictObject({ verdict: z.enum(['verified', 'suspect', 'retracted']), note: str(2000).optional() });
export const auditQuery = z.strictObject({ limit: qInt(1, 10_000).optional() });
export const eventsQuery = z.strictObject({ after: qInt(0, Number.MAX_SAFE_INTEGER).optional() });
export const runLogQuery = z.strictObject({ offset: qInt(0, Number.MAX_SAFE_INTEGER).optional() });
export const noQuery = z.strictObject({});
