// Adapters to modules other engineers own: screening (static import), evaluation and runner dispatch
// (loaded when present). The hub only depends on the small interfaces declared here.
import type { AnyEvent, EventData, EventType, LedgerEvent } from '../core/events';
import type { Actor, Experiment, ScreeningReport } from '../core/model';
import type { FleetService } from '../core/service';
import type { Sandbox } from '../git/sandbox';
import { screenProposal } from '../screening/screen';
import type { AiReviewOptions } from '../screening/aiReviewer';

/** The FleetService screening hook: diff base..pinned commit, file contents at the pinned commit. */
export function makeScreenHook(ai?: AiReviewOptions): (x: Experiment, sb: Sandbox) => Promise<ScreeningReport> {
  return async (x, sb) => {
    const { patch } = await sb.diff(x.baseCommit, x.commit, undefined, 4 * 1024 * 1024);
    return screenProposal({
      diff: patch,
      files: async (p) => (await sb.fileAt(x.commit, p))?.toString('utf8'),
      command: x.command,
      taskMode: x.taskMode,
      title: x.title,
      rationale: x.rationale,
      ai,
    });
  };
}

/** What the hub needs from the evaluation service (src/evaluation/service.ts). */
export interface EvaluationLike {
  ingest(e: AnyEvent): void;
  evaluate(actor: Actor, body: Record<string, unknown>): Promise<Record<string, unknown>> | Record<string, unknown>;
  leaderboard(q: Record<string, unknown>): Promise<Record<string, unknown>> | Record<string, unknown>;
  status?(): Promise<Record<string, unknown>> | Record<string, unknown>;
  final?(actor: Actor, body: Record<string, unknown>): Promise<Record<string, unknown>> | Record<string, unknown>;
  close?(): Promise<void> | void;
}

export interface EvaluationDeps {
  dataRoot: string;
  labelsRoot: string;
  append: <T extends EventType>(type: T, actor: Actor, data: EventData<T>) => Promise<LedgerEvent<T>>;
  service: FleetService;
}

// A variable specifier keeps tsc and bundlers from requiring the module at build time; it is optional.
const EVALUATION_MODULE = '../evaluation/service';
const DISPATCHER_MODULE = '../runners/dispatcher';

async function tryImport(spec: string): Promise<Record<string, unknown> | undefined> {
  try {
    return (await import(spec)) as Record<string, unknown>;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return undefined;
    throw err;
  }
}

type AnyFn = (...a: unknown[]) => unknown;

/** Load and construct the EvaluationService if its module exists; adapts its method names. */
export async function loadEvaluation(deps: EvaluationDeps): Promise<EvaluationLike | undefined> {
  const mod = await tryImport(EVALUATION_MODULE);
  const Ctor = mod?.EvaluationService as (new (o: Record<string, unknown>) => Record<string, unknown>) | undefined;
  if (typeof Ctor !== 'function') return undefined;
  const svc = new Ctor({ dataRoot: deps.dataRoot, labelsRoot: deps.labelsRoot, append: deps.append });
  const pick = (...names: string[]): AnyFn | undefined => {
    for (const n of names) if (typeof svc[n] === 'function') return (svc[n] as AnyFn).bind(svc);
    return undefined;
  };
  const ingest = pick('ingest');
  const evaluate = pick('evaluatePredictions', 'evaluate');
  const leaderboard = pick('leaderboard', 'getLeaderboard');
  if (!ingest || !evaluate || !leaderboard) return undefined;
  const status = pick('status', 'getStatus');
  const final = pick('finalEvaluation', 'final', 'evaluateFinal');
  const close = pick('close');
  return {
    ingest: (e) => void ingest(e),
    evaluate: (actor, body) => evaluate(actor, body) as Record<string, unknown>,
    leaderboard: (q) => leaderboard(q) as Record<string, unknown>,
    status: status ? () => status() as Record<string, unknown> : undefined,
    final: final ? (actor, body) => final(actor, body) as Record<string, unknown> : undefined,
    close: close ? async () => void (await close()) : undefined,
  };
}

export interface DispatcherHandle {
  stop(): Promise<void> | void;
}

/** Start the runner dispatcher if its module exists; returns a handle to stop it. */
export async function loadDispatcher(service: FleetService, fleetConfig: Record<string, unknown>): Promise<DispatcherHandle | undefined> {
  const mod = await tryImport(DISPATCHER_MODULE);
  const start = mod?.startDispatcher as ((s: FleetService, c: Record<string, unknown>) => unknown) | undefined;
  if (typeof start !== 'function') return undefined;
  const h = (await start(service, fleetConfig)) as Record<string, unknown> | (() => unknown) | undefined;
  if (typeof h === 'function') return { stop: async () => void (await h()) };
  for (const n of ['stop', 'close', 'dispose']) {
    const f = h?.[n];
    if (typeof f === 'function') return { stop: async () => void (await (f as AnyFn).call(h)) };
  }
  return { stop: () => undefined };
}
