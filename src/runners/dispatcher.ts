// Dispatcher: takes approved experiments in approval order and runs exactly the approved commit on a runner,
// within per-agent, fleet and runner (slots + GPUs) limits. Every transition goes through FleetService into the
// ledger (dispatched → running → finished); cancel requests are honoured; after a restart it reattaches to jobs
// recorded in the ledger (and to jobs submitted just before a crash, from the run directory), so no job is lost
// or started twice. No vscode import.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AnyEvent } from '../core/events';
import { DomainError } from '../core/lifecycle';
import type { Experiment, RunEndState } from '../core/model';
import { SYSTEM } from '../core/model';
import type { FleetService } from '../core/service';
import type { FleetRunnersConfig, RunnerConfig } from './config';
import { type JobSandbox, SandboxError, findBwrap, noBwrapMessage } from './confine';
import { buildJobEnv } from './env';
import { createRunner, defaultPollMs } from './factory';
import { writeFileDurable } from './local';
import { LOG_FILE } from './logs';
import { buildRunReport, formatRunReport } from './runReport';
import type { JobRef, JobStatus, Runner } from './types';
import { isTerminalPhase } from './types';
import { WorktreeError, prepareWorktree } from './worktree';

export interface DispatcherOptions {
  /** Fleet directory (default: service.dir); run directories are `<fleetDir>/runs/<experimentId>`. */
  fleetDir?: string;
  /** Use these runner instances instead of constructing them from the config (matched by name). */
  runners?: Runner[];
  /** OVERSEER_EVAL_URL given to jobs. */
  evalUrl?: string;
  /** A job-scoped token for OVERSEER_TOKEN (e.g. minted by the hub for the experiment's agent). */
  tokenFor?: (x: Experiment) => string | undefined | Promise<string | undefined>;
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
  experimentId: string;
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
  cancelRequested?: boolean;
}

const INTENT_FILE = 'dispatch.json';
const NOT_STARTED = 'not-started';

/** One claim set per FleetService: two dispatchers in one process can never both dispatch an experiment. */
const claimSets = new WeakMap<FleetService, Set<string>>();


function readIntent(runDir: string): { runner: string; jobId?: string } | undefined {
  try {
    const v = JSON.parse(fs.readFileSync(path.join(runDir, INTENT_FILE), 'utf8')) as { runner?: unknown; jobId?: unknown };
    if (typeof v.runner !== 'string') return undefined;
    return { runner: v.runner, jobId: typeof v.jobId === 'string' ? v.jobId : undefined };
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
  private readonly activeJobs = new Map<string, Active>();
  private readonly claims: Set<string>;
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
    return [...this.activeJobs.keys()];
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

  private runDir(id: string): string {
    return path.join(this.fleetDir, 'runs', id);
  }

  private refFor(x: Experiment): JobRef {
    const runDir = this.runDir(x.id);
    return { jobId: x.run!.jobId, runDir, workdir: path.join(runDir, 'wt'), logPath: x.run!.logPath ?? path.join(runDir, LOG_FILE) };
  }

  // ------------------------------------------------------------------ events

  private onEvent(e: AnyEvent): void {
    if (this.stopped) return;
    switch (e.type) {
      case 'experiment.cancel_requested': {
        const a = this.activeJobs.get(e.data.experimentId);
        if (a) {
          a.cancelRequested = true;
          if (a.phase === 'submitted') this.track(this.cancel(a));
        }
        break;
      }
      case 'experiment.approved':
      case 'experiment.finished':
      case 'experiment.vetoed':
      case 'agent.resumed':
      case 'budget.set':
        this.pump();
        break;
      default:
        break;
    }
  }

  // ------------------------------------------------------------------ recovery

  /** Adopt every experiment the ledger says is dispatched or running. */
  private reattach(): void {
    for (const x of this.service.state.experiments.values()) {
      if ((x.state !== 'dispatched' && x.state !== 'running') || !x.run) continue;
      const entry = this.runners.get(x.run.runner);
      const a: Active = {
        experimentId: x.id,
        agentId: x.agentId,
        runner: entry?.runner,
        runnerName: x.run.runner,
        gpus: x.resources.gpus,
        ref: this.refFor(x),
        phase: 'submitted',
      };
      const lastDispatch = [...x.history].reverse().find((h) => h.type === 'experiment.dispatched');
      a.cancelRequested = x.history.some((h) => h.type === 'experiment.cancel_requested' && h.seq > (lastDispatch?.seq ?? 0));
      this.claims.add(x.id);
      this.activeJobs.set(x.id, a);
      if (!entry) this.warn(`${x.id} ran on runner ${x.run.runner}, which is no longer configured`);
      else if (x.run.jobId === NOT_STARTED) this.track(this.finish(a, { phase: 'failed', reason: 'dispatch failed before the job started' }));
      else {
        entry.runner.adopt?.(a.ref!);
        if (a.cancelRequested) this.track(this.cancel(a));
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

  /** Dispatch approved experiments (oldest approval first) while limits allow. Re-entrant calls coalesce. */
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

  private pumpOnce(): void {
    const { perAgentConcurrency, fleetConcurrency } = this.config.dispatch;
    const now = Date.now();
    const approved = [...this.service.state.experiments.values()]
      .filter((x) => x.state === 'approved' && !this.activeJobs.has(x.id))
      .sort((a, b) => (a.verdict?.seq ?? 0) - (b.verdict?.seq ?? 0));
    for (const x of approved) {
      if (this.activeJobs.size >= fleetConcurrency) return;
      const retry = this.retryAt.get(x.id);
      if (retry && retry.at > now) continue;
      const agent = this.service.state.agent(x.agentId);
      if (!agent || agent.status === 'paused') continue; // held until the agent is resumed
      if (this.service.state.episodes.isHeld(x)) continue; // held by an open agent episode
      if (this.countBy((a) => a.agentId === x.agentId) >= perAgentConcurrency) continue;
      const maxGpus = Math.max(-1, ...[...this.runners.values()].map((r) => r.cfg.gpus));
      if (x.resources.gpus > maxGpus) {
        if (!this.warnedUnfit.has(x.id)) {
          this.warnedUnfit.add(x.id);
          this.warn(`${x.id} needs ${x.resources.gpus} GPU(s); no configured runner has that many`);
        }
        continue;
      }
      const runner = this.pickRunner(x.resources.gpus);
      if (!runner) continue;
      if (!this.service.claimForDispatch(x.id, this.claims)) continue;
      const a: Active = { experimentId: x.id, agentId: x.agentId, runner, runnerName: runner.name, gpus: x.resources.gpus, phase: 'preparing' };
      this.activeJobs.set(x.id, a);
      this.track(this.dispatch(x, a));
    }
  }

  private async dispatch(x: Experiment, a: Active): Promise<void> {
    const verdict = x.verdict!;
    const runDir = this.runDir(x.id);
    let runner = a.runner!;
    let ref: JobRef | undefined;
    try {
      fs.mkdirSync(runDir, { recursive: true });
      const logPath = path.join(runDir, LOG_FILE);
      const workdir = path.join(runDir, 'wt');
      // A previous process may have submitted this job and crashed before the ledger recorded it: adopt it.
      const intent = readIntent(runDir);
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
      if (!ref) {
        const agent = this.service.state.agent(x.agentId);
        if (!agent) throw new WorktreeError(`agent ${x.agentId} is not registered`);
        const wt = await prepareWorktree(this.service.hubRepo(x.agentId), runDir, verdict.commit, verdict.tree);
        const token = await this.opts.tokenFor?.(x);
        // the token goes to the run's API proxy (confine.ts), never into a confined job's environment
        const env = buildJobEnv({ workdir: wt, experimentId: x.id, evalUrl: this.opts.evalUrl });
        const sandbox = this.sandboxFor(x, token);
        if (this.stopped) throw new Error('dispatcher stopped');
        writeFileDurable(path.join(runDir, INTENT_FILE), JSON.stringify({ runner: runner.name, at: new Date().toISOString() }));
        ref = await runner.submit({
          experimentId: x.id,
          runDir,
          workdir: wt,
          command: x.command,
          env,
          gpus: x.resources.gpus,
          timeLimitSeconds: this.opts.timeLimitSeconds?.(x) ?? x.resources.timeLimitMinutes * 60,
          logPath,
          sandbox,
        });
        writeFileDurable(path.join(runDir, INTENT_FILE), JSON.stringify({ runner: runner.name, jobId: ref.jobId, at: new Date().toISOString() }));
      }
      a.ref = ref;
      const cur = this.service.state.experiment(x.id);
      if (!cur || cur.state !== 'approved') {
        // vetoed (or otherwise decided) while we were preparing: the job must not run
        await runner.cancel(ref).catch((err) => this.warn(`cancelling ${x.id} after it left approved failed: ${(err as Error).message}`));
        fs.rmSync(path.join(runDir, INTENT_FILE), { force: true });
        this.release(x.id);
        return;
      }
      await this.service.markDispatched(x.id, { runner: runner.name, jobId: ref.jobId, commit: verdict.commit, tree: verdict.tree, logPath: ref.logPath });
      a.phase = 'submitted';
      this.retryAt.delete(x.id);
      if (a.cancelRequested) await this.cancel(a);
      else await this.check(a);
    } catch (err) {
      const msg = (err as Error).message;
      const cur = this.service.state.experiment(x.id);
      if (ref && (!cur || cur.state === 'approved')) {
        // submitted but not recorded: do not leave an orphan job behind
        await runner.cancel(ref).catch(() => undefined);
        fs.rmSync(path.join(runDir, INTENT_FILE), { force: true });
      }
      if (cur && cur.state !== 'approved') {
        this.release(x.id);
        return;
      }
      const attempts = (this.retryAt.get(x.id)?.attempts ?? 0) + 1;
      const permanent = err instanceof WorktreeError || err instanceof DomainError || err instanceof SandboxError || attempts >= (this.opts.maxSubmitAttempts ?? 3);
      if (this.stopped && !permanent) {
        this.release(x.id);
        return;
      }
      if (!permanent) {
        this.warn(`dispatch of ${x.id} to ${runner.name} failed (attempt ${attempts}), will retry: ${msg}`);
        this.retryAt.set(x.id, { at: Date.now() + (this.opts.retryBackoffMs ?? 2000) * attempts, attempts });
        this.release(x.id);
        return;
      }
      this.warn(`dispatch of ${x.id} failed: ${msg}`);
      try {
        await this.service.markDispatched(x.id, { runner: runner.name, jobId: NOT_STARTED, commit: verdict.commit, tree: verdict.tree });
        await this.service.markFinished(x.id, { state: 'failed', reason: `not started: ${msg}`.slice(0, 2000) });
      } catch (e2) {
        this.warn(`recording the failed dispatch of ${x.id} failed: ${(e2 as Error).message}`);
      }
      this.activeJobs.delete(x.id);
      this.retryAt.delete(x.id);
    }
  }

  /** What the run may see and reach: the fleet's public datasets, the hub's agent API through its proxy. */
  private sandboxFor(x: Experiment, token: string | undefined): JobSandbox {
    const f = (p: string) => path.join(this.fleetDir, p);
    const home = process.env.HOME;
    return {
      taskMode: x.taskMode,
      readOnlyPaths: [f('datasets')],
      denyPaths: [f('tokens.json'), f('ledger.jsonl'), f('repos'), f('runs'), f('fleet.json'), ...(home && home !== '/' ? [home] : [])],
      secretPaths: [f('labels')],
      proxy: this.opts.evalUrl ? { upstream: this.opts.evalUrl, token } : undefined,
    };
  }

  /** The run report of a finished job: a ledger event (before experiment.finished) and the end of its log. */
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
    const rep = buildRunReport({ runDir: a.ref.runDir, sandbox: mode, taskMode: x.taskMode, phase: st.phase, reason: st.reason });
    try {
      fs.appendFileSync(a.ref.logPath, `\n${formatRunReport(rep)}`);
    } catch {
      /* remote log (ssh) or gone: the ledger event is what counts */
    }
    await this.service.append('run.report', SYSTEM, {
      experimentId: x.id,
      jobId: a.ref.jobId,
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

  /** Forget an experiment that did not get dispatched, so it can be claimed again later. */
  private release(id: string): void {
    this.activeJobs.delete(id);
    this.claims.delete(id);
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
      const x = this.service.state.experiment(a.experimentId);
      if (!x || (x.state !== 'dispatched' && x.state !== 'running')) {
        this.activeJobs.delete(a.experimentId);
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
      if (st.phase === 'running' && x.state === 'dispatched') await this.service.markRunning(x.id, a.ref.jobId);
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
      else this.warn(`cancel of ${a.experimentId} not confirmed yet (state ${st.rawState ?? st.phase}); still watching`);
    } catch (err) {
      this.warn(`cancel of ${a.experimentId} failed: ${(err as Error).message}`);
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
      if (x.state === 'dispatched' && res.startedAt && a.ref) await this.service.markRunning(x.id, a.ref.jobId);
      try {
        await this.report(a, x, res);
      } catch (err) {
        this.warn(`the run report of ${x.id} failed: ${(err as Error).message}`);
      }
      const info: Record<string, unknown> = { runner: a.runnerName };
      if (res.rawState) info.runnerState = res.rawState;
      if (res.startedAt) info.startedAt = res.startedAt;
      if (res.endedAt) info.endedAt = res.endedAt;
      if (res.signal) info.signal = res.signal;
      try {
        await this.service.markFinished(x.id, { state, exitCode: res.exitCode, reason: res.reason?.slice(0, 2000), artifacts: { ...artifacts, job: info } });
      } catch (err) {
        if (!(err instanceof DomainError && err.code === 'conflict')) throw err;
      }
    } finally {
      this.activeJobs.delete(a.experimentId);
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
      await this.service.markFinished(a.experimentId, { state: 'failed', reason: `runner lost: ${why}`.slice(0, 2000) });
    } catch (err) {
      if (!(err instanceof DomainError && err.code === 'conflict')) throw err;
    } finally {
      this.activeJobs.delete(a.experimentId);
      this.pump();
    }
  }
}
