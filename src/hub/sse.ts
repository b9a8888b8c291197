// Live ledger events as Server-Sent Events. A client resumes with `?after=SEQ` or `Last-Event-ID`:
// the hub subscribes to live events first (buffering), replays durable events from the ledger file, then
// drains the buffer skipping what the replay already sent, so no seq is missed or duplicated.
import type { ServerResponse } from 'node:http';
import type { AnyEvent } from '../core/events';
import type { Actor } from '../core/model';
import type { FleetService } from '../core/service';
import { HttpError } from './errors';
import type { Router } from './http';
import { eventsQuery } from './schemas';

/** Drop a client whose socket buffer exceeds this; it reconnects and resumes from its last id. */
const MAX_BUFFERED = 8 * 1024 * 1024;

const PUBLIC_TYPES = new Set(['fleet.created', 'forum.posted', 'forum.commented', 'forum.voted', 'forum.verdict']);
/** Never shown to agents even when about themselves: oversight information. */
const OVERSIGHT_TYPES = new Set([
  'experiment.screening_started',
  'experiment.screened',
  'review.file_viewed',
  'eval.probing_suspected',
  'auth.token_created',
  'auth.token_revoked',
  'fleet.agent_stats',
  'diversity.measured',
  // Held-out results are for humans only, even when they name an agent's experiment.
  'eval.final',
  // Replication on the hidden transfer task: humans only (core/replication.ts).
  'replication.configured',
  'replication.job_dispatched',
  'replication.job_finished',
  'replication.scored',
  'replication.raised',
]);

/** May this principal see this event? Humans: everything. Agents: public forum events and their own. */
export function visibleTo(actor: Actor, e: AnyEvent, service: FleetService): boolean {
  if (actor.kind !== 'agent') return true;
  if (PUBLIC_TYPES.has(e.type)) return true;
  if (OVERSIGHT_TYPES.has(e.type)) return false;
  const d = e.data as Record<string, unknown>;
  if (typeof d.agentId === 'string') return d.agentId === actor.id;
  if (typeof d.experimentId === 'string') return service.state.experiment(d.experimentId)?.agentId === actor.id;
  return false;
}

export interface SseOptions {
  heartbeatMs: number;
}

export class SseHub {
  private readonly clients = new Set<ServerResponse>();

  constructor(
    private readonly service: FleetService,
    private readonly opts: SseOptions,
  ) {}

  get size(): number {
    return this.clients.size;
  }

  register(r: Router): void {
    r.route('GET', '/api/events', { query: eventsQuery }, async ({ actor, query, req, reply }) => {
      const header = req.headers['last-event-id'];
      let after = query.after ?? 0;
      if (typeof header === 'string' && header.trim() !== '') {
        if (!/^\d{1,15}$/.test(header.trim())) throw new HttpError(400, 'invalid', 'Last-Event-ID must be a ledger seq');
        after = Math.max(after, Number(header.trim()));
      }
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      res.write(`retry: 1000\n: ledger seq ${this.service.ledger.lastSeq}\n\n`);
      this.clients.add(res);
      let lastSent = after;
      let live = false;
      const buffer: AnyEvent[] = [];
      const send = (e: AnyEvent) => {
        if (e.seq <= lastSent) return;
        lastSent = e.seq;
        if (!visibleTo(actor, e, this.service)) return;
        res.write(`id: ${e.seq}\nevent: ledger\ndata: ${JSON.stringify(e)}\n\n`);
        if (res.writableLength > MAX_BUFFERED) res.destroy();
      };
      const unsubscribe = this.service.onEvent((e) => (live ? send(e) : buffer.push(e)));
      const hb = setInterval(() => res.write(`: hb ${Date.now()}\n\n`), this.opts.heartbeatMs);
      hb.unref();
      const cleanup = () => {
        clearInterval(hb);
        unsubscribe();
        this.clients.delete(res);
      };
      res.on('close', cleanup);
      res.on('error', cleanup);
      try {
        const replay = await this.service.ledger.readAfter(after);
        for (const e of replay) {
          if (res.destroyed) break;
          send(e);
        }
      } catch {
        res.destroy();
        return;
      }
      for (const e of buffer) send(e);
      buffer.length = 0;
      live = true;
    });
  }

  /** End every open stream (hub shutdown). */
  closeAll(): void {
    for (const c of this.clients) c.end();
    this.clients.clear();
  }
}
