// Dispatcher: takes approved experiments in approval order and runs exactly the approved commit on a runner,
// within per-agent, fleet and runner (slots + GPUs) limits. Every transition goes through FleetService into the
// ledger (dispatched → running → finished); cancel requests are honoured; after a restart it reattaches to jobs
// recorded in the ledger (and to jobs submitted just before a crash, from the run directory), so no job is lost
// or started twice. No vscode import.
//
// Design: seeds belong to the hub (issue 22).
// - An approval fixes N seed jobs (`experiment.approved.seeds`: the human's number, else the proposal's `seeds`,
//   else fleet.json `seeds`, else 3; 1..20). GPU-hours charged = N × the per-seed estimate. Approvals recorded
//   before seed jobs existed carry no number: one job, exactly as before.
// - Each seed is its own confined job: seed job k runs in its own run directory (`runs/<exp>` for k = 0, the
//   layout of one-job experiments, so their logs, run reports and reattachment stay where they were;
//   `runs/<exp>+seed-<k>` for k ≥ 1 — siblings, because confinement hides the fleet directory two levels above
//   a run directory and `+` can never occur in an experiment id), its own worktree of the approved commit, its
//   own job token scoped to (experiment, k), and OVERSEER_SEED / `{seed}` in the approved command set to its seed.
// - The hub chooses the seed values when it dispatches a job (crypto.randomInt, distinct within the experiment),
//   never earlier, so the agent cannot know them before the run: the value is written to the job's intent file
//   (`dispatch.json`, outside every sandbox) before submission and recorded in the ledger with the job
//   (`run.job_dispatched {index, seed, jobId}`); a job adopted after a crash keeps the seed of its intent file.
// - A seed job is a job for every limit (runner slots and GPUs, per-agent and fleet concurrency); the seed jobs
//   of an experiment queue in index order, older approvals first.
// - Lifecycle at the experiment level is unchanged: the first submitted seed job records `experiment.dispatched`
//   (with `run.job_dispatched`, one group commit), the first started one `experiment.running`; each job records
//   `run.job_started`, `run.report` (with its index) and `run.job_finished`; when every seed job has ended the
//   experiment records `experiment.finished`: succeeded only if all did, otherwise the worst state
//   (failed > timed_out > cancelled > succeeded). A cancel request cancels every submitted seed job and records
//   the not yet submitted ones as cancelled before they started.
// - Restart: every experiment the ledger shows dispatched or running is reattached job by job: recorded
//   unfinished jobs are adopted, recorded finished ones are left alone, unrecorded ones are dispatched, which
//   first looks for the intent file of a submission the ledger missed. A job is never submitted twice: the
//   intent file is written before submission and a recorded job is never dispatched again (markJobDispatched
//   refuses a second record of an index).
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AnyEvent } from '../core/events';
import { DomainError } from '../core/lifecycle';
import type { Experiment, RunEndState, TaskMode } from '../core/model';
import { SYSTEM, effectiveTaskMode } from '../core/model';
import type { FleetService } from '../core/service';
import type { FleetRunnersConfig, RunnerConfig } from './config';
import { type JobSandbox, SandboxError, findBwrap, noBwrapMessage } from './confine';
import { buildJobEnv, substituteSeed } from './env';
import { createRunner, defaultPollMs } from './factory';
import { writeFileDurable } from './local';
import { LOG_FILE } from './logs';
import { buildRunReport, formatRunReport } from './runReport';
import type { JobRef, JobStatus, Runner } from './types';
import { isTerminalPhase } from './types';
import { WorktreeError, prepareWorktree } from './worktree';
import { type TransferConfig, replicationJobsFor } from '../core/replication';
import { TransferViewError, buildTransferView } from './transferView';

export interface DispatcherOptions {
  /** Fleet directory (default: service.dir); run directories are `<fleetDir>/runs/<experimentId>` (seed job 0)
   * and `<fleetDir>/runs/<experimentId>+seed-<k>` (seed job k ≥ 1). */
  fleetDir?: string;
  /** Use these runner instances instead of constructing them from the config (matched by name). */
  runners?: Runner[];
  /** OVERSEER_EVAL_URL given to jobs. */
  evalUrl?: string;
  /** A token scoped to one seed job (e.g. minted by the hub for the experiment's agent), held by the run's proxy. */
  tokenFor?: (x: Experiment, job: { index: number; seed: number }) => string | undefined | Promise<string | undefined>;
  /** Override the time limit (seconds); default timeLimitMinutes * 60. For tests. */
  timeLimitSeconds?: (x: Experiment) => number;
  /** Status polling period (default: the smallest runner pollMs). */
  pollMs?: number;
  /** A job the runner does not know for this long is declared lost (runner.lost + failed). Default 120 s. */
  lostAfterMs?: number;
  /** Submission attempts before an approved experiment is failed (transient runner errors). Default 3. */
  maxSubmitAttempts?: number;
  /** Delay before retry n is n times this (default 2000 ms). */
  retryBackoffMs?: number;
  localKillGraceSeconds?: number;
  onWarning?: (msg: string) => void;
  /** The fleet's task mode (fleet.json `tasks`): it confines every run, whatever a proposal declares. */
  fleetTaskMode?: TaskMode;
  /** Reproducible seed values instead of crypto-random ones, for tests and benchmarks that compare runs at fixed
   * seeds (never set by the CLI or the extension). Still recorded in the ledger like any seed. */
  chooseSeed?: (x: Experiment, index: number) => number;
  /** The fleet's hidden transfer task (fleet.json `tasks.<name>.transfer`): replication jobs are run when set. */
  transfer?: TransferConfig;
  /** A token for replication job `index` of x (scoped to it; the evaluation scores it on the hidden labels). */
  replicationTokenFor?: (x: Experiment, job: { index: number; seed: number }) => string | undefined | Promise<string | undefined>;
}

export interface Dispatcher {
  stop(): Promise<void>;
  /** Check all active jobs now and dispatch what fits (tests, benchmarks). */
  poke(): Promise<void>;
  /** Experiments this dispatcher currently tracks (preparing, queued on a runner, or running). */
  active(): string[];
  runner(name: string): Runner | undefined;
}

interface Active {
  /** `<experimentId>#<index>` (seed jobs) or `<experimentId>#r<index>` (replication jobs). */
  key: string;
  /** A seed job of the experiment, or one of its replication jobs on the hidden transfer task. */
  kind: 'seed' | 'replication';
  experimentId: string;
  /** The seed job's index (0..N-1). */
  index: number;
  /** The hub's seed value for the job (set when it is chosen or read back from the intent file). */
  seed?: number;
  agentId: string;
  runner: Runner | undefined;
  runnerName: string;
  gpus: number;
  ref?: JobRef;
  phase: 'preparing' | 'submitted';
  unknownSince?: number;
  checking?: boolean;
  finishing?: boolean;
  cancelling?: boolean;
}

const INTENT_FILE = 'dispatch.json';
const NOT_STARTED = 'not-started';
const SEED_MAX = 2 ** 31;

/** One claim set per FleetService: two dispatchers in one process can never both dispatch an experiment. */
const claimSets = new WeakMap<FleetService, Set<string>>();

const jobKey = (experimentId: string, index: number) => `${experimentId}#${index}`;
const repKey = (experimentId: string, index: number) => `${experimentId}#r${index}`;

/** The run directory of replication job `index`: the seed-job layout under `<fleet>/jobs` (a name that says nothing
 * of what they are: a bind mount's source shows in the job's /proc/self/mountinfo), mounted at the seed job's path
 * (confine.ts `mountRunDirAt`), so the job's paths are a seed job's. */
export const REPLICATION_DIR = 'jobs';
export function replicationJobDir(fleetDir: string, experimentId: string, index: number): string {
  return path.join(fleetDir, REPLICATION_DIR, index === 0 ? experimentId : `${experimentId}+seed-${index}`);
}

/** The run directory of seed job `index` (job 0 keeps the one-job layout). */
export function seedJobDir(fleetDir: string, experimentId: string, index: number): string {
  return path.join(fleetDir, 'runs', index === 0 ? experimentId : `${experimentId}+seed-${index}`);
}

function readIntent(runDir: string): { runner: string; jobId?: string; seed?: number } | undefined {
  try {
    const v = JSON.parse(fs.readFileSync(path.join(runDir, INTENT_FILE), 'utf8')) as { runner?: unknown; jobId?: unknown; seed?: unknown };
    if (typeof v.runner !== 'string') return undefined;
    const seed = typeof v.seed === 'number' && Number.isInteger(v.seed) && v.seed >= 0 && v.seed < SEED_MAX ? v.seed : undefined;
    return { runner: v.runner, jobId: typeof v.jobId === 'string' ? v.jobId : undefined, seed };
  } catch {
    return undefined;
  }
}

export function startDispatcher(service: FleetService, config: FleetRunnersConfig, opts: DispatcherOptions = {}): Dispatcher {
  const d = new DispatcherImpl(service, config, opts);
  d.start();
  return d;
}

class DispatcherImpl implements Dispatcher {
  private readonly fleetDir: string;
  private readonly runners = new Map<string, { runner: Runner; cfg: RunnerConfig }>();
  /** Seed jobs being prepared, queued on a runner or running, by `jobKey`. */
  private readonly activeJobs = new Map<string, Active>();
  private readonly claims: Set<string>;
  /** Experiments whose seed jobs this dispatcher runs (claimed, or reattached after a restart). */
  private readonly owned = new Set<string>();
  /** Experiments with a cancel request since their dispatch. */
  private readonly cancelled = new Set<string>();
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly retryAt = new Map<string, { at: number; attempts: number }>();
  private readonly warnedUnfit = new Set<string>();
  private readonly unsubscribe: Array<() => void> = [];
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private pumping = false;
  private pumpAgain = false;
  private readonly pollMs: number;
  private readonly lostAfterMs: number;
  private readonly warn: (m: string) => void;

  constructor(
    private readonly service: FleetService,
    private readonly config: FleetRunnersConfig,
    private readonly opts: DispatcherOptions,
  ) {
    this.fleetDir = opts.fleetDir ?? service.dir;
    let set = claimSets.get(service);
    if (!set) claimSets.set(service, (set = new Set()));
    this.claims = set;
    const given = new Map((opts.runners ?? []).map((r) => [r.name, r]));
    for (const cfg of config.runners) {
      this.runners.set(cfg.name, { cfg, runner: given.get(cfg.name) ?? createRunner(cfg, { localKillGraceSeconds: opts.localKillGraceSeconds }) });
    }
    this.pollMs = opts.pollMs ?? Math.min(2000, ...config.runners.map(defaultPollMs));
    this.lostAfterMs = opts.lostAfterMs ?? 120_000;
    this.warn = opts.onWarning ?? ((m) => process.emitWarning(`dispatcher: ${m}`));
  }

  runner(name: string): Runner | undefined {
    return this.runners.get(name)?.runner;
  }

  active(): string[] {
    const ids = new Set([...this.activeJobs.values()].map((a) => a.experimentId));
    for (const id of this.owned) {
      const st = this.service.state.experiment(id)?.state;
      if (st === 'dispatched' || st === 'running') ids.add(id);
    }
    return [...ids];
  }

  start(): void {
    this.unsubscribe.push(this.service.onEvent((e) => this.onEvent(e)));
    for (const { runner } of this.runners.values()) {
      if (runner.onChange) this.unsubscribe.push(runner.onChange(() => this.track(this.checkAll())));
    }
    this.track(this.recordSandboxModes());
    this.reattach();
    this.schedule();
    this.pump();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const u of this.unsubscribe) u();
    if (this.timer) clearTimeout(this.timer);
    while (this.inflight.size) await Promise.allSettled([...this.inflight]);
    for (const { runner } of this.runners.values()) await runner.close?.().catch(() => undefined);
  }

  async poke(): Promise<void> {
    await this.checkAll();
    this.pump();
    while (this.inflight.size) await Promise.allSettled([...this.inflight]);
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inflight.add(p);
    void p.then(
      () => this.inflight.delete(p),
      (err) => {
        this.inflight.delete(p);
        this.warn(`internal error: ${(err as Error).stack ?? err}`);
      },
    );
    return p;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.track(this.checkAll()).finally(() => {
        this.pump();
        this.schedule();
      });
    }, this.pollMs);
  }

  private refFor(x: Experiment, index: number, jobId: string, logPath?: string): JobRef {
    const runDir = seedJobDir(this.fleetDir, x.id, index);
    return { jobId, runDir, workdir: path.join(runDir, 'wt'), logPath: logPath ?? path.join(runDir, LOG_FILE) };
  }

  private label(a: Active): string {
    const n = this.service.state.experiment(a.experimentId)?.seedJobs ?? 1;
    return n > 1 || a.index > 0 ? `${a.experimentId} seed job ${a.index}` : a.experimentId;
  }

  // ------------------------------------------------------------------ events

  private onEvent(e: AnyEvent): void {
    if (this.stopped) return;
    switch (e.type) {
      case 'experiment.cancel_requested': {
        const id = e.data.experimentId;
        if (!this.owned.has(id)) break;
        this.cancelled.add(id);
        for (const a of this.activeJobs.values()) if (a.experimentId === id && a.phase === 'submitted') this.track(this.cancel(a));
        this.pump(); // seed jobs not yet submitted are recorded as cancelled
        break;
      }
      case 'experiment.finished':
        this.owned.delete(e.data.experimentId);
        this.cancelled.delete(e.data.experimentId);
        this.pump();
        break;
      case 'experiment.approved':
      case 'experiment.vetoed':
      case 'run.job_finished':
      case 'experiment.scored':
      case 'experiment.result_accepted':
      case 'replication.raised':
      case 'replication.job_finished':
      case 'agent.resumed':
      case 'budget.set':
        this.pump();
        break;
      default:
        break;
    }
  }

  // ------------------------------------------------------------------ recovery

  /** Adopt every seed job the ledger says is dispatched and not finished, for every dispatched or running
   * experiment; the experiment's unrecorded seed jobs are left to the pump (which adopts a job submitted just
   * before a crash from its intent file). */
  private reattach(): void {
    for (const x of this.service.state.experiments.values()) {
      if ((x.state !== 'dispatched' && x.state !== 'running') || !x.run) continue;
      if (this.claims.has(x.id) && !this.owned.has(x.id)) continue; // another dispatcher on this service has it
      this.claims.add(x.id);
      this.owned.add(x.id);
      const lastDispatch = [...x.history].reverse().find((h) => h.type === 'experiment.dispatched');
      if (x.history.some((h) => h.type === 'experiment.cancel_requested' && h.seq > (lastDispatch?.seq ?? 0))) this.cancelled.add(x.id);
      const legacy = x.seedJobs === undefined && !x.run.jobs?.length;
      const recorded = legacy
        ? [{ index: 0, runner: x.run.runner, jobId: x.run.jobId, logPath: x.run.logPath, endState: undefined as string | undefined, seed: undefined as number | undefined }]
        : (x.run.jobs ?? []).filter((j) => j.jobId && !j.endState);
      for (const j of recorded) {
        const entry = this.runners.get(j.runner);
        const a: Active = {
          key: jobKey(x.id, j.index),
          kind: 'seed',
          experimentId: x.id,
          index: j.index,
          seed: j.seed,
          agentId: x.agentId,
          runner: entry?.runner,
          runnerName: j.runner,
          gpus: x.resources.gpus,
          ref: this.refFor(x, j.index, j.jobId, j.logPath),
          phase: 'submitted',
        };
        this.activeJobs.set(a.key, a);
        if (!entry) this.warn(`${this.label(a)} ran on runner ${j.runner}, which is no longer configured`);
        else if (j.jobId === NOT_STARTED) this.track(this.finish(a, { phase: 'failed', reason: 'dispatch failed before the job started' }));
        else {
          entry.runner.adopt?.(a.ref!);
          if (this.cancelled.has(x.id)) this.track(this.cancel(a));
        }
      }
      // every seed job ended, but the experiment's finish was not recorded before a crash
      const fin = this.service.finishIfAllEnded(x.id);
      if (fin) this.track(fin);
    }
    // replication jobs recorded and not finished
    for (const x of this.service.state.experiments.values()) {
      for (const j of x.replication?.records ?? []) {
        if (j.endState) continue;
        const entry = this.runners.get(j.runner);
        const runDir = replicationJobDir(this.fleetDir, x.id, j.index);
        const a: Active = { key: repKey(x.id, j.index), kind: 'replication', experimentId: x.id, index: j.index, seed: j.seed, agentId: x.agentId, runner: entry?.runner, runnerName: j.runner, gpus: x.resources.gpus, ref: { jobId: j.jobId, runDir, workdir: path.join(runDir, 'wt'), logPath: path.join(runDir, LOG_FILE) }, phase: 'submitted' };
        this.activeJobs.set(a.key, a);
        if (!entry) this.warn(`replication job ${j.index} of ${x.id} ran on runner ${j.runner}, which is no longer configured`);
        else if (j.jobId === NOT_STARTED) this.track(this.finishReplication(a, { phase: 'failed', reason: 'dispatch failed before the job started' }));
        else entry.runner.adopt?.(a.ref!);
      }
    }
  }

  // ------------------------------------------------------------------ scheduling

  private countBy(pred: (a: Active) => boolean): number {
    let n = 0;
    for (const a of this.activeJobs.values()) if (pred(a)) n++;
    return n;
  }

  private pickRunner(gpus: number): Runner | undefined {
    for (const { runner, cfg } of this.runners.values()) {
      if (gpus > cfg.gpus) continue;
      const mine = [...this.activeJobs.values()].filter((a) => a.runnerName === cfg.name);
      if (mine.length >= cfg.maxConcurrent) continue;
      const used = mine.reduce((s, a) => s + a.gpus, 0);
      if (used + gpus > cfg.gpus) continue;
      return runner;
    }
    return undefined;
  }

  /** Dispatch seed jobs (oldest approval first, then by index) while limits allow. Re-entrant calls coalesce. */
  private pump(): void {
    if (this.stopped) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        this.pumpOnce();
      } while (this.pumpAgain && !this.stopped);
    } finally {
      this.pumping = false;
    }
  }

  /** Seed job indices of x that are neither recorded in the ledger nor being handled here. */
  private pendingJobs(x: Experiment): number[] {
    const n = x.seedJobs ?? 1;
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      if (this.activeJobs.has(jobKey(x.id, i))) continue;
      if (x.run?.jobs?.some((j) => j.index === i && (j.jobId || j.endState))) continue;
      out.push(i);
    }
    return out;
  }

  private pumpOnce(): void {
    const reps = this.replicationCandidates();
    this.pumpReplication(reps.filter((x) => x.replication?.raised));
    this.pumpSeedJobs();
    this.pumpReplication(reps.filter((x) => !x.replication?.raised));
  }

  /** Experiments whose replication jobs are due: required, their seed jobs clean, not all replication jobs recorded. */
  private replicationCandidates(): Experiment[] {
    if (!this.opts.transfer) return [];
    const st = this.service.state;
    const out: Experiment[] = [];
    for (const x of st.experiments.values()) {
      if (x.state !== 'scored' || !st.replicationRequired(x)) continue;
      const base = st.baseVerification(x).status;
      if (base !== 'verified' && base !== 'awaiting_acceptance') continue;
      if (this.pendingReplication(x).length) out.push(x);
    }
    return out.sort((a, b) => (a.verdict?.seq ?? 0) - (b.verdict?.seq ?? 0));
  }

  private pendingReplication(x: Experiment): number[] {
    const m = x.replication?.jobs || x.replicationJobs || replicationJobsFor(this.opts.transfer ?? {}, x.seedJobs);
    const out: number[] = [];
    for (let i = 0; i < m; i++) {
      if (this.activeJobs.has(repKey(x.id, i))) continue;
      if (x.replication?.records.some((j) => j.index === i)) continue;
      out.push(i);
    }
    return out;
  }

  private pumpReplication(xs: Experiment[]): void {
    const { perAgentConcurrency, fleetConcurrency } = this.config.dispatch;
    const now = Date.now();
    for (const x of xs) {
      const agent = this.service.state.agent(x.agentId);
      if (!agent) continue;
      for (const index of this.pendingReplication(x)) {
        if (this.activeJobs.size >= fleetConcurrency) return;
        const key = repKey(x.id, index);
        const retry = this.retryAt.get(key);
        if (retry && retry.at > now) continue;
        if (this.countBy((a) => a.agentId === x.agentId) >= perAgentConcurrency) break;
        const runner = this.pickRunner(x.resources.gpus);
        if (!runner) break;
        const a: Active = { key, kind: 'replication', experimentId: x.id, index, agentId: x.agentId, runner, runnerName: runner.name, gpus: x.resources.gpus, phase: 'preparing' };
        this.activeJobs.set(key, a);
        this.track(this.dispatchReplication(x, a));
      }
    }
  }

  private pumpSeedJobs(): void {
    const { perAgentConcurrency, fleetConcurrency } = this.config.dispatch;
    const now = Date.now();
    const candidates = [...this.service.state.experiments.values()]
      .filter((x) => (x.state === 'approved' && (!this.claims.has(x.id) || this.owned.has(x.id))) || ((x.state === 'dispatched' || x.state === 'running') && this.owned.has(x.id)))
      .sort((a, b) => (a.verdict?.seq ?? 0) - (b.verdict?.seq ?? 0));
    for (const x of candidates) {
      const pending = this.pendingJobs(x);
      if (!pending.length) continue;
      if (this.cancelled.has(x.id) && x.state !== 'approved') {
        for (const i of pending) this.track(this.notStarted(x, i, 'cancelled', 'cancelled before it started'));
        continue;
      }
      const agent = this.service.state.agent(x.agentId);
      if (!agent || agent.status === 'paused') continue; // held until the agent is resumed
      if (this.service.state.episodes.isHeld(x)) continue; // held by an open agent episode
      const maxGpus = Math.max(-1, ...[...this.runners.values()].map((r) => r.cfg.gpus));
      if (x.resources.gpus > maxGpus) {
        if (!this.warnedUnfit.has(x.id)) {
          this.warnedUnfit.add(x.id);
          this.warn(`${x.id} needs ${x.resources.gpus} GPU(s); no configured runner has that many`);
        }
        continue;
      }
      for (const index of pending) {
        if (this.activeJobs.size >= fleetConcurrency) return;
        const key = jobKey(x.id, index);
        const retry = this.retryAt.get(key);
        if (retry && retry.at > now) continue;
        if (this.countBy((a) => a.agentId === x.agentId) >= perAgentConcurrency) break;
        const runner = this.pickRunner(x.resources.gpus);
        if (!runner) break;
        const cur = this.service.state.experiment(x.id)!;
        if (cur.state === 'approved' && !this.owned.has(x.id)) {
          if (!this.service.claimForDispatch(x.id, this.claims)) break;
          this.owned.add(x.id);
        }
        const a: Active = { key, kind: 'seed', experimentId: x.id, index, agentId: x.agentId, runner, runnerName: runner.name, gpus: x.resources.gpus, phase: 'preparing' };
        this.activeJobs.set(key, a);
        this.track(this.dispatch(x, a));
      }
    }
  }

  /** A fresh seed value, distinct from the experiment's other seed jobs'. */
  private chooseSeed(x: Experiment, index: number): number {
    if (this.opts.chooseSeed) {
      const s = this.opts.chooseSeed(x, index);
      if (!Number.isInteger(s) || s < 0 || s >= SEED_MAX) throw new Error(`chooseSeed gave ${s}; seeds are integers in [0, 2^31)`);
      return s;
    }
    const taken = new Set<number>();
    for (const j of this.service.state.experiment(x.id)?.run?.jobs ?? []) if (j.seed !== undefined) taken.add(j.seed);
    for (const a of this.activeJobs.values()) if (a.experimentId === x.id && a.seed !== undefined) taken.add(a.seed);
    for (;;) {
      const s = crypto.randomInt(1, SEED_MAX);
      if (!taken.has(s)) return s;
    }
  }

  /** Is x (still) in a state in which its seed jobs may be recorded? */
  private mayRun(id: string): boolean {
    const st = this.service.state.experiment(id)?.state;
    return st === 'approved' || st === 'dispatched' || st === 'running';
  }

  private async dispatch(x: Experiment, a: Active): Promise<void> {
    const verdict = x.verdict!;
    const runDir = seedJobDir(this.fleetDir, x.id, a.index);
    let runner = a.runner!;
    let ref: JobRef | undefined;
    try {
      fs.mkdirSync(runDir, { recursive: true });
      const logPath = path.join(runDir, LOG_FILE);
      const workdir = path.join(runDir, 'wt');
      // A previous process may have submitted this job and crashed before the ledger recorded it: adopt it.
      const intent = readIntent(runDir);
      if (intent?.seed !== undefined) a.seed = intent.seed;
      if (intent) {
        const prev = this.runners.get(intent.runner)?.runner;
        let jobId = intent.jobId;
        if (!jobId && prev?.find) jobId = await prev.find(runDir, x.id);
        if (prev && jobId) {
          runner = prev;
          a.runner = prev;
          a.runnerName = prev.name;
          ref = { jobId, runDir, workdir, logPath };
          prev.adopt?.(ref);
        }
      }
      if (ref && a.seed === undefined) throw new Error(`the intent file of ${this.label(a)} names job ${ref.jobId} but no seed`);
      if (!ref) {
        const agent = this.service.state.agent(x.agentId);
        if (!agent) throw new WorktreeError(`agent ${x.agentId} is not registered`);
        a.seed ??= this.chooseSeed(x, a.index);
        const seed = a.seed;
        const n = x.seedJobs ?? 1;
        // The seed is on disk (outside every sandbox) before the job can exist, so an adopted job keeps it.
        writeFileDurable(path.join(runDir, INTENT_FILE), JSON.stringify({ runner: runner.name, seed, at: new Date().toISOString() }));
        const wt = await prepareWorktree(this.service.hubRepo(x.agentId), runDir, verdict.commit, verdict.tree);
        const token = await this.opts.tokenFor?.(x, { index: a.index, seed });
        // the token goes to the run's API proxy (confine.ts), never into a confined job's environment
        const env = buildJobEnv({ workdir: wt, experimentId: x.id, evalUrl: this.opts.evalUrl, seed, seedIndex: a.index, seedJobs: n });
        const sandbox = this.sandboxFor(x, token);
        if (this.stopped) throw new Error('dispatcher stopped');
        ref = await runner.submit({
          experimentId: x.id,
          runDir,
          workdir: wt,
          command: substituteSeed(x.command, seed),
          env,
          gpus: x.resources.gpus,
          timeLimitSeconds: this.opts.timeLimitSeconds?.(x) ?? x.resources.timeLimitMinutes * 60,
          logPath,
          sandbox,
        });
        writeFileDurable(path.join(runDir, INTENT_FILE), JSON.stringify({ runner: runner.name, jobId: ref.jobId, seed, at: new Date().toISOString() }));
      }
      a.ref = ref;
      if (!this.mayRun(x.id)) {
        // vetoed (or otherwise decided) while we were preparing: the job must not run
        await runner.cancel(ref).catch((err) => this.warn(`cancelling ${this.label(a)} after it left approved failed: ${(err as Error).message}`));
        fs.rmSync(path.join(runDir, INTENT_FILE), { force: true });
        this.release(a);
        return;
      }
      await this.service.markJobDispatched(x.id, { index: a.index, seed: a.seed!, runner: runner.name, jobId: ref.jobId, commit: verdict.commit, tree: verdict.tree, logPath: ref.logPath });
      a.phase = 'submitted';
      this.retryAt.delete(a.key);
      if (this.cancelled.has(x.id)) await this.cancel(a);
      else await this.check(a);
    } catch (err) {
      const msg = (err as Error).message;
      const ok = this.mayRun(x.id);
      if (ref && ok) {
        // submitted but not recorded: do not leave an orphan job behind
        await runner.cancel(ref).catch(() => undefined);
        fs.rmSync(path.join(runDir, INTENT_FILE), { force: true });
      }
      if (!ok) {
        this.release(a);
        return;
      }
      const attempts = (this.retryAt.get(a.key)?.attempts ?? 0) + 1;
      const permanent = err instanceof WorktreeError || err instanceof DomainError || err instanceof SandboxError || attempts >= (this.opts.maxSubmitAttempts ?? 3);
      if (this.stopped && !permanent) {
        this.release(a);
        return;
      }
      if (!permanent) {
        this.warn(`dispatch of ${this.label(a)} to ${runner.name} failed (attempt ${attempts}), will retry: ${msg}`);
        this.retryAt.set(a.key, { at: Date.now() + (this.opts.retryBackoffMs ?? 2000) * attempts, attempts });
        this.release(a);
        return;
      }
      this.warn(`dispatch of ${this.label(a)} failed: ${msg}`);
      try {
        await this.notStarted(x, a.index, 'failed', `not started: ${msg}`, runner.name, a.seed);
      } catch (e2) {
        this.warn(`recording the failed dispatch of ${this.label(a)} failed: ${(e2 as Error).message}`);
      }
      this.activeJobs.delete(a.key);
      this.retryAt.delete(a.key);
    }
  }

  // ------------------------------------------------------------------ replication jobs

  /** A fresh seed for replication job `index`: distinct from every seed job's and replication job's seed of x. */
  private chooseReplicationSeed(x: Experiment): number {
    const taken = new Set<number>();
    for (const j of x.run?.jobs ?? []) if (j.seed !== undefined) taken.add(j.seed);
    for (const j of x.replication?.records ?? []) taken.add(j.seed);
    for (const a of this.activeJobs.values()) if (a.experimentId === x.id && a.seed !== undefined) taken.add(a.seed);
    for (;;) {
      const v = crypto.randomInt(1, SEED_MAX);
      if (!taken.has(v)) return v;
    }
  }

  /**
   * Run replication job `a.index` of x: the approved tree and command, a fresh seed, the protocol's view of each
   * hidden transfer dataset bound where its visible dataset is, decoys made from the hidden labels at the labels
   * path, and the whole run directory mounted at the path of the seed job with the same index.
   */
  private async dispatchReplication(x: Experiment, a: Active): Promise<void> {
    const transfer = this.opts.transfer!;
    const verdict = x.verdict!;
    const runDir = replicationJobDir(this.fleetDir, x.id, a.index);
    const runner = a.runner!;
    let ref: JobRef | undefined;
    try {
      fs.mkdirSync(runDir, { recursive: true });
      const logPath = path.join(runDir, LOG_FILE);
      const intent = readIntent(runDir);
      if (intent?.seed !== undefined) a.seed = intent.seed;
      if (intent) {
        const prev = this.runners.get(intent.runner)?.runner;
        let jobId = intent.jobId;
        if (!jobId && prev?.find) jobId = await prev.find(runDir, x.id);
        if (prev && jobId && a.seed !== undefined) {
          a.runner = prev;
          a.runnerName = prev.name;
          ref = { jobId, runDir, workdir: path.join(runDir, 'wt'), logPath };
          prev.adopt?.(ref);
        }
      }
      const jobs = x.replicationJobs ?? replicationJobsFor(transfer, x.seedJobs);
      if (!ref) {
        a.seed ??= this.chooseReplicationSeed(x);
        const seed = a.seed;
        writeFileDurable(path.join(runDir, INTENT_FILE), JSON.stringify({ runner: runner.name, seed, at: new Date().toISOString() }));
        const wt = await prepareWorktree(this.service.hubRepo(x.agentId), runDir, verdict.commit, verdict.tree);
        const view = buildTransferView({ fleetDir: this.fleetDir, runDir, datasets: transfer.datasets, goldLabels: transfer.protocol.goldLabels, seed });
        const token = await this.opts.replicationTokenFor?.(x, { index: a.index, seed });
        const visibleDir = seedJobDir(this.fleetDir, x.id, a.index);
        const n = x.seedJobs ?? 1;
        const env = buildJobEnv({ workdir: path.join(visibleDir, 'wt'), experimentId: x.id, evalUrl: this.opts.evalUrl, seed, seedIndex: a.index, seedJobs: n });
        const base = this.sandboxFor(x, token);
        const labels = path.join(this.fleetDir, 'labels');
        const sandbox: JobSandbox = {
          ...base,
          secretPaths: (base.secretPaths ?? []).filter((p) => p !== labels),
          secretViews: [{ src: view.labelsView, at: labels }],
          binds: view.binds,
          mountRunDirAt: visibleDir,
        };
        if (this.stopped) throw new Error('dispatcher stopped');
        ref = await runner.submit({
          experimentId: x.id,
          runDir,
          workdir: wt,
          command: substituteSeed(x.command, seed),
          env,
          gpus: x.resources.gpus,
          timeLimitSeconds: this.opts.timeLimitSeconds?.(x) ?? x.resources.timeLimitMinutes * 60,
          logPath,
          sandbox,
        });
        writeFileDurable(path.join(runDir, INTENT_FILE), JSON.stringify({ runner: runner.name, jobId: ref.jobId, seed, at: new Date().toISOString() }));
      }
      a.ref = ref;
      await this.service.append('replication.job_dispatched', SYSTEM, { experimentId: x.id, index: a.index, jobs, seed: a.seed!, runner: a.runnerName, jobId: ref.jobId });
      a.phase = 'submitted';
      this.retryAt.delete(a.key);
      await this.check(a);
    } catch (err) {
      const msg = (err as Error).message;
      if (ref) {
        await runner.cancel(ref).catch(() => undefined);
        fs.rmSync(path.join(runDir, INTENT_FILE), { force: true });
      }
      const attempts = (this.retryAt.get(a.key)?.attempts ?? 0) + 1;
      const permanent = err instanceof WorktreeError || err instanceof SandboxError || err instanceof TransferViewError || attempts >= (this.opts.maxSubmitAttempts ?? 3);
      if (this.stopped || !permanent) {
        if (!this.stopped) this.warn(`dispatch of replication job ${a.index} of ${x.id} failed (attempt ${attempts}), will retry: ${msg}`);
        this.retryAt.set(a.key, { at: Date.now() + (this.opts.retryBackoffMs ?? 2000) * attempts, attempts });
        this.activeJobs.delete(a.key);
        return;
      }
      this.warn(`dispatch of replication job ${a.index} of ${x.id} failed: ${msg}`);
      try {
        const jobs = x.replicationJobs ?? replicationJobsFor(transfer, x.seedJobs);
        await this.service.append('replication.job_dispatched', SYSTEM, { experimentId: x.id, index: a.index, jobs, seed: a.seed ?? this.chooseReplicationSeed(x), runner: runner.name, jobId: NOT_STARTED });
        await this.service.append('replication.job_finished', SYSTEM, { experimentId: x.id, index: a.index, jobId: NOT_STARTED, state: 'failed', reason: `not started: ${msg}`.slice(0, 2000) });
      } catch (e2) {
        this.warn(`recording the failed replication dispatch of ${x.id} failed: ${(e2 as Error).message}`);
      }
      this.activeJobs.delete(a.key);
      this.retryAt.delete(a.key);
    }
  }

  private async checkReplication(a: Active): Promise<void> {
    const x = this.service.state.experiment(a.experimentId);
    if (!x || !a.ref || x.replication?.records.some((j) => j.index === a.index && j.endState)) {
      this.activeJobs.delete(a.key);
      return;
    }
    let st: JobStatus;
    if (!a.runner) st = { phase: 'unknown', reason: `runner ${a.runnerName} is not configured` };
    else {
      try {
        st = await a.runner.status(a.ref);
      } catch (err) {
        st = { phase: 'unknown', reason: `runner ${a.runnerName} unreachable: ${(err as Error).message}` };
      }
    }
    if (st.phase !== 'unknown') a.unknownSince = undefined;
    if (isTerminalPhase(st.phase)) await this.finishReplication(a, st);
    else if (st.phase === 'unknown') {
      a.unknownSince ??= Date.now();
      if (Date.now() - a.unknownSince >= this.lostAfterMs) {
        if (a.runner) await a.runner.cancel(a.ref, 5000).catch(() => undefined);
        await this.finishReplication(a, { phase: 'failed', reason: `runner lost: ${st.reason ?? 'job unknown to the runner'}` });
      }
    }
  }

  /** The end of a replication job: its run report goes with it into `replication.job_finished` (humans only). */
  private async finishReplication(a: Active, st: JobStatus): Promise<void> {
    if (a.finishing) return;
    a.finishing = true;
    try {
      const x = this.service.state.experiment(a.experimentId);
      if (!x || x.replication?.records.some((j) => j.index === a.index && j.endState)) return;
      let res: JobStatus = st;
      if (a.runner && a.ref && a.ref.jobId !== NOT_STARTED) {
        try {
          const r = await a.runner.result(a.ref);
          if (isTerminalPhase(r.phase)) res = r;
        } catch {
          /* the state is what counts */
        }
      }
      let rep: { violations: number; summary: string; report: Record<string, unknown> } | undefined;
      if (a.ref && a.ref.jobId !== NOT_STARTED) {
        const cfg = this.runners.get(a.runnerName)?.cfg;
        let mode: 'bwrap' | 'none' = cfg?.sandbox === 'none' ? 'none' : 'bwrap';
        try {
          const rec = JSON.parse(fs.readFileSync(path.join(a.ref.runDir, 'sandbox.json'), 'utf8')) as { mode?: unknown };
          if (rec.mode === 'none' || rec.mode === 'bwrap') mode = rec.mode;
        } catch {
          /* nothing recorded */
        }
        try {
          const r = buildRunReport({ runDir: a.ref.runDir, sandbox: mode, taskMode: effectiveTaskMode(x.taskMode, this.opts.fleetTaskMode), phase: res.phase, reason: res.reason });
          fs.appendFileSync(a.ref.logPath, `\n${formatRunReport(r)}`);
          rep = { violations: r.violations, summary: r.summary.slice(0, 2000), report: { ...(r as unknown as Record<string, unknown>), sandbox: mode } };
        } catch (err) {
          this.warn(`the run report of replication job ${a.index} of ${x.id} failed: ${(err as Error).message}`);
        }
      }
      await this.service.append('replication.job_finished', SYSTEM, {
        experimentId: x.id,
        index: a.index,
        jobId: a.ref?.jobId ?? NOT_STARTED,
        state: res.phase as RunEndState,
        ...(res.exitCode !== undefined ? { exitCode: res.exitCode } : {}),
        ...(res.reason ? { reason: res.reason.slice(0, 2000) } : {}),
        ...(rep ?? {}),
      });
    } finally {
      this.activeJobs.delete(a.key);
      this.pump();
    }
  }

  /** Record a seed job that never ran (a permanent dispatch failure, or cancelled before submission). */
  private async notStarted(x: Experiment, index: number, state: 'failed' | 'cancelled', reason: string, runner?: string, seed?: number): Promise<void> {
    const cur = this.service.state.experiment(x.id);
    if (!cur || !this.mayRun(x.id)) return;
    const verdict = cur.verdict!;
    if (state === 'failed') {
      // a failed dispatch is recorded like any dispatch (the first one moves the experiment to dispatched)
      await this.service.markJobDispatched(x.id, { index, seed: seed ?? this.chooseSeed(x, index), runner: runner ?? this.config.runners[0]?.name ?? 'none', jobId: NOT_STARTED, commit: verdict.commit, tree: verdict.tree });
    }
    await this.service.markJobFinished(x.id, index, { jobId: NOT_STARTED, state, reason: reason.slice(0, 2000) });
  }

  /** What the run may see and reach: the fleet's public datasets, the hub's agent API through its proxy. */
  private sandboxFor(x: Experiment, token: string | undefined): JobSandbox {
    const f = (p: string) => path.join(this.fleetDir, p);
    const home = process.env.HOME;
    return {
      taskMode: effectiveTaskMode(x.taskMode, this.opts.fleetTaskMode),
      readOnlyPaths: [f('datasets')],
      denyPaths: [f('tokens.json'), f('ledger.jsonl'), f('repos'), f('runs'), f('fleet.json'), f('transfer'), f(REPLICATION_DIR), ...(home && home !== '/' ? [home] : [])],
      secretPaths: [f('labels')],
      proxy: this.opts.evalUrl ? { upstream: this.opts.evalUrl, token } : undefined,
    };
  }

  /** The run report of a finished seed job: a ledger event (before its run.job_finished) and the end of its log. */
  private async report(a: Active, x: Experiment, st: JobStatus): Promise<void> {
    if (!a.ref || a.ref.jobId === NOT_STARTED) return;
    const cfg = this.runners.get(a.runnerName)?.cfg;
    let mode: 'bwrap' | 'none' = cfg?.sandbox === 'none' ? 'none' : 'bwrap';
    try {
      const rec = JSON.parse(fs.readFileSync(path.join(a.ref.runDir, 'sandbox.json'), 'utf8')) as { mode?: unknown };
      if (rec.mode === 'none' || rec.mode === 'bwrap') mode = rec.mode; // how this run was actually started
    } catch {
      /* started before confinement existed, or by a runner that records nothing */
    }
    const rep = buildRunReport({ runDir: a.ref.runDir, sandbox: mode, taskMode: effectiveTaskMode(x.taskMode, this.opts.fleetTaskMode), phase: st.phase, reason: st.reason });
    try {
      fs.appendFileSync(a.ref.logPath, `\n${formatRunReport(rep)}`);
    } catch {
      /* remote log (ssh) or gone: the ledger event is what counts */
    }
    await this.service.append('run.report', SYSTEM, {
      experimentId: x.id,
      jobId: a.ref.jobId,
      index: a.index,
      sandbox: mode,
      violations: rep.violations,
      summary: rep.summary.slice(0, 2000),
      report: rep as unknown as Record<string, unknown>,
    });
  }

  /** Record runners a human set to `"sandbox": "none"` (and ones confined again): a standing warning. */
  private async recordSandboxModes(): Promise<void> {
    for (const { cfg } of this.runners.values()) {
      const unconfined = cfg.sandbox === 'none';
      const recorded = this.service.state.unconfinedRunners.has(cfg.name);
      if (!unconfined && cfg.type === 'local' && !findBwrap(cfg.bwrap)) this.warn(noBwrapMessage(cfg.name, cfg.bwrap));
      if (unconfined) this.warn(`runner ${cfg.name} is NOT confined ("sandbox": "none" in fleet.json): its runs can read the fleet directory and reach the network, and their scores are never verified`);
      if (unconfined === recorded) continue;
      await this.service.append('runner.unconfined', SYSTEM, { runner: cfg.name, confined: !unconfined }).catch((err) => this.warn(`recording the sandbox mode of ${cfg.name} failed: ${(err as Error).message}`));
    }
  }

  /** Forget a seed job that did not get dispatched, so it can be tried again later; an experiment none of whose
   * jobs got recorded can be claimed again. */
  private release(a: Active): void {
    this.activeJobs.delete(a.key);
    const x = this.service.state.experiment(a.experimentId);
    if (x?.state === 'approved' && ![...this.activeJobs.values()].some((b) => b.experimentId === a.experimentId)) {
      this.claims.delete(a.experimentId);
      this.owned.delete(a.experimentId);
    }
  }

  // ------------------------------------------------------------------ monitoring

  private async checkAll(): Promise<void> {
    const jobs = [...this.activeJobs.values()].filter((a) => a.phase === 'submitted' && !a.finishing);
    await Promise.all(jobs.map((a) => this.check(a)));
  }

  private async check(a: Active): Promise<void> {
    if (a.checking || a.finishing || !a.ref || this.stopped) return;
    a.checking = true;
    try {
      if (a.kind === 'replication') {
        await this.checkReplication(a);
        return;
      }
      const x = this.service.state.experiment(a.experimentId);
      if (!x || (x.state !== 'dispatched' && x.state !== 'running') || x.run?.jobs?.some((j) => j.index === a.index && j.endState)) {
        this.activeJobs.delete(a.key);
        return;
      }
      if (a.ref.jobId === NOT_STARTED) return;
      let st: JobStatus;
      if (!a.runner) st = { phase: 'unknown', reason: `runner ${a.runnerName} is not configured` };
      else {
        try {
          st = await a.runner.status(a.ref);
        } catch (err) {
          st = { phase: 'unknown', reason: `runner ${a.runnerName} unreachable: ${(err as Error).message}` };
        }
      }
      if (st.phase !== 'unknown') a.unknownSince = undefined;
      if (st.phase === 'running') await this.service.markJobRunning(x.id, a.index, a.ref.jobId);
      else if (isTerminalPhase(st.phase)) await this.finish(a, st);
      else if (st.phase === 'unknown') {
        a.unknownSince ??= Date.now();
        if (Date.now() - a.unknownSince >= this.lostAfterMs) await this.lost(a, st.reason ?? 'job unknown to the runner');
      }
    } finally {
      a.checking = false;
    }
  }

  private async cancel(a: Active): Promise<void> {
    if (a.cancelling || !a.ref || !a.runner) return;
    a.cancelling = true;
    try {
      const st = await a.runner.cancel(a.ref);
      if (isTerminalPhase(st.phase)) await this.finish(a, st);
      else this.warn(`cancel of ${this.label(a)} not confirmed yet (state ${st.rawState ?? st.phase}); still watching`);
    } catch (err) {
      this.warn(`cancel of ${this.label(a)} failed: ${(err as Error).message}`);
    } finally {
      a.cancelling = false;
    }
  }

  private async finish(a: Active, st: JobStatus): Promise<void> {
    if (a.finishing) return;
    a.finishing = true;
    try {
      const x = this.service.state.experiment(a.experimentId);
      if (!x || (x.state !== 'dispatched' && x.state !== 'running')) return;
      let artifacts: Record<string, unknown> = {};
      let res: JobStatus = st;
      if (a.runner && a.ref && a.ref.jobId !== NOT_STARTED) {
        try {
          const r = await a.runner.result(a.ref);
          if (isTerminalPhase(r.phase)) res = r;
          artifacts = r.artifacts;
        } catch (err) {
          artifacts = { resultsError: `cannot read results: ${(err as Error).message}`.slice(0, 500) };
        }
      }
      const state = res.phase as RunEndState;
      if (res.startedAt && a.ref) await this.service.markJobRunning(x.id, a.index, a.ref.jobId);
      try {
        await this.report(a, x, res);
      } catch (err) {
        this.warn(`the run report of ${this.label(a)} failed: ${(err as Error).message}`);
      }
      const info: Record<string, unknown> = { runner: a.runnerName };
      if (res.rawState) info.runnerState = res.rawState;
      if (res.startedAt) info.startedAt = res.startedAt;
      if (res.endedAt) info.endedAt = res.endedAt;
      if (res.signal) info.signal = res.signal;
      try {
        await this.service.markJobFinished(x.id, a.index, { jobId: a.ref?.jobId ?? NOT_STARTED, state, exitCode: res.exitCode, reason: res.reason?.slice(0, 2000), artifacts: { ...artifacts, job: info } });
      } catch (err) {
        if (!(err instanceof DomainError && err.code === 'conflict')) throw err;
      }
    } finally {
      this.activeJobs.delete(a.key);
      this.pump();
    }
  }

  private async lost(a: Active, reason: string): Promise<void> {
    if (a.finishing) return;
    const x = this.service.state.experiment(a.experimentId);
    if (!x || (x.state !== 'dispatched' && x.state !== 'running')) return;
    const why = `no status for ${Math.round((Date.now() - (a.unknownSince ?? Date.now())) / 1000)} s: ${reason}`.slice(0, 2000);
    // best effort: if the job does still exist somewhere, it must not keep running as an orphan
    if (a.runner && a.ref) await a.runner.cancel(a.ref, 5000).catch(() => undefined);
    await this.service.append('runner.lost', SYSTEM, { runner: a.runnerName, jobId: a.ref?.jobId ?? NOT_STARTED, experimentId: a.experimentId, reason: why });
    a.finishing = true;
    try {
      await this.service.markJobFinished(a.experimentId, a.index, { jobId: a.ref?.jobId ?? NOT_STARTED, state: 'failed', reason: `runner lost: ${why}`.slice(0, 2000) });
    } catch (err) {
      if (!(err instanceof DomainError && err.code === 'conflict')) throw err;
    } finally {
      this.activeJobs.delete(a.key);
      this.pump();
    }
  }
}
