// Adapters to modules other engineers own: screening (static import), evaluation and runner dispatch
// (loaded when present). The hub only depends on the small interfaces declared here.
import type { AnyEvent, EventData, EventType, LedgerEvent } from '../core/events';
import type { Actor, Experiment, ScreeningReport } from '../core/model';
import type { FleetService } from '../core/service';
import type { Sandbox } from '../git/sandbox';
import { screenProposal } from '../screening/screen';
import type { AiReviewOptions } from '../screening/aiReviewer';
import { EvaluationService, type Principal } from '../evaluation/service';
import type { LeaderboardQuery } from '../evaluation/leaderboard';
import { HttpError } from './errors';

/** The FleetService screening hook: diff base..pinned commit, file contents at the pinned commit. */
export function makeScreenHook(ai?: AiReviewOptions): (x: Experiment, sb: Sandbox) => Promise<ScreeningReport> {
  return async (x, sb) => {
    const { patch } = await sb.diffInProcess(x.baseCommit, x.commit, 4 * 1024 * 1024);
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
  evaluate(actor: Actor, body: Record<string, unknown>): Promise<Record<string, unknown>>;
  leaderboard(q: Record<string, unknown>): Record<string, unknown>;
  status(agentIds: string[]): Record<string, unknown>;
  final(actor: Actor, body: Record<string, unknown>): Promise<Record<string, unknown>>;
}

export interface EvaluationDeps {
  dataRoot: string;
  labelsRoot: string;
  append: <T extends EventType>(type: T, actor: Actor, data: EventData<T>) => Promise<LedgerEvent<T>>;
}

function principal(actor: Actor): Principal {
  if (actor.kind === 'system') throw new HttpError(403, 'forbidden', 'system principals do not evaluate');
  return { kind: actor.kind, id: actor.id };
}

/** Construct the EvaluationService (labels stay under <fleet>/labels, outside every sandbox). */
export function makeEvaluation(deps: EvaluationDeps): EvaluationLike {
  const svc = new EvaluationService({ dataRoot: deps.dataRoot, labelsRoot: deps.labelsRoot, append: deps.append });
  return {
    ingest: (e) => svc.ingest(e),
    evaluate: async (actor, body) => ({ ...(await svc.evaluate(principal(actor), body)) }),
    leaderboard: (q) => ({ ...svc.leaderboard(q as LeaderboardQuery) }),
    status: (agentIds) => ({ agents: agentIds.map((a) => svc.status(a)) }),
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

// A variable specifier keeps tsc and bundlers from requiring the module at build time; it is optional.
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
