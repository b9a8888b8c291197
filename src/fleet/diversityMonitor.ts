// Records fleet diversity periodically as `diversity.measured` events, next to a FleetService (embedded hub,
// standalone hub, demo). Measures after every `everyDocs` new proposals/posts, and at most once per `minIntervalMs`.
import { SYSTEM } from '../core/model';
import type { FleetService } from '../core/service';
import { computeDiversity, diversityEventData, type DiversityOptions, type DiversityReport } from './diversity';

export interface DiversityMonitorOptions extends DiversityOptions {
  everyDocs?: number;
  minIntervalMs?: number;
  onWarning?: (msg: string) => void;
  now?: () => number;
}

export interface DiversityMonitor {
  /** Measure and record now (if anything changed since the last record). */
  measure(): Promise<DiversityReport | undefined>;
  stop(): void;
  /** Resolves when any in-flight record has been appended. */
  idle(): Promise<void>;
}

export function startDiversityMonitor(service: FleetService, opts: DiversityMonitorOptions = {}): DiversityMonitor {
  const everyDocs = Math.max(1, opts.everyDocs ?? 5);
  const minIntervalMs = opts.minIntervalMs ?? 0;
  const now = opts.now ?? Date.now;
  let pending = 0;
  let lastAt = -Infinity;
  let lastDocs = -1;
  let inflight: Promise<unknown> = Promise.resolve();
  let stopped = false;

  const measure = async (): Promise<DiversityReport | undefined> => {
    const report = computeDiversity(service.state, opts);
    if (report.documents === lastDocs || report.documents === 0) return undefined;
    lastDocs = report.documents;
    lastAt = now();
    pending = 0;
    await service.append('diversity.measured', SYSTEM, { data: diversityEventData(report) });
    return report;
  };

  const off = service.onEvent((e) => {
    if (stopped || (e.type !== 'experiment.proposed' && e.type !== 'forum.posted')) return;
    if (e.type === 'forum.posted' && e.actor.kind !== 'agent') return;
    pending++;
    if (pending >= everyDocs && now() - lastAt >= minIntervalMs) {
      pending = 0;
      inflight = inflight
        .then(() => (stopped ? undefined : measure()))
        .catch((err) => opts.onWarning?.(`diversity measurement failed: ${(err as Error).message}`));
    }
  });

  return {
    measure: () => {
      const p = inflight.then(() => measure());
      inflight = p.catch(() => undefined);
      return p;
    },
    stop: () => {
      stopped = true;
      off();
    },
    idle: async () => {
      await inflight;
    },
  };
}
