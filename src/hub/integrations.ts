// Adapters to modules other engineers own: screening, evaluation and runner dispatch (all static imports, so
// the extension and CLI bundles contain them). The hub only depends on the small interfaces declared here.
// Also the glue between them: job-scoped tokens for dispatched runs and verified scores.
import type { AnyEvent, EventData, EventType, LedgerEvent } from '../core/events';
import { DomainError } from '../core/lifecycle';
import { type Actor, type Experiment, type ScreeningReport, SYSTEM, type TaskMode } from '../core/model';
import type { FleetService } from '../core/service';
import type { Sandbox } from '../git/sandbox';
import { screenProposal } from '../screening/screen';
import type { AiReviewOptions } from '../screening/aiReviewer';
import type { TaskRules } from '../screening/taskRules';
import type { TransferConfig } from '../core/replication';
import { canonicalJson } from '../core/canonical';
import { type EvaluationSettingsOverrides, EvaluationService, type Principal, type RunContext } from '../evaluation/service';
import type { LeaderboardQuery } from '../evaluation/leaderboard';
import { type FleetRunnersConfig, loadRunnersConfig, parseRunnersConfig } from '../runners/config';
import { type Dispatcher, startDispatcher } from '../runners/dispatcher';
import type { TokenScope, TokenStore } from './auth';
import { HttpError } from './errors';

/** The FleetService screening hook: diff base..pinned commit, file contents at the pinned commit. */
export function makeScreenHook(ai?: AiReviewOptions, rules?: TaskRules): (x: Experiment, sb: Sandbox) => Promise<ScreeningReport> {
  return async (x, sb) => {
    const { patch } = await sb.diffInProcess(x.baseCommit, x.commit, 4 * 1024 * 1024);
    return screenProposal({
      diff: patch,
      files: async (p) => (await sb.fileAt(x.commit, p))?.toString('utf8'),
      command: x.command,
      taskMode: x.taskMode,
      title: x.title,
      rationale: x.rationale,
      rules,
      ai,
    });
  };
}

/** What the hub needs from the evaluation service (src/evaluation/service.ts). */
export interface EvaluationLike {
  ingest(e: AnyEvent): void;
  /** `run` comes from a job-scoped token (never from the request body): the result is bound to that seed job. */
  evaluate(actor: Actor, body: Record<string, unknown>, run?: RunContext): Promise<Record<string, unknown>>;
  leaderboard(q: Record<string, unknown>): Record<string, unknown>;
  status(agentIds: string[]): Record<string, unknown>;
  final(actor: Actor, body: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** Human only: lift a probing suspension of an agent's evaluation access (`eval.resumed`); its status after. */
  resume(actor: Actor, agentId: string, note?: string): Promise<Record<string, unknown>>;
  /** A replication job's evaluation: scored on the hidden transfer dataset its visible one maps to. */
  evaluateReplication(actor: Actor, body: Record<string, unknown>, run: RunContext & { experimentId: string; job: number }, datasets: Record<string, string>): Promise<Record<string, unknown>>;
}

export interface EvaluationDeps {
  dataRoot: string;
  labelsRoot: string;
  append: <T extends EventType>(type: T, actor: Actor, data: EventData<T>) => Promise<LedgerEvent<T>>;
  /** fleet.json's `evaluation` section (src/evaluation/config.ts). */
  settings?: EvaluationSettingsOverrides;
  /** Where the hidden transfer datasets and their labels are (`<fleet>/transfer`). */
  transferDataRoot?: string;
  transferLabelsRoot?: string;
}

function principal(actor: Actor): Principal {
  if (actor.kind === 'system') throw new HttpError(403, 'forbidden', 'system principals do not evaluate');
  return { kind: actor.kind, id: actor.id };
}

/** Construct the EvaluationService (labels stay under <fleet>/labels, outside every sandbox). */
export function makeEvaluation(deps: EvaluationDeps): EvaluationLike {
  const svc = new EvaluationService({ dataRoot: deps.dataRoot, labelsRoot: deps.labelsRoot, append: deps.append, settings: deps.settings, transferDataRoot: deps.transferDataRoot, transferLabelsRoot: deps.transferLabelsRoot });
  return {
    ingest: (e) => svc.ingest(e),
    evaluate: async (actor, body, run) => ({ ...(await svc.evaluate(principal(actor), body, run ? { experimentId: run.experimentId, runId: run.runId, job: run.job, seed: run.seed } : {})) }),
    evaluateReplication: async (actor, body, run, datasets) => ({ ...(await svc.evaluateReplication(principal(actor), body, run, datasets)) }),
    leaderboard: (q) => ({ ...svc.leaderboard(q as LeaderboardQuery) }),
    status: (agentIds) => ({ agents: agentIds.map((a) => svc.status(a)) }),
    resume: async (actor, agentId, note) => ({ ...(await svc.resumeEvaluation(principal(actor), agentId, note)) }),
    final: async (actor, b) =>
      ({
        ...(await svc.finalEvaluation(principal(actor), {
          dataset: String(b.dataset),
          predictions: b.predictions,
          split: b.split as string | undefined,
          weak_model: b.weak_model as string | undefined,
          strong_model: b.strong_model as string | undefined,
          experimentId: b.experiment_id as string | undefined,
        })),
      }),
  };
}

export interface DispatcherHandle {
  stop(): Promise<void> | void;
}

/** The runner configuration for a hub that dispatches: fleet.json's `runners`/`dispatch`; a fleet that declares
 * no runners (createFleet writes `runners: []`) gets the default single local runner. Throws RunnerConfigError. */
export function hubRunnersConfig(fleetDir: string): FleetRunnersConfig {
  const cfg = loadRunnersConfig(fleetDir);
  if (cfg.runners.length) return cfg;
  return { ...cfg, runners: parseRunnersConfig({}).runners };
}

export interface HubDispatcherOptions {
  config: FleetRunnersConfig;
  fleetDir: string;
  /** The hub's URL (OVERSEER_EVAL_URL of every job). */
  evalUrl: string;
  /** Mints the token of one seed job (held by the run's proxy). */
  tokenFor: (x: Experiment, job: { index: number; seed: number }) => string;
  onWarning?: (msg: string) => void;
  /** fleet.json's task mode: confines every run whatever its proposal declares. */
  fleetTaskMode?: TaskMode;
  /** Reproducible seeds (tests only; see DispatcherOptions.chooseSeed). */
  chooseSeed?: (x: Experiment, index: number) => number;
  /** The fleet's hidden transfer task and the tokens of its replication jobs. */
  transfer?: TransferConfig;
  replicationTokenFor?: (x: Experiment, job: { index: number; seed: number }) => string;
}

/** Record the fleet's replication setting (fleet.json `tasks.<name>.transfer`) when it differs from the recorded one:
 * experiments approved after it must replicate to be verified. */
export async function recordReplicationSetting(service: FleetService, transfer: TransferConfig | undefined): Promise<void> {
  const cur = service.state.replication;
  const want = transfer
    ? { enabled: true, datasets: { ...transfer.datasets }, ...(transfer.seeds !== undefined ? { seeds: transfer.seeds } : {}), goldLabels: transfer.protocol.goldLabels, tolerance: transfer.tolerance, release: transfer.release }
    : { enabled: false };
  if (!cur && !transfer) return;
  if (cur) {
    const have = cur.enabled ? { enabled: true, datasets: cur.datasets, ...(cur.seeds !== undefined ? { seeds: cur.seeds } : {}), goldLabels: cur.goldLabels, tolerance: cur.tolerance, release: cur.release } : { enabled: false };
    if (canonicalJson(have) === canonicalJson(want)) return;
  }
  await service.append('replication.configured', SYSTEM, want);
}

/** Start the runner dispatcher (after the hub listens: jobs are given its URL). */
export function startHubDispatcher(service: FleetService, o: HubDispatcherOptions): Dispatcher {
  return startDispatcher(service, o.config, {
    fleetDir: o.fleetDir,
    evalUrl: o.evalUrl,
    tokenFor: o.tokenFor,
    chooseSeed: o.chooseSeed,
    onWarning: o.onWarning ? (m) => o.onWarning!(`dispatcher: ${m}`) : undefined,
    fleetTaskMode: o.fleetTaskMode,
    transfer: o.transfer,
    replicationTokenFor: o.replicationTokenFor,
  });
}

// ---------------------------------------------------------------- job tokens and verified scores

/** States in which an experiment's job token may still be needed (approved: dispatch in progress). */
const LIVE_RUN_STATES = new Set(['approved', 'dispatched', 'running']);

interface RunEval {
  seq: number;
  dataset: string;
  split: string;
  transferAcc: number;
  pgr: number | null;
  runId?: string;
}

/**
 * Job tokens and scores, driven by ledger events:
 * - `tokenFor(x, job)` mints a token for x's agent scoped to (x, seed job) (hashed in tokens.json like every
 *   token); a seed job's token is revoked when that job finishes, all of x's when x finishes (or is
 *   vetoed/scored), and at start for experiments no longer running, so a restarted hub keeps honouring the
 *   tokens of jobs it reattaches to, and nothing else.
 * - the last run-bound (verified) evaluation of each experiment is remembered; when the experiment has
 *   succeeded, `experiment.scored` is recorded with it (whichever of the two comes last triggers it).
 */
export class RunIntegration {
  private readonly lastEval = new Map<string, RunEval>();
  /** Per experiment, the last verified evaluation of each run id (seeds). */
  private readonly seeds = new Map<string, Map<string, RunEval>>();
  private readonly scoring = new Set<string>();
  private readonly pending = new Set<Promise<unknown>>();
  private off?: () => void;
  private closed = false;

  constructor(
    private readonly service: FleetService,
    private readonly tokens: TokenStore,
    private readonly opts: {
      evaluation?: EvaluationLike;
      onTokenCreated?: () => void;
      warn: (msg: string) => void;
    },
  ) {}

  /** Subscribe, then replay the ledger (an event seen twice is harmless: both steps are idempotent). */
  async start(history?: readonly AnyEvent[]): Promise<void> {
    this.off = this.service.onEvent((e) => this.onEvent(e));
    for (const e of history ?? (await this.service.ledger.readAfter(0))) if (e.type === 'eval.query') this.noteEval(e);
    // Tokens of runs that ended while no hub was listening (or before a crash let us revoke them).
    const stale = new Set<string>();
    const staleReplication: [string, number][] = [];
    for (const t of this.tokens.records()) {
      if (!t.scope || t.revoked) continue;
      const x = this.service.state.experiment(t.scope.experimentId);
      if (t.scope.replication) {
        // a replication job's token lives until that job ends (its experiment finished long before)
        const rec = x?.replication?.records.find((j) => j.index === t.scope!.job);
        if (!rec || rec.endState) staleReplication.push([t.scope.experimentId, t.scope.job ?? 0]);
        continue;
      }
      if (!x || !LIVE_RUN_STATES.has(x.state)) stale.add(t.scope.experimentId);
    }
    for (const id of stale) this.revoke(id, undefined, 'seed');
    for (const [id, job] of staleReplication) this.revoke(id, job, 'replication');
    for (const x of this.service.state.experiments.values()) if (x.state === 'succeeded') this.maybeScore(x.id);
  }

  tokenFor = (x: Experiment, job?: { index: number; seed: number }): string => {
    if (this.closed) throw new Error('hub is closing');
    const { token } = this.tokens.create({ kind: 'agent', id: x.agentId }, { experimentId: x.id, ...(job ? { job: job.index } : {}) });
    this.opts.onTokenCreated?.();
    return token;
  };

  /** A token for replication job `job.index` of x: the agent's identity, scoped to that job, marked replication
   * (the hub scores it on the hidden transfer labels; nothing the job sees says so). */
  replicationTokenFor = (x: Experiment, job: { index: number; seed: number }): string => {
    if (this.closed) throw new Error('hub is closing');
    const { token } = this.tokens.create({ kind: 'agent', id: x.agentId }, { experimentId: x.id, job: job.index, replication: true });
    this.opts.onTokenCreated?.();
    return token;
  };

  /** The run context of a replication job's token: the replication job the token names, while it runs. */
  replicationContext(actor: Actor, scope: TokenScope): RunContext & { experimentId: string; runId: string; job: number; replication: true } {
    const x = this.service.state.experiment(scope.experimentId);
    const index = scope.job ?? 0;
    const deny = (why: string) => new HttpError(403, 'run_not_active', `this token belongs to the run of experiment ${scope.experimentId}, which ${why}`);
    if (!x) throw deny('does not exist');
    if (actor.kind !== 'agent' || x.agentId !== actor.id) throw deny(`is not ${actor.kind} ${actor.id}'s`);
    const j = x.replication?.records.find((q) => q.index === index);
    if (!j || j.endState) throw deny(`has finished its seed job ${index}`);
    return { experimentId: x.id, runId: j.jobId, job: index, seed: j.seed, replication: true };
  }

  /**
   * The run context of a job token's evaluation: the seed job the token names, never anything the request says.
   * Waits (briefly) for the job's dispatch to be recorded, since the job can start before the dispatcher has
   * written `run.job_dispatched`.
   */
  async runContext(actor: Actor, scope: string | TokenScope, timeoutMs = 15_000): Promise<RunContext & { experimentId: string; runId: string; job: number }> {
    const { experimentId, job } = typeof scope === 'string' ? { experimentId: scope, job: undefined } : scope;
    const index = job ?? 0;
    const deny = (why: string) => new HttpError(403, 'run_not_active', `this token belongs to the run of experiment ${experimentId}, which ${why}`);
    const recorded = (x: Experiment | undefined) => !!x && x.state !== 'approved' && (job === undefined || !!x.run?.jobs?.some((j) => j.index === index && j.jobId));
    let x = this.service.state.experiment(experimentId);
    if (x && (x.state === 'approved' || ((x.state === 'dispatched' || x.state === 'running') && !recorded(x)))) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, timeoutMs);
        const off = this.service.onEvent((e) => {
          if ((e.data as { experimentId?: unknown }).experimentId === experimentId && (recorded(this.service.state.experiment(experimentId)) || e.type === 'experiment.finished' || e.type === 'experiment.vetoed')) setImmediate(done);
        });
        function done() {
          clearTimeout(timer);
          off();
          resolve();
        }
      });
      x = this.service.state.experiment(experimentId);
    }
    if (!x) throw deny('does not exist');
    if (actor.kind !== 'agent' || x.agentId !== actor.id) throw deny(`is not ${actor.kind} ${actor.id}'s`);
    if ((x.state !== 'dispatched' && x.state !== 'running') || !x.run) throw deny(`is ${x.state}, not running`);
    if (job === undefined && x.seedJobs === undefined && !x.run.jobs?.length) return { experimentId, runId: x.run.jobId, job: 0 }; // one job, dispatched before seed jobs
    const j = x.run.jobs?.find((q) => q.index === index && q.jobId);
    if (!j) throw deny(`has no recorded seed job ${index}`);
    if (j.endState) throw deny(`has finished its seed job ${index}`);
    return { experimentId, runId: j.jobId, job: index, ...(j.seed !== undefined ? { seed: j.seed } : {}) };
  }

  /** Resolves when every score/revocation started so far has settled. */
  async idle(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.off?.();
    await this.idle();
  }

  private onEvent(e: AnyEvent): void {
    switch (e.type) {
      case 'eval.query':
        if (this.noteEval(e)) {
          const x = this.service.state.experiment(e.data.experimentId!);
          if (x?.state === 'succeeded') this.maybeScore(x.id);
        }
        break;
      case 'run.job_finished':
        this.revoke(e.data.experimentId, e.data.index, 'seed');
        break;
      case 'replication.job_finished':
        this.revoke(e.data.experimentId, e.data.index, 'replication');
        break;
      case 'experiment.finished':
        this.revoke(e.data.experimentId, undefined, 'seed');
        if (e.data.state === 'succeeded') this.maybeScore(e.data.experimentId);
        break;
      case 'experiment.vetoed':
      case 'experiment.changes_requested':
      case 'experiment.scored':
        this.revoke(e.data.experimentId, undefined, 'seed');
        break;
      default:
        break;
    }
  }

  /** Remember a run-bound evaluation; true when it was one. */
  private noteEval(e: LedgerEvent<'eval.query'>): boolean {
    const d = e.data;
    const r = d.released as Record<string, unknown>;
    if (!d.experimentId || r.mode !== 'run' || typeof r.transfer_acc !== 'number') return false;
    const ev: RunEval = {
      seq: e.seq,
      dataset: d.dataset,
      split: d.split,
      transferAcc: r.transfer_acc,
      pgr: typeof r.pgr === 'number' ? r.pgr : null,
      runId: d.runId,
    };
    this.lastEval.set(d.experimentId, ev);
    let m = this.seeds.get(d.experimentId);
    if (!m) this.seeds.set(d.experimentId, (m = new Map()));
    m.set(d.job !== undefined ? `#job${d.job}` : (d.runId ?? `#${e.seq}`), ev);
    return true;
  }

  private track(p: Promise<unknown>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  private revoke(experimentId: string, job?: number, kind: 'seed' | 'replication' | 'any' = 'any'): void {
    try {
      this.tokens.revokeScope(experimentId, job, kind);
    } catch (err) {
      this.opts.warn(`revoking the job token of ${experimentId} failed: ${(err as Error).message}`);
    }
  }

  private maybeScore(experimentId: string): void {
    const ev = this.lastEval.get(experimentId);
    const x = this.service.state.experiment(experimentId);
    if (!ev || !x || x.state !== 'succeeded' || this.scoring.has(experimentId)) return;
    this.scoring.add(experimentId);
    const seeds = [...(this.seeds.get(experimentId)?.values() ?? [])].filter((s) => s.dataset === ev.dataset && s.split === ev.split);
    const extra: Record<string, unknown> = { source: 'verified_eval', numSeeds: seeds.length, evalSeqs: seeds.map((s) => s.seq), seedPgrs: seeds.map((s) => s.pgr) };
    if (ev.runId) extra.runId = ev.runId;
    const entry = this.leaderboardEntry(experimentId, ev);
    // A run that scored several seeds is scored by their mean (the leaderboard entry), not by its last seed.
    const transferAcc = typeof entry?.transfer_acc === 'number' ? entry.transfer_acc : ev.transferAcc;
    const pgr = typeof entry?.pgr === 'number' ? entry.pgr : ev.pgr;
    if (entry) {
      if (Array.isArray(entry.transfer_acc_ci)) extra.transferAccCi = entry.transfer_acc_ci;
      if (Array.isArray(entry.pgr_ci)) extra.pgrCi = entry.pgr_ci;
      if (typeof entry.num_seeds === 'number') extra.numSeeds = entry.num_seeds;
      if (typeof entry.duplicate_seeds === 'number' && entry.duplicate_seeds > 0) extra.duplicateSeeds = entry.duplicate_seeds;
      if (typeof entry.resubmitted_vectors === 'number' && entry.resubmitted_vectors > 0) extra.resubmittedVectors = entry.resubmitted_vectors;
      if (typeof entry.duplicate_seeds === 'number') extra.duplicateSeeds = entry.duplicate_seeds;
      if (typeof entry.seed_jobs === 'number') extra.seedJobs = entry.seed_jobs;
      if (typeof entry.seed_jobs_evaluated === 'number') extra.seedJobsEvaluated = entry.seed_jobs_evaluated;
      // a seed job the approval fixed did not evaluate: the score is recorded, but never verified
      if (entry.status === 'incomplete') {
        extra.incomplete = true;
        if (typeof entry.unverified_reason === 'string') extra.incompleteReason = entry.unverified_reason;
      }
    }
    const p = this.service
      .recordScore(SYSTEM, experimentId, { dataset: ev.dataset, split: ev.split, transferAcc, pgr, evalSeq: ev.seq, extra })
      .catch((err) => {
        this.scoring.delete(experimentId);
        if (err instanceof DomainError && this.service.state.experiment(experimentId)?.state !== 'succeeded') return; // scored meanwhile
        this.opts.warn(`recording the score of ${experimentId} failed: ${(err as Error).message}`);
      });
    this.track(p);
  }

  private leaderboardEntry(experimentId: string, ev: RunEval): Record<string, unknown> | undefined {
    if (!this.opts.evaluation) return undefined;
    try {
      const lb = this.opts.evaluation.leaderboard({ dataset: ev.dataset, split: ev.split }) as { experiments?: Record<string, unknown>[] };
      return lb.experiments?.find((e) => e.experiment_id === experimentId && e.source === 'verified_eval' && (e.verified === true || e.status === 'incomplete'));
    } catch {
      return undefined;
    }
  }
}
