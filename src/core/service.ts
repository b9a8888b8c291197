// FleetService: the one place that turns commands into ledger events, after checking who may do what.
// Checks and the append that follows them run in one synchronous step, so two conflicting decisions
// can never both pass (first decision wins). No vscode import.
import { replicationJobsFor } from './replication';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AnyEvent, EventData, EventType, LedgerEvent } from './events';
import { ID_RE, MAX_SEED_JOBS, SHA_RE } from './events';
import { FleetState, type FleetSnapshotState } from './fleet';
import { Ledger, LedgerCorruptError } from './ledger';
import { DomainError, UNDECIDED, canTransition } from './lifecycle';
import type { Actor, Budget, Experiment, FalseAlarm, ForumPost, ReviewComment, Resources, ScreeningReport, TaskMode } from './model';
import { SYSTEM } from './model';
import { DEFAULT_AUDIT_SHARE, checkRules, hardLimit, sampled, type PolicyFacts } from './policy';
import { startEpisodeEngine } from './episodeOps';
import { Sandbox } from '../git/sandbox';
import { ensureHubRepo, hubRepoPath, importWorkingCopy } from '../git/hubRepo';
import { PinWriter } from '../git/pinWriter';

export const SNAPSHOT_FILE = 'snapshot.json';
/** Screenings in flight at once: the static part is CPU on the hub's one thread, an AI review waits on the network. */
export const SCREENING_CONCURRENCY = 4;
export const FLEET_CONFIG = 'fleet.json';

export interface FleetServiceOptions {
  onWarning?: (msg: string) => void;
  /** Write a snapshot every N events (0 = only on close). */
  snapshotEvery?: number;
  /** Screening hook run on every proposal (static detectors + optional AI). */
  screen?: (x: Experiment, sandbox: Sandbox) => Promise<ScreeningReport>;
  noSync?: boolean;
  /** Seed jobs of an approval when neither the human nor the proposal names a number (default: fleet.json
   * `seeds`, else DEFAULT_SEEDS). */
  defaultSeeds?: number;
  /** Resolve a proposed commit in an agent's repository (default: real git via Sandbox). */
  resolveCommit?: (repoPath: string, commit: string, baseBranch: string) => Promise<{ commit: string; tree: string; baseCommit?: string }>;
}

export interface ProposeInput {
  agentId?: string;
  title: string;
  rationale: string;
  command: string;
  resources: Resources;
  taskMode: TaskMode;
  commit: string;
  branch?: string;
  supersedes?: string;
  /** Seed jobs asked for (1..MAX_SEED_JOBS); the approval fixes the number. */
  seeds?: number;
}

/** Seed jobs of an experiment when nobody names a number. */
export const DEFAULT_SEEDS = 3;

export type RunEnd = 'succeeded' | 'failed' | 'cancelled' | 'timed_out';
/** Worst first: the experiment's end state is its worst seed job's. */
const END_SEVERITY: Record<RunEnd, number> = { succeeded: 0, cancelled: 1, timed_out: 2, failed: 3 };

function checkSeeds(n: unknown, what: string): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_SEED_JOBS) {
    throw new DomainError('invalid', `${what} must be a whole number of seed jobs from 1 to ${MAX_SEED_JOBS}, got ${JSON.stringify(n)}`);
  }
  return n;
}

export interface PostInput {
  title: string;
  summary: string;
  findingType?: string;
  ideaName?: string;
  runId?: string;
  commitId?: string;
  metrics?: ForumPost['metrics'];
  config?: Record<string, unknown>;
  /** AAR fields kept verbatim with the finding. */
  extra?: Record<string, unknown>;
}

type Listener = (e: AnyEvent) => void;

export class FleetService {
  private readonly listeners = new Set<Listener>();
  private sinceSnapshot = 0;
  private snapshotting: Promise<void> | undefined;
  private readonly screenings = new Set<Promise<unknown>>();
  /** Screenings wait their turn here (a few at a time, see SCREENING_CONCURRENCY), never on the proposal's request. */
  private readonly screenQueue: (() => Promise<void>)[] = [];
  private screensRunning = 0;
  private readonly pinWriters = new Map<string, PinWriter>();
  private closed = false;
  private stopEpisodeEngine: (() => void) | undefined;

  private constructor(
    readonly dir: string,
    readonly ledger: Ledger,
    readonly state: FleetState,
    private readonly opts: FleetServiceOptions,
  ) {
    ledger.onAppended((e) => state.apply(e));
    ledger.onDurable((e) => {
      for (const l of this.listeners) {
        try {
          l(e);
        } catch (err) {
          this.opts.onWarning?.(`event listener failed: ${(err as Error).message}`);
        }
      }
      if (this.opts.snapshotEvery && ++this.sinceSnapshot >= this.opts.snapshotEvery && !this.snapshotting) {
        this.sinceSnapshot = 0;
        this.snapshotting = this.writeSnapshot().finally(() => (this.snapshotting = undefined));
      }
    });
  }

  /** Open a fleet directory (creating it if needed), from its snapshot when one matches the ledger. */
  static async open(dir: string, opts: FleetServiceOptions = {}): Promise<FleetService> {
    fs.mkdirSync(dir, { recursive: true });
    const warn = opts.onWarning ?? ((m: string) => process.emitWarning(m));
    const snapFile = path.join(dir, SNAPSHOT_FILE);
    let state = new FleetState();
    let ledger: Ledger | undefined;
    if (fs.existsSync(snapFile)) {
      try {
        const snap = JSON.parse(fs.readFileSync(snapFile, 'utf8')) as { seq: number; hash: string; offset: number; state: FleetSnapshotState };
        const s = FleetState.fromJSON(snap.state);
        ledger = await Ledger.open(dir, {
          onWarning: warn,
          noSync: opts.noSync,
          resumeFrom: { seq: snap.seq, hash: snap.hash, offset: snap.offset },
          onLoad: (e) => s.apply(e),
        });
        state = s;
      } catch (err) {
        if (!(err instanceof LedgerCorruptError) && !(err instanceof SyntaxError)) throw err;
        warn(`snapshot ignored (${(err as Error).message}); replaying the whole ledger`);
        state = new FleetState();
        ledger = undefined;
      }
    }
    if (!ledger) ledger = await Ledger.open(dir, { onWarning: warn, noSync: opts.noSync, onLoad: (e) => state.apply(e) });
    const svc = new FleetService(dir, ledger, state, { snapshotEvery: 10_000, ...opts });
    // Fleets made before hub-owned repositories existed: give each agent its own, filled from its working copy.
    if (!opts.resolveCommit) {
      for (const a of state.agents.values()) {
        if (fs.existsSync(path.join(hubRepoPath(dir, a.id), 'HEAD'))) continue;
        await svc.syncWorkingCopy(a.id).catch((err: Error) => warn(`hub repository of ${a.id}: ${err.message}`));
      }
    }
    return svc;
  }

  /** Subscribe to durable events. */
  onEvent(l: Listener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  async writeSnapshot(): Promise<void> {
    await this.ledger.flush();
    const point = this.ledger.snapshotPoint();
    const body = JSON.stringify({ ...point, state: this.state.toJSON() });
    const tmp = path.join(this.dir, `${SNAPSHOT_FILE}.${process.pid}.tmp`);
    await fs.promises.writeFile(tmp, body);
    const fh = await fs.promises.open(tmp, 'r');
    await fh.sync();
    await fh.close();
    await fs.promises.rename(tmp, path.join(this.dir, SNAPSHOT_FILE));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.screenings]);
    await this.snapshotting;
    await this.ledger.flush();
    await Promise.allSettled([...this.pinWriters.values()].map((w) => w.close()));
    if (this.ledger.lastSeq > 0) await this.writeSnapshot();
    await this.ledger.close();
  }

  /** Open agent episodes on their triggers from now on (core/episodes.ts; fleet.json `"episodes": true`, read by the
   * hub). Episodes already open stay open either way, and their proposals stay held. */
  startEpisodes(): void {
    this.stopEpisodeEngine ??= startEpisodeEngine(this.ledger, this.state, (m) => this.opts.onWarning?.(m));
  }

  get episodesOn(): boolean {
    return !!this.stopEpisodeEngine;
  }

  /** Append an event as-is (after schema validation). For modules that own their own events. */
  append<T extends EventType>(type: T, actor: Actor, data: EventData<T>): Promise<LedgerEvent<T>> {
    return this.ledger.append(type, actor, data);
  }

  // ---------------------------------------------------------------- helpers

  private requireHuman(actor: Actor, what: string): void {
    if (actor.kind !== 'human') throw new DomainError('forbidden', `only a human may ${what}; ${actor.kind} ${actor.id} may not`);
  }

  private experimentOrThrow(id: string): Experiment {
    const x = this.state.experiment(id);
    if (!x) throw new DomainError('not_found', `no experiment ${JSON.stringify(id)}`);
    return x;
  }

  private agentOrThrow(id: string) {
    const a = this.state.agent(id);
    if (!a) throw new DomainError('not_found', `no agent ${JSON.stringify(id)}`);
    return a;
  }

  private nextId(prefix: string, taken: (id: string) => boolean): string {
    let n = this.ledger.lastSeq + 1;
    let candidate = `${prefix}-${n}`;
    while (taken(candidate)) candidate = `${prefix}-${++n}`;
    return candidate;
  }

  /** The agent's hub-owned bare repository: the only repository the hub reads, diffs or checks out. */
  hubRepo(agentId: string): string {
    if (!ID_RE.test(agentId)) throw new DomainError('invalid', `invalid agent id ${JSON.stringify(agentId)}`);
    return hubRepoPath(this.dir, agentId);
  }

  /** Reads of an agent's code, always from its hub repository. */
  sandbox(agentId: string): Sandbox {
    this.agentOrThrow(agentId);
    return new Sandbox(this.hubRepo(agentId));
  }

  /**
   * Bring an agent's local working copy (if it has one on this machine) into its hub repository. No git
   * process runs in the working copy; pushes over HTTP need nothing of this.
   */
  async syncWorkingCopy(agentId: string): Promise<string[]> {
    const a = this.agentOrThrow(agentId);
    const repo = this.hubRepo(agentId);
    await ensureHubRepo(repo, { branch: this.state.baseBranch });
    if (!a.repoPath || path.resolve(a.repoPath) === path.resolve(repo) || !fs.existsSync(path.join(a.repoPath, '.git'))) return [];
    return (await importWorkingCopy(a.repoPath, repo)).updated;
  }

  // ---------------------------------------------------------------- fleet & agents

  async createFleet(actor: Actor, name: string, baseBranch = 'main'): Promise<void> {
    if (this.state.name) throw new DomainError('conflict', `fleet already created as ${this.state.name}`);
    await this.ledger.append('fleet.created', actor, { name, baseBranch });
  }

  async registerAgent(
    actor: Actor,
    input: { agentId: string; name?: string; direction: string; repoPath: string; budget: Budget },
  ): Promise<void> {
    if (actor.kind === 'agent') throw new DomainError('forbidden', 'agents may not register agents');
    if (!ID_RE.test(input.agentId)) throw new DomainError('invalid', `invalid agent id ${JSON.stringify(input.agentId)}`);
    if (this.state.agent(input.agentId)) throw new DomainError('conflict', `agent ${input.agentId} already registered`);
    await ensureHubRepo(hubRepoPath(this.dir, input.agentId), { branch: this.state.baseBranch || 'main' });
    await this.ledger.append('agent.registered', actor, {
      agentId: input.agentId,
      name: input.name ?? input.agentId,
      direction: input.direction,
      repoPath: input.repoPath,
      budget: input.budget,
    });
  }

  async pauseAgent(actor: Actor, agentId: string, reason: string): Promise<void> {
    if (actor.kind === 'agent') throw new DomainError('forbidden', 'agents may not pause agents');
    const a = this.agentOrThrow(agentId);
    if (a.status === 'paused') throw new DomainError('conflict', `agent ${agentId} is already paused`);
    await this.ledger.append('agent.paused', actor, { agentId, reason: reason || 'paused' });
  }

  async resumeAgent(actor: Actor, agentId: string): Promise<void> {
    this.requireHuman(actor, 'resume an agent');
    const a = this.agentOrThrow(agentId);
    if (a.status !== 'paused') throw new DomainError('conflict', `agent ${agentId} is not paused`);
    if (this.state.episodes.retired.has(agentId)) throw new DomainError('conflict', `agent ${agentId} was retired`);
    await this.ledger.append('agent.resumed', actor, { agentId });
  }

  async setBudget(actor: Actor, agentId: string, b: Partial<Budget>): Promise<void> {
    this.requireHuman(actor, 'change budgets');
    this.agentOrThrow(agentId);
    await this.ledger.append('budget.set', actor, { agentId, ...b });
  }

  /** Records model spend; `actor` defaults to the system (embedded runtime); a remote runtime charges as its human operator. */
  async charge(agentId: string, c: { usd: number; tokensIn: number; tokensOut: number; agentHours: number }, actor: Actor = SYSTEM): Promise<void> {
    if (actor.kind === 'agent') throw new DomainError('forbidden', 'agents may not record model spend');
    this.agentOrThrow(agentId);
    await this.ledger.append('budget.charged', actor, { agentId, ...c });
  }

  // ---------------------------------------------------------------- experiments

  /** An agent proposes an experiment pinned to a commit of its own sandbox repository. */
  async propose(actor: Actor, input: ProposeInput): Promise<Experiment> {
    const agentId = actor.kind === 'agent' ? actor.id : input.agentId;
    if (actor.kind === 'agent' && input.agentId && input.agentId !== actor.id) {
      throw new DomainError('forbidden', `agent ${actor.id} may not propose for ${input.agentId}`);
    }
    if (!agentId) throw new DomainError('invalid', 'agentId is required');
    const agent = this.agentOrThrow(agentId);
    if (agent.status === 'paused') throw new DomainError('paused', `agent ${agentId} is paused: ${agent.pausedReason ?? ''}`.trim());
    if (!SHA_RE.test(input.commit)) throw new DomainError('invalid', 'commit must be a full 40-hex commit SHA');
    if (input.seeds !== undefined) checkSeeds(input.seeds, 'seeds');
    let sandbox: Sandbox | undefined;
    const sb = () => (sandbox ??= this.sandbox(agentId));
    let pin: { commit: string; tree: string; baseCommit?: string };
    // The merge base is looked up beside the resolution (both are reads of the same cat-file process), for
    // the SHA as given; it is looked up again only when that SHA was not the commit itself (a tag) or was missing.
    const baseBranch = this.state.baseBranch;
    let base: Promise<string | undefined> | undefined;
    try {
      if (this.opts.resolveCommit) pin = await this.opts.resolveCommit(agent.repoPath, input.commit, baseBranch);
      else {
        base = sb().baseOf(input.commit, baseBranch);
        base.catch(() => undefined); // looked at below, or replaced
        // A commit not yet in the hub repository comes from the agent's local working copy, through the
        // same receive checks as a push; an agent elsewhere pushes to /git/<agent>.git first.
        let got = await sb().resolve(input.commit).catch(() => undefined);
        if (!got) {
          base = undefined;
          await this.syncWorkingCopy(agentId);
          got = await sb().resolve(input.commit).catch(() => undefined);
        }
        if (!got) throw new Error(`commit ${input.commit.slice(0, 12)} is not in the hub repository of ${agentId}; push it first (git push <hub>/git/${agentId}.git)`);
        pin = got;
      }
    } catch (err) {
      throw new DomainError('invalid', (err as Error).message);
    }
    let baseCommit: string | undefined;
    if (this.opts.resolveCommit) baseCommit = pin.baseCommit;
    else {
      const speculative = base && pin.commit === input.commit ? await base.then((b) => ({ b }), () => undefined) : undefined;
      baseCommit = speculative ? speculative.b : await sb().baseOf(pin.commit, baseBranch);
    }
    if (this.state.agent(agentId)?.status === 'paused') throw new DomainError('paused', `agent ${agentId} is paused`);
    // From here on: synchronous checks + append.
    if (input.supersedes) {
      const old = this.state.experiment(input.supersedes);
      // Another agent's experiment answers like a missing one: superseding must not tell an agent which ids exist.
      if (!old || old.agentId !== agentId) throw new DomainError('not_found', `no experiment ${JSON.stringify(input.supersedes)}`);
      if (old.supersededBy) throw new DomainError('conflict', `${input.supersedes} was already superseded by ${old.supersededBy}`);
    }
    const experimentId = this.nextId('exp', (i) => this.state.experiments.has(i));
    const e = this.ledger.append('experiment.proposed', actor, {
      experimentId,
      agentId,
      title: input.title,
      rationale: input.rationale,
      command: input.command,
      resources: input.resources,
      taskMode: input.taskMode,
      commit: pin.commit,
      tree: pin.tree,
      baseCommit,
      branch: input.branch,
      supersedes: input.supersedes,
      ...(input.seeds !== undefined ? { seeds: input.seeds } : {}),
    });
    // Sequenced in the same tick, so both events share one group commit (one fsync per proposal).
    const started = this.opts.screen ? this.ledger.append('experiment.screening_started', SYSTEM, { experimentId }) : undefined;
    started?.catch(() => undefined); // a write failure surfaces through `e` below; never as an unhandled rejection
    // The reviewed commit stays in the hub repository whatever the agent later does to its branches. The pin is
    // written while the event is fsynced (one update-ref transaction per batch, like the group commit); the
    // proposal is acknowledged when both are done. A pin without its event (a crash between the two) names an
    // id the next proposal reuses and overwrites.
    const pinned = this.opts.resolveCommit
      ? undefined
      : this.pinWriter(agentId)
          .pin(experimentId, pin.commit)
          .catch((err: Error) => this.opts.onWarning?.(`pinning ${experimentId}: ${err.message}`));
    await e;
    await pinned;
    const x = this.state.experiment(experimentId)!;
    // Screening reads through its own cat-file process, so its many reads never queue ahead of a request's.
    if (started) this.startScreening(x, new Sandbox(this.hubRepo(agentId), 'background'), started);
    return x;
  }

  /** The batched pin writer of an agent's hub repository. */
  private pinWriter(agentId: string): PinWriter {
    const repo = this.hubRepo(agentId);
    let w = this.pinWriters.get(repo);
    if (!w) this.pinWriters.set(repo, (w = new PinWriter(repo)));
    return w;
  }

  private startScreening(x: Experiment, sb: Sandbox, started: Promise<unknown>): void {
    let run!: () => Promise<void>;
    const p = new Promise<void>((resolve) => {
      run = () => this.screenOne(x, sb, started).finally(resolve);
    });
    this.screenQueue.push(run);
    this.screenings.add(p);
    void p.finally(() => this.screenings.delete(p));
    this.nextScreening();
  }

  private nextScreening(): void {
    while (this.screensRunning < SCREENING_CONCURRENCY && this.screenQueue.length) {
      const run = this.screenQueue.shift()!;
      this.screensRunning++;
      // From a fresh macrotask: the proposal's response and other requests go first.
      setImmediate(() =>
        void run().finally(() => {
          this.screensRunning--;
          this.nextScreening();
        }),
      );
    }
  }

  private screenOne(x: Experiment, sb: Sandbox, started: Promise<unknown>): Promise<void> {
    const screen = this.opts.screen!;
    return (async () => {
      await started;
      if (this.closed) return; // closing: a screening not yet begun is not begun (its result would be dropped below)
      let report: ScreeningReport;
      try {
        report = await screen(x, sb);
      } catch (err) {
        report = {
          gaming: false,
          score: 0,
          findings: [
            {
              kind: 'screening_error',
              severity: 'medium',
              file: '<proposal>',
              line: 0,
              explanation: `screening failed: ${(err as Error).message}`.slice(0, 2000),
              confidence: 1,
              source: 'static',
            },
          ],
        };
      }
      if (this.closed) return;
      const cur = this.state.experiment(x.id);
      if (cur && (cur.state === 'screening' || cur.state === 'proposed' || !UNDECIDED.includes(cur.state))) {
        await this.ledger.append('experiment.screened', SYSTEM, { experimentId: x.id, report });
      }
    })().catch((err) => this.opts.onWarning?.(`screening ${x.id} failed: ${(err as Error).message}`));
  }

  /** Wait for in-flight screenings (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.screenings.size) await Promise.allSettled([...this.screenings]);
    await this.ledger.flush();
  }

  private decide(
    type: 'experiment.approved' | 'experiment.vetoed' | 'experiment.changes_requested',
    actor: Actor,
    experimentId: string,
    pin: { commit: string; tree: string },
  ): Experiment {
    if (actor.kind !== 'human') {
      throw new DomainError('forbidden', `only a human may decide on experiments; ${actor.kind} ${actor.id} may not`);
    }
    const x = this.experimentOrThrow(experimentId);
    const ok = canTransition(type, x.state, actor);
    if (ok !== true) {
      if (x.verdict) {
        throw new DomainError(
          'conflict',
          `${x.id} was already ${x.verdict.decision.replace('_', ' ')} by ${x.verdict.by.id} (seq ${x.verdict.seq}); first decision wins`,
          { state: x.state, verdict: x.verdict },
        );
      }
      throw ok;
    }
    const ep = this.state.episodes.isHeld(x) ? this.state.episodes.openOf(x.agentId) : undefined;
    if (ep) throw new DomainError('held', `${x.id} is held by episode ${ep.id} of ${x.agentId}: decide the episode, or release the proposal from it first`, { episodeId: ep.id });
    if (pin.commit !== x.commit || pin.tree !== x.tree) {
      throw new DomainError(
        'stale_review',
        `${x.id} is pinned to commit ${x.commit.slice(0, 12)} (tree ${x.tree.slice(0, 12)}); the decision names ${String(pin.commit).slice(0, 12)} (tree ${String(pin.tree).slice(0, 12)}). Review the pinned commit.`,
        { commit: x.commit, tree: x.tree },
      );
    }
    return x;
  }

  /** Seed jobs of an approval nobody named a number for: the option, fleet.json `seeds`, or DEFAULT_SEEDS. */
  defaultSeeds(): number {
    if (this.opts.defaultSeeds !== undefined) return checkSeeds(this.opts.defaultSeeds, 'defaultSeeds');
    let cfg: { seeds?: unknown } = {};
    try {
      cfg = JSON.parse(fs.readFileSync(path.join(this.dir, FLEET_CONFIG), 'utf8')) as { seeds?: unknown };
    } catch {
      /* no fleet.json (or unreadable): the built-in default */
    }
    return cfg.seeds === undefined ? DEFAULT_SEEDS : checkSeeds(cfg.seeds, 'fleet.json seeds');
  }

  /** Seed jobs an approval of x fixes: the human's number, else the proposal's, else the fleet default. */
  seedJobsFor(x: Experiment, override?: number): number {
    if (override !== undefined) return checkSeeds(override, 'seeds');
    return x.seeds ?? this.defaultSeeds();
  }

  /** Replication jobs an approval of `seeds` seed jobs charges for: none unless the fleet has a hidden transfer task. */
  replicationsFor(seeds: number): number {
    const r = this.state.replication;
    return r?.enabled ? replicationJobsFor(r, seeds) : 0;
  }

  async approve(actor: Actor, experimentId: string, pin: { commit: string; tree: string; note?: string; seeds?: number }): Promise<Experiment> {
    const x = this.decide('experiment.approved', actor, experimentId, pin);
    const seeds = this.seedJobsFor(x, pin.seeds);
    const replications = this.replicationsFor(seeds);
    const needed = x.resources.gpuHours * (seeds + replications);
    const b = this.state.budgetOf(x.agentId);
    if (b && b.used.gpuHours + needed > b.budget.gpuHours + 1e-9) {
      throw new DomainError(
        'budget_exceeded',
        `approving ${x.id} needs ${+needed.toFixed(4)} GPU-hours (${seeds} seed job${seeds === 1 ? '' : 's'}${replications ? ` + ${replications} replication job${replications === 1 ? '' : 's'}` : ''} × ${x.resources.gpuHours}); ${x.agentId} has ${Math.max(0, b.remainingGpuHours).toFixed(2)} of ${b.budget.gpuHours} left`,
        { needed, seeds, replications, remaining: b.remainingGpuHours },
      );
    }
    await this.ledger.append('experiment.approved', actor, { experimentId, commit: x.commit, tree: x.tree, note: pin.note || undefined, seeds, ...(replications ? { replications } : {}) });
    return x;
  }

  // ---- approval policies (core/policy.ts): humans set them; the system applies them; humans audit them

  /** A human sets a new policy version (replacing the rules; every rule enabled). */
  async setPolicy(actor: Actor, p: { rules: { name: string; expr: string }[]; auditShare?: number; note?: string }): Promise<number> {
    this.requireHuman(actor, 'change the approval policy');
    const errors = checkRules(p.rules);
    if (errors.length) throw new DomainError('invalid', `invalid policy: ${errors.join('; ')}`);
    const version = (this.state.policy?.version ?? 0) + 1;
    await this.ledger.append('policy.set', actor, { version, rules: p.rules, auditShare: p.auditShare ?? DEFAULT_AUDIT_SHARE, note: p.note });
    return version;
  }

  /** A human re-enables a rule a flagged audit disabled. */
  async enableRule(actor: Actor, rule: string): Promise<void> {
    this.requireHuman(actor, 'enable a policy rule');
    const p = this.state.policy;
    if (!p || !p.rules.some((r) => r.name === rule)) throw new DomainError('not_found', `no rule ${JSON.stringify(rule)} in the current policy`);
    if (!this.state.disabledRules.has(rule)) throw new DomainError('conflict', `rule ${JSON.stringify(rule)} is enabled`);
    await this.ledger.append('policy.rule_enabled', actor, { rule, version: p.version });
  }

  /** The system approves under the current policy (the caller evaluated it; the hard limits are checked again). */
  async autoApprove(experimentId: string, outcome: { rule: string }, facts: PolicyFacts): Promise<Experiment | undefined> {
    const p = this.state.policy;
    const x = this.experimentOrThrow(experimentId);
    if (!p || this.state.disabledRules.has(outcome.rule) || !p.rules.some((r) => r.name === outcome.rule)) return undefined;
    if (x.state !== 'awaiting_review' || hardLimit(x, facts) || this.state.episodes.policyHold(x)) return undefined;
    const seeds = this.seedJobsFor(x);
    const replications = this.replicationsFor(seeds);
    const b = this.state.budgetOf(x.agentId);
    if (b && b.used.gpuHours + x.resources.gpuHours * (seeds + replications) > b.budget.gpuHours + 1e-9) return undefined; // a human decides
    const isSampled = sampled(x.id, p.version, p.auditShare);
    await this.ledger.append('experiment.approved', SYSTEM, {
      experimentId,
      commit: x.commit,
      tree: x.tree,
      note: `approved by policy v${p.version} rule ${outcome.rule} (set by ${p.setBy})`,
      policy: { rule: outcome.rule, version: p.version, setBy: p.setBy, sampled: isSampled },
      seeds,
      ...(replications ? { replications } : {}),
    });
    return x;
  }

  /** A human audits a sampled automatic approval: confirm it, or flag it (pauses the agent, disables the rule). */
  async audit(actor: Actor, experimentId: string, a: { outcome: 'confirm' | 'flag'; reason?: string }): Promise<void> {
    this.requireHuman(actor, 'audit automatic approvals');
    const auto = this.state.autoApprovals.find((q) => q.experimentId === experimentId);
    if (!auto) throw new DomainError('not_found', `${experimentId} was not approved by a policy`);
    if (auto.audit) throw new DomainError('conflict', `${experimentId} was already ${auto.audit.outcome} by ${auto.audit.by}`);
    if (a.outcome === 'confirm') {
      await this.ledger.append('audit.confirmed', actor, { experimentId, note: a.reason || undefined });
      return;
    }
    const reason = a.reason?.trim();
    if (!reason) throw new DomainError('invalid', 'a flag needs a reason');
    await this.ledger.append('audit.flagged', actor, { experimentId, reason });
    const p = this.state.policy;
    if (p && p.version === auto.version && !this.state.disabledRules.has(auto.rule)) {
      await this.ledger.append('policy.rule_disabled', actor, { rule: auto.rule, version: p.version, reason: `audit of ${experimentId} flagged: ${reason}`.slice(0, 2000), experimentId });
    }
    if (this.state.agent(auto.agentId)?.status !== 'paused') {
      await this.ledger.append('agent.paused', actor, { agentId: auto.agentId, reason: `automatic approval of ${experimentId} flagged in audit: ${reason}`.slice(0, 2000) });
    }
  }

  async veto(actor: Actor, experimentId: string, pin: { commit: string; tree: string; reason: string }): Promise<Experiment> {
    if (!pin.reason?.trim()) throw new DomainError('invalid', 'a veto needs a reason');
    const x = this.decide('experiment.vetoed', actor, experimentId, pin);
    await this.ledger.append('experiment.vetoed', actor, { experimentId, commit: x.commit, tree: x.tree, reason: pin.reason.trim() });
    return x;
  }

  async requestChanges(actor: Actor, experimentId: string, pin: { commit: string; tree: string; reason: string }): Promise<Experiment> {
    if (!pin.reason?.trim()) throw new DomainError('invalid', 'a request for changes needs a reason');
    const x = this.decide('experiment.changes_requested', actor, experimentId, pin);
    await this.ledger.append('experiment.changes_requested', actor, {
      experimentId,
      commit: x.commit,
      tree: x.tree,
      reason: pin.reason.trim(),
    });
    return x;
  }

  /** Dispatcher only: record that an approved experiment was submitted to a runner, at the approved pin. */
  async markDispatched(experimentId: string, run: { runner: string; jobId: string; commit: string; tree: string; logPath?: string }): Promise<void> {
    const x = this.experimentOrThrow(experimentId);
    const ok = canTransition('experiment.dispatched', x.state, SYSTEM);
    if (ok !== true) throw ok;
    if (!x.verdict || x.verdict.decision !== 'approved') throw new DomainError('forbidden', `${x.id} has no approval`);
    if (this.state.episodes.isHeld(x)) throw new DomainError('held', `${x.id} is held by an open episode of ${x.agentId}: it does not dispatch`);
    if (run.commit !== x.verdict.commit || run.tree !== x.verdict.tree) {
      throw new DomainError('stale_review', `dispatch of ${x.id} names ${run.commit.slice(0, 12)} but ${x.verdict.commit.slice(0, 12)} was approved`);
    }
    await this.ledger.append('experiment.dispatched', SYSTEM, {
      experimentId,
      runner: run.runner,
      jobId: run.jobId,
      commit: run.commit,
      tree: run.tree,
      logPath: run.logPath,
    });
  }

  /**
   * Dispatcher only: record that seed job `index` was submitted with the hub's seed value. The first seed job
   * also moves the experiment approved → dispatched (both events in one synchronous step, one group commit).
   */
  async markJobDispatched(
    experimentId: string,
    job: { index: number; seed: number; runner: string; jobId: string; commit: string; tree: string; logPath?: string },
  ): Promise<void> {
    const x = this.experimentOrThrow(experimentId);
    const n = x.seedJobs ?? 1;
    if (!Number.isInteger(job.index) || job.index < 0 || job.index >= n) throw new DomainError('invalid', `${x.id} has ${n} seed job(s); no job ${job.index}`);
    let first: Promise<unknown> | undefined;
    if (x.state === 'approved') {
      const ok = canTransition('experiment.dispatched', x.state, SYSTEM);
      if (ok !== true) throw ok;
      if (!x.verdict || x.verdict.decision !== 'approved') throw new DomainError('forbidden', `${x.id} has no approval`);
      if (job.commit !== x.verdict.commit || job.tree !== x.verdict.tree) {
        throw new DomainError('stale_review', `dispatch of ${x.id} names ${job.commit.slice(0, 12)} but ${x.verdict.commit.slice(0, 12)} was approved`);
      }
      first = this.ledger.append('experiment.dispatched', SYSTEM, { experimentId, runner: job.runner, jobId: job.jobId, commit: job.commit, tree: job.tree, logPath: job.logPath });
      first.catch(() => undefined);
    } else if (x.state !== 'dispatched' && x.state !== 'running') {
      throw new DomainError('conflict', `cannot dispatch a seed job of an experiment that is ${x.state}`);
    } else if (job.commit !== x.run?.commit || job.tree !== x.run?.tree) {
      throw new DomainError('stale_review', `seed job ${job.index} of ${x.id} names ${job.commit.slice(0, 12)}, not the dispatched ${String(x.run?.commit).slice(0, 12)}`);
    } else if (x.run.jobs?.some((j) => j.index === job.index && j.jobId)) {
      throw new DomainError('conflict', `seed job ${job.index} of ${x.id} was already dispatched`);
    }
    const p = this.ledger.append('run.job_dispatched', SYSTEM, { experimentId, index: job.index, seed: job.seed, runner: job.runner, jobId: job.jobId, logPath: job.logPath });
    await first;
    await p;
  }

  /** Dispatcher only: seed job `index` started (the first one also moves the experiment to running). */
  async markJobRunning(experimentId: string, index: number, jobId: string): Promise<void> {
    const x = this.experimentOrThrow(experimentId);
    if (x.state !== 'dispatched' && x.state !== 'running') return;
    const j = x.run?.jobs?.find((q) => q.index === index);
    const pending: Promise<unknown>[] = [];
    if (x.state === 'dispatched') pending.push(this.ledger.append('experiment.running', SYSTEM, { experimentId, jobId }));
    if (j && !j.startedAt && !j.endState) pending.push(this.ledger.append('run.job_started', SYSTEM, { experimentId, index, jobId }));
    for (const p of pending) p.catch(() => undefined);
    await Promise.all(pending);
  }

  /**
   * Dispatcher only: seed job `index` ended. When every seed job the approval fixed has ended, the experiment
   * finishes in the same step: succeeded only if all succeeded, otherwise the worst job's state. Returns
   * whether the experiment finished.
   */
  async markJobFinished(
    experimentId: string,
    index: number,
    r: { jobId: string; state: RunEnd; exitCode?: number; reason?: string; artifacts?: Record<string, unknown> },
  ): Promise<boolean> {
    const x = this.experimentOrThrow(experimentId);
    if (x.state !== 'dispatched' && x.state !== 'running') {
      throw new DomainError('conflict', `${x.id} is ${x.state}; a finish was already recorded or it never ran`);
    }
    const pending: Promise<unknown>[] = [];
    if (!x.run?.jobs?.find((q) => q.index === index)?.endState) {
      pending.push(this.ledger.append('run.job_finished', SYSTEM, { experimentId, index, ...r }));
    }
    const fin = this.finishIfAllEnded(experimentId);
    if (fin) pending.push(fin);
    for (const p of pending) p.catch(() => undefined);
    await Promise.all(pending);
    return !!fin;
  }

  /** Append `experiment.finished` (synchronously sequenced) if every seed job has ended; else undefined. */
  finishIfAllEnded(experimentId: string): Promise<unknown> | undefined {
    const x = this.experimentOrThrow(experimentId);
    if (x.state !== 'dispatched' && x.state !== 'running') return undefined;
    const n = x.seedJobs ?? 1;
    const jobs = (x.run?.jobs ?? []).filter((j) => j.index < n);
    if (jobs.length < n || jobs.some((j) => !j.endState)) return undefined;
    const worst = jobs.reduce((w, j) => (END_SEVERITY[j.endState!] > END_SEVERITY[w.endState!] ? j : w), jobs[0]!);
    const state = worst.endState!;
    const bad = jobs.filter((j) => j.endState !== 'succeeded');
    const reason = state === 'succeeded' ? undefined : `${bad.length} of ${n} seed job${n === 1 ? '' : 's'} did not succeed; seed job ${worst.index}: ${worst.endState}${worst.reason ? `: ${worst.reason}` : ''}`.slice(0, 2000);
    // The first seed job's artifacts stay where readers of one-job experiments look for them.
    const first = jobs[0]!.artifacts ?? {};
    const artifacts: Record<string, unknown> = {
      ...first,
      // per-job results are in each job's run.job_finished event
      seedJobs: jobs.map((j) => ({ index: j.index, seed: j.seed, jobId: j.jobId, state: j.endState, exitCode: j.exitCode })),
    };
    const exitCode = state === 'succeeded' ? (jobs.find((j) => j.exitCode !== undefined)?.exitCode) : worst.exitCode;
    const p = this.ledger.append('experiment.finished', SYSTEM, { experimentId, state, exitCode, reason: n === 1 && state !== 'succeeded' ? worst.reason : reason, artifacts });
    return p;
  }

  /** Synchronous claim for dispatch: returns false if someone else already claimed it. */
  claimForDispatch(experimentId: string, claims: Set<string>): boolean {
    const x = this.state.experiment(experimentId);
    if (!x || x.state !== 'approved' || claims.has(experimentId)) return false;
    claims.add(experimentId);
    return true;
  }

  async markRunning(experimentId: string, jobId: string): Promise<void> {
    const x = this.experimentOrThrow(experimentId);
    if (x.state !== 'dispatched') return;
    await this.ledger.append('experiment.running', SYSTEM, { experimentId, jobId });
  }

  async markFinished(
    experimentId: string,
    r: { state: 'succeeded' | 'failed' | 'cancelled' | 'timed_out'; exitCode?: number; reason?: string; artifacts?: Record<string, unknown> },
  ): Promise<void> {
    const x = this.experimentOrThrow(experimentId);
    if (x.state !== 'dispatched' && x.state !== 'running') {
      throw new DomainError('conflict', `${x.id} is ${x.state}; a finish was already recorded or it never ran`);
    }
    await this.ledger.append('experiment.finished', SYSTEM, { experimentId, ...r });
  }

  async requestCancel(actor: Actor, experimentId: string, reason?: string): Promise<void> {
    this.requireHuman(actor, 'cancel a run');
    const x = this.experimentOrThrow(experimentId);
    if (x.state !== 'dispatched' && x.state !== 'running' && x.state !== 'approved') {
      throw new DomainError('conflict', `${x.id} is ${x.state}; nothing to cancel`);
    }
    if (x.state === 'approved') {
      // Not yet dispatched: a veto is the way to stop it.
      await this.ledger.append('experiment.vetoed', actor, { experimentId, commit: x.commit, tree: x.tree, reason: reason || 'cancelled before dispatch' });
      return;
    }
    await this.ledger.append('experiment.cancel_requested', actor, { experimentId, reason });
  }

  async recordScore(
    actor: Actor,
    experimentId: string,
    s: { dataset: string; split: string; transferAcc: number; pgr: number | null; evalSeq: number; extra?: Record<string, unknown> },
  ): Promise<void> {
    if (actor.kind === 'agent') throw new DomainError('forbidden', 'agents may not record scores');
    const x = this.experimentOrThrow(experimentId);
    const ok = canTransition('experiment.scored', x.state, actor);
    if (ok !== true) throw ok;
    await this.ledger.append('experiment.scored', actor, { experimentId, ...s });
  }

  /**
   * A human accepts a result having seen it: a proposal that carried gaming or critical findings (or whose approval
   * overrode the policy's hard limits) ranks as verified only then. `falseAlarms` name the findings the human judged
   * wrong (each must be one of the proposal's findings) and why. A policy can never accept; a demoted result stays
   * unverified (acceptance lifts the acceptance requirement only).
   */
  /** A human moves x's replication jobs on the hidden transfer task ahead of agents' own jobs. */
  async raiseReplication(actor: Actor, experimentId: string): Promise<Experiment> {
    this.requireHuman(actor, 'raise a replication');
    const x = this.experimentOrThrow(experimentId);
    if (!this.state.replicationRequired(x)) throw new DomainError('conflict', `${x.id} does not replicate on a hidden transfer task (the fleet declares none, or it was approved before)`);
    if (x.replication?.raised) throw new DomainError('conflict', `the replication of ${x.id} was already raised by ${x.replication.raised.by}`);
    const rv = this.state.replicationVerdict(x);
    if (rv && rv.status !== 'pending' && rv.status !== 'running') throw new DomainError('conflict', `the replication of ${x.id} has ended (${rv.status.replace(/_/g, ' ')})`);
    await this.ledger.append('replication.raised', actor, { experimentId });
    return x;
  }

  async acceptResult(actor: Actor, experimentId: string, a: { reason: string; falseAlarms?: FalseAlarm[] }): Promise<Experiment> {
    this.requireHuman(actor, 'accept a result');
    const x = this.experimentOrThrow(experimentId);
    const reason = a.reason?.trim();
    if (!reason) throw new DomainError('invalid', 'accepting a result needs a reason (what you checked)');
    if (x.acceptance) throw new DomainError('conflict', `the result of ${x.id} was already accepted by ${x.acceptance.by.id}`);
    if (!x.acceptanceRequired?.length) throw new DomainError('conflict', `${x.id} does not need acceptance: its result ranks on its own`);
    if (x.state !== 'succeeded' && x.state !== 'scored') {
      throw new DomainError('conflict', `${x.id} is ${x.state}: a result is accepted after it is seen, once its run has succeeded`);
    }
    const findings = x.screening?.findings ?? [];
    const falseAlarms = (a.falseAlarms ?? []).map((f) => ({ ...f, why: String(f.why ?? '').trim() }));
    for (const f of falseAlarms) {
      if (!findings.some((q) => q.kind === f.kind && q.file === f.file && q.line === f.line)) {
        throw new DomainError('invalid', `${x.id} has no finding ${f.kind} at ${f.file}:${f.line}`);
      }
      if (!f.why) throw new DomainError('invalid', `say why ${f.kind} at ${f.file}:${f.line} is a false alarm`);
    }
    await this.ledger.append('experiment.result_accepted', actor, { experimentId, reason, falseAlarms });
    return this.experimentOrThrow(experimentId);
  }

  // ---------------------------------------------------------------- review

  async comment(
    actor: Actor,
    experimentId: string,
    c: { file: string; line: number; side?: 'base' | 'head'; body: string; inReplyTo?: string },
  ): Promise<ReviewComment> {
    const x = this.experimentOrThrow(experimentId);
    if (actor.kind === 'agent' && actor.id !== x.agentId) throw new DomainError('forbidden', 'agents may only reply on their own experiments');
    if (!c.body?.trim()) throw new DomainError('invalid', 'comment body is empty');
    if (!Number.isInteger(c.line) || c.line < 0) throw new DomainError('invalid', 'line must be a non-negative integer');
    if (c.inReplyTo && !this.state.comments.has(c.inReplyTo)) throw new DomainError('not_found', `no comment ${c.inReplyTo}`);
    const commentId = this.nextId('c', (i) => this.state.comments.has(i));
    await this.ledger.append('review.commented', actor, {
      commentId,
      experimentId,
      file: c.file,
      line: c.line,
      side: c.side ?? 'head',
      body: c.body,
      inReplyTo: c.inReplyTo,
    });
    return this.state.comments.get(commentId)!;
  }

  async markViewed(actor: Actor, experimentId: string, file: string, viewed: boolean): Promise<void> {
    this.requireHuman(actor, 'mark files as viewed');
    this.experimentOrThrow(experimentId);
    await this.ledger.append('review.file_viewed', actor, { experimentId, file, viewed });
  }

  // ---------------------------------------------------------------- forum

  async post(actor: Actor, p: PostInput): Promise<ForumPost> {
    if (actor.kind === 'agent') {
      const a = this.agentOrThrow(actor.id);
      if (a.status === 'paused') throw new DomainError('paused', `agent ${actor.id} is paused`);
    }
    const postId = this.nextId('f', (i) => this.state.posts.has(i));
    await this.ledger.append('forum.posted', actor, {
      postId,
      title: p.title || p.summary.slice(0, 80),
      summary: p.summary,
      findingType: p.findingType ?? 'result',
      ideaName: p.ideaName,
      runId: p.runId,
      commitId: p.commitId,
      metrics: p.metrics ?? {},
      config: p.config,
      ...(p.extra && Object.keys(p.extra).length ? { extra: p.extra } : {}),
    });
    return this.state.posts.get(postId)!;
  }

  private postOrThrow(id: string): ForumPost {
    const p = this.state.posts.get(id);
    if (!p) throw new DomainError('not_found', `no finding ${JSON.stringify(id)}`);
    return p;
  }

  async commentOnPost(actor: Actor, postId: string, content: string): Promise<void> {
    this.postOrThrow(postId);
    if (!content?.trim()) throw new DomainError('invalid', 'comment content is empty');
    const commentId = this.nextId('fc', () => false);
    await this.ledger.append('forum.commented', actor, { postId, commentId, content });
  }

  async vote(actor: Actor, postId: string, vote: 'up' | 'down'): Promise<number> {
    const p = this.postOrThrow(postId);
    if (p.author.kind === actor.kind && p.author.id === actor.id) throw new DomainError('forbidden', 'you may not vote on your own finding');
    await this.ledger.append('forum.voted', actor, { postId, vote });
    return this.state.posts.get(postId)!.score;
  }

  async forumVerdict(actor: Actor, postId: string, verdict: 'verified' | 'suspect' | 'retracted', note?: string): Promise<void> {
    this.requireHuman(actor, 'give verdicts on findings');
    this.postOrThrow(postId);
    await this.ledger.append('forum.verdict', actor, { postId, verdict, note: note || undefined });
  }
}
