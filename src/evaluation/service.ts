// EvaluationService: scores predictions against labels only the hub holds. Mounted by the hub at
// POST /api/evaluate-predictions (AAR-compatible request/response), GET /api/leaderboard, plus human-only
// operations (final heldout evaluation, query budgets). State is a fold over ledger events (`ingest`);
// the only state outside the ledger is the prediction-vector history needed for Hamming probing detection
// (the ledger stores hashes only) and the secret keying the release noise, both under `stateDir`
// (default: inside labelsRoot, which no agent can read).
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { canonicalJson, sha256Hex } from '../core/canonical';
import type { EventData, EventType } from '../core/events';
import type { Actor } from '../core/model';
import {
  type BaselinePair,
  DATASET_NAME_RE,
  type LoadedDataset,
  type Split,
  DatasetError,
  findBaselinePair,
  isSplit,
  loadDataset,
} from './datasets';
import {
  type EvalRecord,
  type FixedBaselines,
  type LeaderboardQuery,
  type LeaderboardResponse,
  type SelfReport,
  buildLeaderboard,
} from './leaderboard';
import {
  DEFAULT_DETECTOR,
  DEFAULT_RELEASE,
  DEFAULT_RUN_RELEASE,
  type DetectorSettings,
  type LadderState,
  type NetPoint,
  type Observation,
  type ReleaseSettings,
  type RunReleaseSettings,
  ProbeDetector,
  keyedUniform,
  ladderStep,
  netRelease,
  packPredictions,
  packedCorrect,
} from './release';
import { bootstrapAccuracy, bootstrapPgrItems, pgr } from './stats';

export interface Principal {
  kind: 'agent' | 'human';
  id: string;
}

/** Context the hub (never the agent) attaches: the experiment/run a run-scoped token belongs to. */
export interface RunContext {
  experimentId?: string;
  /** The hub's id of the job (stored with the score). */
  runId?: string;
  /** The seed job of the experiment the job token names: with the experiment, the score's identity. */
  job?: number;
  /** The seed value the hub chose for that job (stored). */
  seed?: number;
}

export interface EvaluationSettings {
  release: ReleaseSettings;
  /** Run-bound releases: one score per (run, dataset, split), through the agent's cross-run net (release.ts). */
  runRelease: RunReleaseSettings;
  detector: DetectorSettings;
  /** Per-agent query budget per split when no human has set one (Infinity = unlimited). */
  defaultBudget: Record<Split, number>;
  /** Distinct run-bound scores per seed job (counted over the experiment: this × its seed jobs); a repeat of a
   * score already fixed does not count. */
  runEvalLimit: number;
  /** Suspend the agent's evaluation access (every dataset and split, ad-hoc and run-bound) when probing is
   * suspected, until a human resumes it (`eval.resumed`). Recorded in the alert, so replay does not depend on it. */
  freezeOnProbing: boolean;
  minSeeds: number;
  /** Where the prediction history and noise secret live (default `<labelsRoot>/.overseer-eval`). */
  stateDir?: string;
  /** Keep the prediction history only in memory (benchmarks). */
  persistHistory: boolean;
}

export const DEFAULT_EVAL_SETTINGS: EvaluationSettings = {
  release: DEFAULT_RELEASE,
  runRelease: DEFAULT_RUN_RELEASE,
  detector: DEFAULT_DETECTOR,
  defaultBudget: { train_label: Infinity, train_unlabel: 0, test: 500, heldout: 0 },
  runEvalLimit: 10,
  freezeOnProbing: true,
  minSeeds: 3,
  persistHistory: true,
};

/** What a caller may override (nested settings field by field). */
export type EvaluationSettingsOverrides = Partial<Omit<EvaluationSettings, 'release' | 'runRelease' | 'detector' | 'defaultBudget'>> & {
  release?: Partial<ReleaseSettings>;
  runRelease?: Partial<RunReleaseSettings>;
  detector?: Partial<DetectorSettings>;
  defaultBudget?: Partial<Record<Split, number>>;
};

export type AppendFn = <T extends EventType>(type: T, actor: Actor, data: EventData<T>) => Promise<unknown>;

export interface EvaluationServiceOptions {
  dataRoot: string;
  labelsRoot: string;
  append: AppendFn;
  now?: () => Date;
  settings?: EvaluationSettingsOverrides;
  /** The hidden transfer datasets (`<fleet>/transfer/datasets`, `<fleet>/transfer/labels`): replication jobs only. */
  transferDataRoot?: string;
  transferLabelsRoot?: string;
}

export class EvalError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'EvalError';
  }
}

/** AAR response fields first; the rest are Overseer additions agents may ignore. */
export interface EvaluateResponse {
  transfer_acc: number;
  pgr: number | null;
  correct: number;
  total: number;
  fixed_weak_acc: number | null;
  fixed_strong_acc: number | null;
  dataset: string;
  split: Split;
  weak_model: string | null;
  strong_model: string | null;
  release: {
    mode: 'ladder' | 'run' | 'exact';
    /** False when the Ladder repeated your previous best (this submission did not beat it by `threshold`). */
    new_best: boolean;
    precision: number | null;
    threshold: number | null;
  };
  budget: { used: number; limit: number | null; remaining: number | null };
}

export interface FinalEvaluationRequest {
  dataset: string;
  predictions: unknown;
  split?: string;
  weak_model?: string;
  strong_model?: string;
  experimentId?: string;
}

export interface FinalEvaluationResult {
  dataset: string;
  split: Split;
  transfer_acc: number;
  correct: number;
  total: number;
  transfer_acc_ci: [number, number];
  pgr: number | null;
  pgr_ci: [number, number] | null;
  fixed_weak_acc: number | null;
  fixed_strong_acc: number | null;
  weak_model: string | null;
  strong_model: string | null;
  pred_hash: string;
  experiment_id?: string;
}

/** Why and since when an agent's evaluation access is suspended (from its `eval.probing_suspected` event). */
export interface EvalSuspension {
  reason: 'probing_suspected';
  dataset: string;
  split: string;
  nearDuplicates: number | null;
  /** Ledger sequence number and time of the alert (−1 / '' when the append did not report them). */
  seq: number;
  since: string;
}

export interface EvalResumption {
  by: string;
  at: string;
  seq: number;
  note?: string;
}

export interface AgentEvalStatus {
  agentId: string;
  budgets: Record<Split, { used: number; limit: number | null; remaining: number | null }>;
  /** `frozen`: the agent's evaluation access is suspended (see `suspended`). */
  probing: { dataset: string; split: string; flagged: boolean; frozen: boolean; nearDuplicates: number; queries: number }[];
  best: { dataset: string; split: string; transfer_acc: number }[];
  /** Non-null while a probing alert suspends every evaluation of this agent, until a human resumes it. */
  suspended: EvalSuspension | null;
  /** The last time a human resumed this agent's evaluation access. */
  lastResumed: EvalResumption | null;
}

const requestSchema = z.looseObject({
  predictions: z.array(z.unknown()).max(2_000_000),
  dataset: z.string().min(1).max(200),
  split: z.string().min(1).max(64).optional(),
  weak_model: z.string().min(1).max(200).optional(),
  strong_model: z.string().min(1).max(200).optional(),
  run_id: z.string().max(200).nullish(),
  seed: z.union([z.number(), z.string().max(64)]).nullish(),
  idea_name: z.string().max(200).nullish(),
  idea_uid: z.string().max(200).nullish(),
});

type LedgerLike = { type: string; actor: { kind: string; id: string }; data: unknown; seq?: number; ts?: string };

interface Scored {
  ds: LoadedDataset;
  split: Split;
  pair: BaselinePair | undefined;
  preds: number[];
  correct: number;
  n: number;
  predHash: string;
}

/** What tells one run-bound score from another within an experiment: the seed job (from the job token);
 * for evaluations recorded before seed jobs existed, the run id the hub attached. */
function runIdentity(job: number | undefined, runId: string | undefined): string | undefined {
  return job !== undefined ? `#job${job}` : runId;
}

const SYSTEM_ACTOR: Actor = { kind: 'system', id: 'overseer' };
const key = (...parts: string[]) => parts.join('\u0000');
const round4 = (x: number) => Math.round(x * 1e4) / 1e4;

export class EvaluationService {
  readonly settings: EvaluationSettings;
  private readonly dataRoot: string;
  private readonly labelsRoot: string;
  private readonly append: AppendFn;
  private readonly now: () => Date;
  private readonly stateDir: string;
  private readonly secret: Buffer;
  private readonly historyFile: string;

  private readonly datasets = new Map<string, LoadedDataset>();
  private readonly transferDatasets = new Map<string, LoadedDataset>();
  private readonly transferDataRoot?: string;
  private readonly transferLabelsRoot?: string;
  /** Replication scores already fixed: experiment|job|split → released accuracy; and the vectors seen. */
  private readonly replicationScores = new Map<string, { released: number; predHash: string }>();
  /** predHash → packed vector (for Hamming detection on replay). */
  private readonly history = new Map<string, Uint32Array>();
  /** Events this process appended and already applied: ingest skips them once. */
  private readonly selfApplied = new Map<string, number>();
  private readonly queues = new Map<string, Promise<unknown>>();

  // Projection.
  private readonly used = new Map<string, number>(); // agent|split
  private readonly splitBudget = new Map<string, number>(); // agent|split (eval.budget_set)
  private readonly agentBudget = new Map<string, number>(); // agent (agent.registered / budget.set evalQueries)
  private readonly ladders = new Map<string, LadderState>(); // agent|dataset|split
  private readonly detectors = new Map<string, ProbeDetector>(); // agent|dataset|split
  private readonly lastObs = new Map<string, Observation>();
  private readonly flagged = new Set<string>(); // agent|dataset|split
  private readonly suspended = new Map<string, EvalSuspension>(); // agent
  private readonly resumed = new Map<string, EvalResumption>(); // agent
  /** Run-bound scores already released: experiment|run|dataset|split → released accuracy. */
  private readonly runScores = new Map<string, number>();
  /** The agent's run-score net per agent|dataset|split, in creation order (exact accuracies stay here). */
  private readonly runNets = new Map<string, NetPoint[]>();
  private readonly runCounts = new Map<string, number>(); // experimentId → distinct run scores fixed
  private readonly seedJobs = new Map<string, number>(); // experimentId → seed jobs its approval fixed
  private readonly expAgent = new Map<string, string>();
  private readonly approved = new Map<string, string>(); // experimentId → approved commit
  private readonly dispatched = new Map<string, string>(); // experimentId → dispatched commit
  private readonly records: EvalRecord[] = [];
  private readonly posts = new Map<string, SelfReport>();
  private readonly finals: { seq: number; ts: string; data: Record<string, unknown> }[] = [];
  private missingHistory = 0;

  constructor(opts: EvaluationServiceOptions) {
    this.dataRoot = path.resolve(opts.dataRoot);
    this.labelsRoot = path.resolve(opts.labelsRoot);
    if (opts.transferDataRoot) this.transferDataRoot = path.resolve(opts.transferDataRoot);
    if (opts.transferLabelsRoot) this.transferLabelsRoot = path.resolve(opts.transferLabelsRoot);
    this.append = opts.append;
    this.now = opts.now ?? (() => new Date());
    this.settings = {
      ...DEFAULT_EVAL_SETTINGS,
      ...opts.settings,
      release: { ...DEFAULT_EVAL_SETTINGS.release, ...opts.settings?.release },
      runRelease: { ...DEFAULT_EVAL_SETTINGS.runRelease, ...opts.settings?.runRelease },
      detector: { ...DEFAULT_EVAL_SETTINGS.detector, ...opts.settings?.detector },
      defaultBudget: { ...DEFAULT_EVAL_SETTINGS.defaultBudget, ...opts.settings?.defaultBudget },
    };
    this.stateDir = path.resolve(this.settings.stateDir ?? path.join(this.labelsRoot, '.overseer-eval'));
    fs.mkdirSync(this.stateDir, { recursive: true, mode: 0o700 });
    const secretFile = path.join(this.stateDir, 'release.key');
    if (!fs.existsSync(secretFile)) fs.writeFileSync(secretFile, randomBytes(32), { mode: 0o600, flag: 'wx' });
    this.secret = fs.readFileSync(secretFile);
    this.historyFile = path.join(this.stateDir, 'predictions.jsonl');
    if (this.settings.persistHistory && fs.existsSync(this.historyFile)) {
      for (const line of fs.readFileSync(this.historyFile, 'utf8').split('\n')) {
        if (!line) continue;
        try {
          const r = JSON.parse(line) as { h: string; b: string };
          const buf = Buffer.from(r.b, 'base64');
          this.history.set(r.h, new Uint32Array(buf.buffer, buf.byteOffset, buf.byteLength >>> 2).slice());
        } catch {
          // A torn last line loses one vector's detection history, nothing else.
        }
      }
    }
  }

  // ------------------------------------------------------------------------------------------------------
  // Agent API

  /** POST /api/evaluate-predictions. Throws EvalError with a 4xx status for bad or refused requests. */
  evaluate(principal: Principal, body: unknown, ctx: RunContext = {}): Promise<EvaluateResponse> {
    // Serialize per principal so budget checks and Ladder state are read and updated atomically.
    const q = this.queues.get(principal.id) ?? Promise.resolve();
    const next = q.then(
      () => this.evaluateNow(principal, body, ctx),
      () => this.evaluateNow(principal, body, ctx),
    );
    this.queues.set(
      principal.id,
      next.catch(() => undefined),
    );
    return next;
  }

  private async evaluateNow(principal: Principal, body: unknown, ctx: RunContext): Promise<EvaluateResponse> {
    const parsed = requestSchema.safeParse(body);
    if (!parsed.success) {
      const i = parsed.error.issues[0];
      throw new EvalError(400, 'invalid_request', `${i.path.join('.') || 'body'}: ${i.message}`);
    }
    const req = parsed.data;
    if (principal.kind !== 'human') this.assertNotSuspended(principal.id);
    const splitName = req.split ?? 'test';
    if (splitName === 'heldout' && principal.kind === 'human') {
      const r = await this.finalEvaluation(principal, { ...req, split: 'heldout', experimentId: ctx.experimentId });
      return {
        transfer_acc: r.transfer_acc,
        pgr: r.pgr,
        correct: r.correct,
        total: r.total,
        fixed_weak_acc: r.fixed_weak_acc,
        fixed_strong_acc: r.fixed_strong_acc,
        dataset: r.dataset,
        split: 'heldout',
        weak_model: r.weak_model,
        strong_model: r.strong_model,
        release: { mode: 'exact', new_best: true, precision: null, threshold: null },
        budget: { used: 0, limit: null, remaining: null },
      };
    }
    const s = this.score(principal, req.dataset, splitName, req.predictions, req.weak_model, req.strong_model);
    const { split, n, correct } = s;
    const acc = correct / n;
    const isHuman = principal.kind === 'human';
    const agentId = principal.id;
    const sk = key(agentId, split);
    const lk = key(agentId, req.dataset, split);

    // Budget and freeze (humans are not budgeted).
    const limit = this.budgetLimit(agentId, split);
    const used = this.used.get(sk) ?? 0;
    if (!isHuman) {
      if (used >= limit) {
        throw new EvalError(429, 'budget_exhausted', `evaluation query budget for split ${split} exhausted (${used}/${limit}); ask a human`);
      }
    }

    // Release.
    let mode: 'ladder' | 'run' | 'exact';
    let released: number;
    let newBest = true;
    const runBound = !isHuman && ctx.experimentId !== undefined && this.isApprovedRunFor(ctx.experimentId, agentId);
    // A run-bound score is identified by the job token alone (experiment, seed job, dataset, split): what the body
    // calls its run (`run_id`), seed or idea is stored, never used to tell scores apart.
    const runId = runBound ? ctx.runId : (req.run_id ?? undefined);
    const told = {
      ...(runBound && req.run_id ? { clientRunId: req.run_id } : {}),
      ...(req.seed !== undefined && req.seed !== null ? { clientSeed: String(req.seed).slice(0, 64) } : {}),
      ...(req.idea_name ? { ideaName: req.idea_name } : {}),
      ...(req.idea_uid ? { ideaUid: req.idea_uid } : {}),
    };
    if (isHuman || split === 'train_label') {
      mode = 'exact';
      released = acc;
    } else if (runBound) {
      mode = 'run';
      const fixed = this.runScores.get(this.runKey(ctx.experimentId as string, runIdentity(ctx.job, ctx.runId), req.dataset, split));
      if (fixed !== undefined) {
        // One score per (seed job, dataset, split): later evaluations of the job repeat it.
        released = fixed;
        newBest = false;
      } else {
        const c = this.runCounts.get(ctx.experimentId as string) ?? 0;
        const lim = this.settings.runEvalLimit * Math.max(1, this.seedJobs.get(ctx.experimentId as string) ?? 1);
        if (c >= lim) {
          throw new EvalError(429, 'run_eval_limit', `experiment ${ctx.experimentId} already has ${c} run scores (limit ${lim}: ${this.settings.runEvalLimit} per seed job)`);
        }
        released = this.runNetRelease(lk, acc, n, s.predHash).released;
      }
    } else {
      mode = 'ladder';
      const st = this.ladders.get(lk) ?? { best: null, releases: 0 };
      const u = keyedUniform(this.secret, key(agentId, req.dataset, split, s.predHash));
      const out = ladderStep(st, acc, u, this.settings.release);
      released = out.released;
      newBest = out.improved;
    }
    const releasedCorrect = mode === 'exact' ? correct : Math.round(released * n);
    const base = s.pair?.splits[split];
    const p = base ? pgr(released, base.weak_acc, base.strong_acc) : null;
    const releasedRecord = {
      transfer_acc: released,
      pgr: p === null ? null : round4(p),
      correct: releasedCorrect,
      total: n,
      weak_model: s.pair?.weak_model ?? null,
      strong_model: s.pair?.strong_model ?? null,
      mode,
      new_best: newBest,
      actor_kind: principal.kind,
    };
    const data: EventData<'eval.query'> = {
      agentId,
      dataset: req.dataset,
      split,
      predHash: s.predHash,
      n,
      released: releasedRecord,
      ...(runId ? { runId } : {}),
      ...(runBound || (isHuman && ctx.experimentId) ? { experimentId: ctx.experimentId } : {}),
      ...(runBound && ctx.job !== undefined ? { job: ctx.job } : {}),
      ...(runBound && ctx.seed !== undefined ? { seed: ctx.seed } : {}),
      ...told,
    };

    // History first, so a restart can rebuild detection for every logged query.
    this.remember(s.predHash, s.preds, s.ds.meta.numClasses);
    const actor: Actor = { kind: principal.kind, id: principal.id };
    const appended = await this.commit('eval.query', actor, data);
    const obs = this.applyQuery(actor, data, appended.ts ?? this.now().toISOString(), appended.seq ?? -1);

    if (obs?.suspected && !this.flagged.has(lk)) {
      const lim = Math.max(this.settings.detector.minPositions, Math.floor(this.settings.detector.nearFraction * n));
      const ev: EventData<'eval.probing_suspected'> = {
        agentId,
        dataset: req.dataset,
        split,
        evidence: {
          nearDuplicates: obs.nearCount,
          lookback: this.settings.detector.lookback,
          minHamming: obs.minDistance,
          nearLimit: lim,
          queries: obs.queries,
          predHash: s.predHash,
          ...(runBound ? { experimentId: ctx.experimentId } : {}),
        },
        suspended: this.settings.freezeOnProbing,
      };
      try {
        const a = await this.commit('eval.probing_suspected', SYSTEM_ACTOR, ev);
        this.applyProbing(ev, a.seq ?? -1, a.ts ?? this.now().toISOString());
      } catch {
        // Detection is best effort; the query itself is logged.
      }
    }

    const lim = isHuman ? null : limit;
    const nowUsed = isHuman ? 0 : (this.used.get(sk) ?? 0);
    return {
      transfer_acc: released,
      pgr: releasedRecord.pgr,
      correct: releasedCorrect,
      total: n,
      fixed_weak_acc: base?.weak_acc ?? null,
      fixed_strong_acc: base?.strong_acc ?? null,
      dataset: req.dataset,
      split,
      weak_model: releasedRecord.weak_model,
      strong_model: releasedRecord.strong_model,
      release: {
        mode,
        new_best: newBest,
        precision: mode === 'exact' ? null : mode === 'run' ? this.settings.runRelease.precision : this.settings.release.precision,
        threshold: mode === 'ladder' ? this.settings.release.threshold : null,
      },
      budget: {
        used: nowUsed,
        limit: lim === null || lim === Infinity ? null : lim,
        remaining: lim === null || lim === Infinity ? null : Math.max(0, lim - nowUsed),
      },
    };
  }

  /**
   * A replication job's evaluation (core/replication.ts): the visible dataset the job names is scored on the hidden
   * transfer dataset it maps to, with that dataset's fixed baselines. The job gets the answer a seed job would (one
   * released score per job and split, repeated afterwards, coarsened like a run score); the exact result goes to the
   * ledger as `replication.scored`, which only humans see. Nothing of it touches the agent's budgets, Ladder, probing
   * history or leaderboard. A job that keeps submitting other vectors after its score is recorded doing so.
   */
  async evaluateReplication(principal: Principal, body: unknown, ctx: RunContext & { experimentId: string; job: number }, datasets: Record<string, string>): Promise<EvaluateResponse> {
    const parsed = requestSchema.safeParse(body);
    if (!parsed.success) {
      const i = parsed.error.issues[0];
      throw new EvalError(400, 'invalid_request', `${i.path.join('.') || 'body'}: ${i.message}`);
    }
    const req = parsed.data;
    if (principal.kind !== 'agent') throw new EvalError(403, 'forbidden', 'replication jobs evaluate as their agent');
    this.assertNotSuspended(principal.id);
    const hidden = Object.prototype.hasOwnProperty.call(datasets, req.dataset) ? datasets[req.dataset] : undefined;
    if (!hidden || !this.transferDataRoot || !this.transferLabelsRoot) throw new EvalError(404, 'unknown_dataset', `unknown dataset ${req.dataset}`);
    let ds = this.transferDatasets.get(hidden);
    if (!ds) {
      try {
        ds = loadDataset(this.transferDataRoot, this.transferLabelsRoot, hidden);
      } catch {
        throw new EvalError(500, 'dataset_error', `dataset ${req.dataset} could not be loaded`);
      }
      this.transferDatasets.set(hidden, ds);
    }
    const splitName = req.split ?? 'test';
    if (!isSplit(splitName)) throw new EvalError(400, 'unknown_split', `unknown split ${JSON.stringify(splitName)}: use train_label or test`);
    const split = splitName;
    if (split === 'train_unlabel') throw new EvalError(403, 'split_not_scored', 'train_unlabel is unlabeled: it is never scored');
    if (split === 'heldout') throw new EvalError(403, 'heldout_forbidden', 'the heldout split is scored only at a human request');
    if (split === 'train_label') throw new EvalError(403, 'split_not_scored', 'train_label labels are public: score them locally');
    const sp = ds.splits[split];
    if (!sp?.labels) throw new EvalError(404, 'unknown_split', `dataset ${req.dataset} has no ${split} split`);
    const k = ds.meta.numClasses;
    const preds = req.predictions;
    for (let i = 0; i < preds.length; i++) {
      const v = preds[i];
      if (typeof v !== 'number' || !Number.isInteger(v)) throw new EvalError(400, 'invalid_predictions', `predictions[${i}] must be an integer class index`);
      if (v < 0 || v >= k) throw new EvalError(400, 'invalid_predictions', `predictions[${i}] must be ${k === 2 ? '0 or 1' : `in [0, ${k - 1}]`}`);
    }
    if (preds.length !== sp.n) {
      throw new EvalError(400, 'length_mismatch', `expected ${sp.n} predictions (one per line of ${req.dataset}/${split}/items.jsonl, in order), got ${preds.length}`);
    }
    let correct = 0;
    for (let i = 0; i < sp.n; i++) if (preds[i] === sp.labels[i]) correct++;
    const acc = correct / sp.n;
    const predHash = sha256Hex(JSON.stringify(preds));
    const pair = findBaselinePair(ds.baselines, req.weak_model, req.strong_model);
    const base = pair?.splits[split];
    const rk = key(ctx.experimentId, String(ctx.job), split);
    const fixed = this.replicationScores.get(rk);
    const prec = this.settings.runRelease.precision;
    const released = fixed ? fixed.released : prec > 0 ? Math.min(1, Math.max(0, Math.round(acc / prec) * prec)) : acc;
    const exactPgr = base ? pgr(acc, base.weak_acc, base.strong_acc) : null;
    if (!fixed || fixed.predHash !== predHash) {
      const data: EventData<'replication.scored'> = {
        experimentId: ctx.experimentId,
        index: ctx.job,
        dataset: req.dataset,
        transferDataset: hidden,
        split,
        predHash,
        n: sp.n,
        transferAcc: acc,
        pgr: exactPgr === null ? null : round4(exactPgr),
        first: !fixed,
      };
      await this.commit('replication.scored', SYSTEM_ACTOR, data);
      if (!fixed) this.replicationScores.set(rk, { released, predHash });
    }
    const releasedPgr = base ? pgr(released, base.weak_acc, base.strong_acc) : null;
    const limit = this.budgetLimit(principal.id, split);
    const used = this.used.get(key(principal.id, split)) ?? 0;
    return {
      transfer_acc: released,
      pgr: releasedPgr === null ? null : round4(releasedPgr),
      correct: Math.round(released * sp.n),
      total: sp.n,
      fixed_weak_acc: base?.weak_acc ?? null,
      fixed_strong_acc: base?.strong_acc ?? null,
      dataset: req.dataset,
      split,
      weak_model: pair?.weak_model ?? null,
      strong_model: pair?.strong_model ?? null,
      release: { mode: 'run', new_best: !fixed, precision: prec, threshold: null },
      budget: { used, limit: limit === Infinity ? null : limit, remaining: limit === Infinity ? null : Math.max(0, limit - used) },
    };
  }

  /** Validation and exact scoring. Every error message depends only on public information. */
  private score(
    principal: Principal,
    dataset: string,
    splitName: string,
    predictions: unknown[],
    weak?: string,
    strong?: string,
  ): Scored {
    const ds = this.dataset(dataset);
    if (!isSplit(splitName)) {
      throw new EvalError(400, 'unknown_split', `unknown split ${JSON.stringify(splitName)}: use train_label or test`);
    }
    const split = splitName;
    if (split === 'train_unlabel') throw new EvalError(403, 'split_not_scored', 'train_unlabel is unlabeled: it is never scored');
    if (split === 'heldout' && principal.kind !== 'human') {
      throw new EvalError(403, 'heldout_forbidden', 'the heldout split is scored only at a human request');
    }
    const sp = ds.splits[split];
    if (!sp) throw new EvalError(404, 'unknown_split', `dataset ${dataset} has no ${split} split`);
    const k = ds.meta.numClasses;
    for (let i = 0; i < predictions.length; i++) {
      const v = predictions[i];
      if (typeof v !== 'number' || !Number.isInteger(v)) {
        throw new EvalError(400, 'invalid_predictions', `predictions[${i}] must be an integer class index`);
      }
      if (v < 0 || v >= k) {
        throw new EvalError(400, 'invalid_predictions', `predictions[${i}] must be ${k === 2 ? '0 or 1' : `in [0, ${k - 1}]`}`);
      }
    }
    // n is public (the line count of items.jsonl): saying it reveals nothing about labels.
    if (predictions.length !== sp.n) {
      throw new EvalError(
        400,
        'length_mismatch',
        `expected ${sp.n} predictions (one per line of ${dataset}/${split}/items.jsonl, in order), got ${predictions.length}`,
      );
    }
    // Models without fixed baselines here: scored, with pgr null (as AAR's server answers; the hub says why).
    const pair = findBaselinePair(ds.baselines, weak, strong);
    if (!sp.labels) throw new EvalError(503, 'labels_unavailable', `the hub holds no labels for ${dataset}/${split}`);
    const preds = predictions as number[];
    let correct = 0;
    for (let i = 0; i < sp.n; i++) if (preds[i] === sp.labels[i]) correct++;
    // For an array of integers JSON.stringify is exactly canonicalJson, and much faster on 10^4+ items.
    return { ds, split, pair, preds, correct, n: sp.n, predHash: sha256Hex(JSON.stringify(preds)) };
  }

  private dataset(name: string): LoadedDataset {
    if (!DATASET_NAME_RE.test(name)) throw new EvalError(404, 'unknown_dataset', `unknown dataset`);
    let ds = this.datasets.get(name);
    if (!ds) {
      try {
        ds = loadDataset(this.dataRoot, this.labelsRoot, name);
      } catch (err) {
        if (err instanceof DatasetError && /unknown dataset/.test(err.message)) {
          throw new EvalError(404, 'unknown_dataset', `unknown dataset ${name}`);
        }
        throw new EvalError(500, 'dataset_error', `dataset ${name} could not be loaded`);
      }
      this.datasets.set(name, ds);
    }
    return ds;
  }

  private remember(predHash: string, preds: number[], numClasses: number): void {
    if (this.history.has(predHash)) return;
    const packed = packPredictions(preds, numClasses);
    this.history.set(predHash, packed);
    if (this.settings.persistHistory) {
      const b = Buffer.from(packed.buffer, packed.byteOffset, packed.byteLength).toString('base64');
      fs.appendFileSync(this.historyFile, JSON.stringify({ h: predHash, b }) + '\n', { mode: 0o600 });
    }
  }

  /** Appends an event this service applies itself; returns its seq/ts when the append function reports them. */
  private async commit<T extends EventType>(type: T, actor: Actor, data: EventData<T>): Promise<{ seq?: number; ts?: string }> {
    const k = key(type, actor.kind, actor.id, canonicalJson(data));
    this.selfApplied.set(k, (this.selfApplied.get(k) ?? 0) + 1);
    try {
      const ev = (await this.append(type, actor, data)) as { seq?: unknown; ts?: unknown } | undefined;
      return {
        seq: typeof ev?.seq === 'number' ? ev.seq : undefined,
        ts: typeof ev?.ts === 'string' ? ev.ts : undefined,
      };
    } catch (err) {
      const c = (this.selfApplied.get(k) ?? 1) - 1;
      if (c > 0) this.selfApplied.set(k, c);
      else this.selfApplied.delete(k);
      throw new EvalError(503, 'ledger_unavailable', `could not log the evaluation: ${(err as Error).message}`);
    }
  }

  // ------------------------------------------------------------------------------------------------------
  // Human API

  /** Final (heldout) evaluation, human only: exact numbers with bootstrap CIs over items. */
  async finalEvaluation(human: Principal, req: FinalEvaluationRequest): Promise<FinalEvaluationResult> {
    if (human.kind !== 'human') throw new EvalError(403, 'human_only', 'final evaluation is a human action');
    if (!Array.isArray(req.predictions)) throw new EvalError(400, 'invalid_request', 'predictions: expected an array');
    const split = req.split ?? 'heldout';
    const s = this.score(human, req.dataset, split, req.predictions, req.weak_model, req.strong_model);
    const labels = s.ds.splits[s.split]?.labels as Uint8Array;
    const correctVec = new Uint8Array(s.n);
    for (let i = 0; i < s.n; i++) correctVec[i] = s.preds[i] === labels[i] ? 1 : 0;
    const acc = s.correct / s.n;
    const accCi = bootstrapAccuracy(correctVec, { seed: 1 });
    const base = s.pair?.splits[s.split];
    const p = base ? pgr(acc, base.weak_acc, base.strong_acc) : null;
    const pCi = base
      ? bootstrapPgrItems({ transferCorrect: correctVec, weakAcc: base.weak_acc, strongAcc: base.strong_acc }, { seed: 1 })
      : undefined;
    const result: FinalEvaluationResult = {
      dataset: req.dataset,
      split: s.split,
      transfer_acc: acc,
      correct: s.correct,
      total: s.n,
      transfer_acc_ci: [round4(accCi.lo), round4(accCi.hi)],
      pgr: p === null ? null : round4(p),
      pgr_ci: pCi && Number.isFinite(pCi.lo) ? [round4(pCi.lo), round4(pCi.hi)] : null,
      fixed_weak_acc: base?.weak_acc ?? null,
      fixed_strong_acc: base?.strong_acc ?? null,
      weak_model: s.pair?.weak_model ?? null,
      strong_model: s.pair?.strong_model ?? null,
      pred_hash: s.predHash,
      ...(req.experimentId ? { experiment_id: req.experimentId } : {}),
    };
    const data: EventData<'eval.final'> = {
      dataset: req.dataset,
      split: s.split,
      result: { ...result },
      ...(req.experimentId ? { experimentId: req.experimentId } : {}),
    };
    await this.commit('eval.final', { kind: 'human', id: human.id }, data);
    this.finals.push({ seq: -1, ts: this.now().toISOString(), data: data as Record<string, unknown> });
    return result;
  }

  /** Human lifts a probing suspension of an agent's evaluation access (`eval.resumed`). The agent's probe
   * detectors start afresh, so renewed probing raises a new alert (and a new suspension). */
  async resumeEvaluation(human: Principal, agentId: string, note?: string): Promise<AgentEvalStatus> {
    if (human.kind !== 'human') throw new EvalError(403, 'human_only', 'only a human may resume evaluation access');
    if (typeof agentId !== 'string' || !DATASET_NAME_RE.test(agentId)) throw new EvalError(400, 'invalid_agent', 'invalid agent id');
    if (note !== undefined && (typeof note !== 'string' || note.length > 2000)) throw new EvalError(400, 'invalid_note', 'note: at most 2000 characters');
    if (!this.suspended.has(agentId)) {
      throw new EvalError(409, 'not_suspended', `evaluation access of agent ${agentId} is not suspended`);
    }
    const data: EventData<'eval.resumed'> = { agentId, ...(note?.trim() ? { note: note.trim() } : {}) };
    const a = await this.commit('eval.resumed', { kind: 'human', id: human.id }, data);
    this.applyResume(data, human.id, a.seq ?? -1, a.ts ?? this.now().toISOString());
    return this.status(agentId);
  }

  /** Human sets an agent's query budget for a split (absolute number of queries; does not lift a suspension). */
  async setQueryBudget(human: Principal, agentId: string, split: string, queries: number): Promise<void> {
    if (human.kind !== 'human') throw new EvalError(403, 'human_only', 'budgets are set by humans');
    if (!isSplit(split)) throw new EvalError(400, 'unknown_split', `unknown split ${JSON.stringify(split)}`);
    if (!Number.isInteger(queries) || queries < 0) throw new EvalError(400, 'invalid_budget', 'queries must be a non-negative integer');
    if (!DATASET_NAME_RE.test(agentId)) throw new EvalError(400, 'invalid_agent', 'invalid agent id');
    const data: EventData<'eval.budget_set'> = { agentId, split, queries };
    await this.commit('eval.budget_set', { kind: 'human', id: human.id }, data);
    this.applyBudget(data);
  }

  /** Remaining budget per split, probing alerts and best released scores of one agent. */
  status(agentId: string): AgentEvalStatus {
    const budgets = {} as AgentEvalStatus['budgets'];
    for (const split of ['train_label', 'train_unlabel', 'test', 'heldout'] as const) {
      const used = this.used.get(key(agentId, split)) ?? 0;
      const limit = this.budgetLimit(agentId, split);
      budgets[split] = {
        used,
        limit: limit === Infinity ? null : limit,
        remaining: limit === Infinity ? null : Math.max(0, limit - used),
      };
    }
    const probing: AgentEvalStatus['probing'] = [];
    for (const [k, obs] of this.lastObs) {
      const [a, dataset, split] = k.split('\u0000');
      if (a !== agentId) continue;
      const det = this.detectors.get(k);
      probing.push({
        dataset,
        split,
        flagged: this.flagged.has(k),
        frozen: this.suspended.has(agentId),
        nearDuplicates: det?.totalNear ?? 0,
        queries: obs.queries,
      });
    }
    const best: AgentEvalStatus['best'] = [];
    for (const [k, st] of this.ladders) {
      const [a, dataset, split] = k.split('\u0000');
      if (a === agentId && st.best !== null) best.push({ dataset, split, transfer_acc: st.best });
    }
    return { agentId, budgets, probing, best, suspended: this.suspended.get(agentId) ?? null, lastResumed: this.resumed.get(agentId) ?? null };
  }

  /** GET /api/leaderboard. `isApprovedRun` defaults to the service's own view of approvals and dispatches. */
  leaderboard(query: LeaderboardQuery, isApprovedRun?: (experimentId: string) => boolean): LeaderboardResponse {
    let baselines: FixedBaselines | null = null;
    if (query.dataset !== undefined) {
      const ds = this.dataset(query.dataset);
      const pair = findBaselinePair(ds.baselines, query.weak_model, query.strong_model);
      const b = pair?.splits[(query.split ?? 'test') as Split];
      if (pair && b) {
        baselines = {
          weak_model: pair.weak_model,
          strong_model: pair.strong_model,
          weak_acc: b.weak_acc,
          strong_acc: b.strong_acc,
          weak_se: b.weak_se,
          strong_se: b.strong_se,
        };
      }
    }
    return buildLeaderboard({
      records: this.records,
      selfReports: [...this.posts.values()],
      isApprovedRun: isApprovedRun ?? ((id) => this.isApprovedRun(id)),
      seedJobsOf: (id) => this.seedJobs.get(id),
      baselines,
      query,
      minSeeds: this.settings.minSeeds,
    });
  }

  /** All logged evaluation records (projection), e.g. for charts. */
  evalRecords(): readonly EvalRecord[] {
    return this.records;
  }

  /** Dispatched by the hub from exactly the commit a human approved. */
  isApprovedRun(experimentId: string): boolean {
    const a = this.approved.get(experimentId);
    return a !== undefined && this.dispatched.get(experimentId) === a;
  }

  private isApprovedRunFor(experimentId: string, agentId: string): boolean {
    return this.isApprovedRun(experimentId) && this.expAgent.get(experimentId) === agentId;
  }

  private assertNotSuspended(agentId: string): void {
    const s = this.suspended.get(agentId);
    if (!s) return;
    const evidence = s.nearDuplicates === null ? '' : `, ${s.nearDuplicates} near-duplicate submissions`;
    throw new EvalError(
      403,
      'evaluation_suspended',
      `evaluation suspended for agent ${agentId}: probing suspected on ${s.dataset}/${s.split} (alert #${s.seq}${evidence}); ` +
        'every evaluation is refused until a human resumes it',
    );
  }

  private runKey(experimentId: string, runId: string | undefined, dataset: string, split: string): string {
    return key(experimentId, runId ?? '', dataset, split);
  }

  /** The release a run's first evaluation would get (no state change). */
  private runNetRelease(lk: string, acc: number, n: number, predHash: string): { released: number; index: number } {
    const u = keyedUniform(this.secret, key('run', lk, predHash));
    return netRelease(this.runNets.get(lk) ?? [], acc, n, u, this.settings.runRelease);
  }

  private budgetLimit(agentId: string, split: Split): number {
    return this.splitBudget.get(key(agentId, split)) ?? this.agentBudget.get(agentId) ?? this.settings.defaultBudget[split];
  }

  // ------------------------------------------------------------------------------------------------------
  // Projection

  /** Called by the fleet for every ledger event, on load and live. Idempotent for events this service appended. */
  ingest(event: LedgerLike): void {
    const k = key(event.type, event.actor.kind, event.actor.id, canonicalJson(event.data));
    const pending = this.selfApplied.get(k);
    if (pending) {
      if (pending > 1) this.selfApplied.set(k, pending - 1);
      else this.selfApplied.delete(k);
      this.backfillSeq(event);
      return;
    }
    const d = event.data as Record<string, unknown>;
    switch (event.type) {
      case 'agent.registered': {
        const b = d.budget as { evalQueries?: number } | undefined;
        if (typeof b?.evalQueries === 'number') this.agentBudget.set(d.agentId as string, b.evalQueries);
        break;
      }
      case 'budget.set':
        if (typeof d.evalQueries === 'number') this.agentBudget.set(d.agentId as string, d.evalQueries);
        break;
      case 'eval.budget_set':
        this.applyBudget(d as EventData<'eval.budget_set'>);
        break;
      case 'experiment.proposed':
        this.expAgent.set(d.experimentId as string, d.agentId as string);
        break;
      case 'experiment.approved':
        this.approved.set(d.experimentId as string, d.commit as string);
        if (typeof d.seeds === 'number') this.seedJobs.set(d.experimentId as string, d.seeds);
        break;
      case 'experiment.vetoed':
      case 'experiment.changes_requested':
        this.approved.delete(d.experimentId as string);
        break;
      case 'experiment.dispatched':
        this.dispatched.set(d.experimentId as string, d.commit as string);
        break;
      case 'eval.query':
        this.applyQuery(event.actor as Actor, d as EventData<'eval.query'>, event.ts ?? '', event.seq ?? -1);
        break;
      case 'eval.probing_suspected':
        this.applyProbing(d as EventData<'eval.probing_suspected'>, event.seq ?? -1, event.ts ?? '');
        break;
      case 'eval.resumed':
        this.applyResume(d as EventData<'eval.resumed'>, event.actor.id, event.seq ?? -1, event.ts ?? '');
        break;
      case 'eval.final':
        this.finals.push({ seq: event.seq ?? -1, ts: event.ts ?? '', data: d });
        break;
      case 'replication.scored': {
        const rk = key(d.experimentId as string, String(d.index), d.split as string);
        if (d.first === true && !this.replicationScores.has(rk)) {
          const prec = this.settings.runRelease.precision;
          const acc = d.transferAcc as number;
          this.replicationScores.set(rk, { released: prec > 0 ? Math.min(1, Math.max(0, Math.round(acc / prec) * prec)) : acc, predHash: d.predHash as string });
        }
        break;
      }
      case 'forum.posted': {
        const m = (d.metrics ?? {}) as { pgr?: number; transferAcc?: number; numSeeds?: number };
        const cfg = d.config as Record<string, unknown> | undefined;
        this.posts.set(d.postId as string, {
          postId: d.postId as string,
          agentId: event.actor.id,
          title: d.title as string,
          ideaName: d.ideaName as string | undefined,
          runId: d.runId as string | undefined,
          commitId: d.commitId as string | undefined,
          pgr: m.pgr,
          transferAcc: m.transferAcc,
          numSeeds: m.numSeeds,
          dataset: typeof cfg?.dataset === 'string' ? cfg.dataset : undefined,
          seq: event.seq ?? -1,
          ts: event.ts ?? '',
        });
        break;
      }
      case 'forum.verdict': {
        const p = this.posts.get(d.postId as string);
        if (p) p.humanVerdict = d.verdict as string;
        break;
      }
      default:
        break;
    }
  }

  /** Records applied locally carry seq −1 until the ledger echo tells us their sequence number. */
  private backfillSeq(event: LedgerLike): void {
    if (event.type !== 'eval.query' || event.seq === undefined) return;
    const d = event.data as EventData<'eval.query'>;
    for (let i = this.records.length - 1; i >= 0; i--) {
      const r = this.records[i];
      if (r.seq === -1 && r.predHash === d.predHash && r.agentId === d.agentId) {
        r.seq = event.seq;
        if (event.ts) r.ts = event.ts;
        return;
      }
    }
  }

  private applyBudget(d: EventData<'eval.budget_set'>): void {
    this.splitBudget.set(key(d.agentId, d.split), d.queries);
  }

  private applyProbing(d: EventData<'eval.probing_suspected'>, seq: number, ts: string): void {
    const lk = key(d.agentId, d.dataset, d.split);
    this.flagged.add(lk);
    // Alerts written before suspension existed carry no `suspended` and suspended nothing.
    if (d.suspended === true && !this.suspended.has(d.agentId)) {
      const near = (d.evidence as { nearDuplicates?: unknown }).nearDuplicates;
      this.suspended.set(d.agentId, {
        reason: 'probing_suspected',
        dataset: d.dataset,
        split: d.split,
        nearDuplicates: typeof near === 'number' ? near : null,
        seq,
        since: ts,
      });
    }
  }

  private applyResume(d: EventData<'eval.resumed'>, by: string, seq: number, at: string): void {
    this.suspended.delete(d.agentId);
    this.resumed.set(d.agentId, { by, at, seq, ...(d.note ? { note: d.note } : {}) });
    // Fresh detectors and alerts: what the human reviewed is behind; renewed probing is flagged again.
    const prefix = key(d.agentId, '');
    for (const k of [...this.detectors.keys()]) if (k.startsWith(prefix)) this.detectors.delete(k);
    for (const k of [...this.flagged]) if (k.startsWith(prefix)) this.flagged.delete(k);
  }

  private applyQuery(actor: Actor, d: EventData<'eval.query'>, ts: string, seq: number): Observation | undefined {
    const r = d.released as Record<string, unknown>;
    const mode = String(r.mode ?? 'ladder');
    const isAgent = actor.kind === 'agent';
    const transferAcc = typeof r.transfer_acc === 'number' ? r.transfer_acc : NaN;
    this.records.push({
      seq,
      ts,
      agentId: d.agentId,
      actorKind: actor.kind,
      dataset: d.dataset,
      split: d.split,
      weakModel: typeof r.weak_model === 'string' ? r.weak_model : undefined,
      strongModel: typeof r.strong_model === 'string' ? r.strong_model : undefined,
      transferAcc,
      pgr: typeof r.pgr === 'number' ? r.pgr : null,
      mode,
      newBest: r.new_best === true,
      runId: d.runId,
      experimentId: d.experimentId,
      predHash: d.predHash,
      ...(d.job !== undefined ? { job: d.job } : {}),
      ...(d.seed !== undefined ? { seed: d.seed } : {}),
      ...(d.clientRunId !== undefined ? { clientRunId: d.clientRunId } : {}),
    });
    if (!isAgent) return undefined;
    const sk = key(d.agentId, d.split);
    this.used.set(sk, (this.used.get(sk) ?? 0) + 1);
    const lk = key(d.agentId, d.dataset, d.split);
    if (mode === 'ladder' && r.new_best === true && Number.isFinite(transferAcc)) {
      const st = this.ladders.get(lk) ?? { best: null, releases: 0 };
      this.ladders.set(lk, { best: st.best === null ? transferAcc : Math.max(st.best, transferAcc), releases: st.releases + 1 });
    }
    const vec = this.history.get(d.predHash);
    if (mode === 'run' && d.experimentId) {
      const rk = this.runKey(d.experimentId, runIdentity(d.job, d.runId), d.dataset, d.split);
      if (!this.runScores.has(rk) && Number.isFinite(transferAcc)) {
        this.runCounts.set(d.experimentId, (this.runCounts.get(d.experimentId) ?? 0) + 1);
        this.runScores.set(rk, transferAcc);
        this.noteRunPoint(lk, d, transferAcc, vec);
      }
    }
    if (mode === 'exact') return undefined; // train_label: labels are public, nothing to probe.
    if (!vec) {
      this.missingHistory++;
      return undefined;
    }
    let det = this.detectors.get(lk);
    if (!det) {
      det = new ProbeDetector(this.settings.detector);
      this.detectors.set(lk, det);
    }
    const obs = det.observe(vec, d.n);
    this.lastObs.set(lk, obs);
    return obs;
  }

  /** Replays the net decision of a run's first release (deterministic: keyed noise, same points in order). */
  private noteRunPoint(lk: string, d: EventData<'eval.query'>, released: number, vec: Uint32Array | undefined): void {
    const net = this.runNets.get(lk) ?? [];
    this.runNets.set(lk, net);
    let acc = NaN;
    if (vec) {
      try {
        const ds = this.dataset(d.dataset);
        const labels = ds.splits[d.split as Split]?.labels;
        if (labels && labels.length === d.n) acc = packedCorrect(vec, labels, ds.meta.numClasses) / d.n;
      } catch {
        // Dataset gone: fall back to the released value below.
      }
    }
    if (Number.isNaN(acc)) {
      // Without the vector the exact accuracy is unknown: a value not released before becomes a point at it.
      if (!net.some((p) => p.released === released)) net.push({ acc: released, released });
      return;
    }
    if (this.runNetRelease(lk, acc, d.n, d.predHash).index < 0) net.push({ acc, released });
  }

  /** Queries whose prediction vector was not found in the history file (detection blind spots). */
  get historyMisses(): number {
    return this.missingHistory;
  }
}
