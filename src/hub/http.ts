// Route plumbing: authentication before the body is read, zod validation of params/query/body,
// uniform JSON errors.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Actor } from '../core/model';
import type { TokenScope, TokenStore } from './auth';
import { HttpError, forbidden, unauthorized, zodMessage } from './errors';

declare module 'fastify' {
  interface FastifyRequest {
    actor?: Actor;
    /** Set when the request was made with a job-scoped token. */
    tokenScope?: TokenScope;
  }
}

export type Who = 'any' | 'human';

export interface RouteSpec<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType> {
  who?: Who;
  params?: P;
  query?: Q;
  body?: B;
}

export interface RouteArgs<P, Q, B> {
  actor: Actor;
  params: P;
  query: Q;
  body: B;
  /** The scope of a job token (the only routes it reaches are SCOPED_ROUTES). */
  scope?: TokenScope;
  req: FastifyRequest;
  reply: FastifyReply;
}

function parse<T extends z.ZodType>(schema: T | undefined, value: unknown, where: string): z.infer<T> {
  if (!schema) return undefined as z.infer<T>;
  const r = schema.safeParse(value ?? {});
  if (!r.success) throw new HttpError(400, 'invalid', zodMessage(r.error, where));
  return r.data;
}

/** What a job-scoped token (OVERSEER_TOKEN of a run) may call: evaluate predictions, read its own experiment,
 * share findings. Everything else (propose, vote, comments, MCP, SSE, ...) is refused with 403. */
export const SCOPED_ROUTES: ReadonlySet<string> = new Set([
  'POST /api/evaluate-predictions',
  'GET /api/experiments/:id',
  'POST /api/findings/share',
  'GET /api/config', // AAR's is_server_available probe from inside a run (names only)
]);

function checkScope(req: FastifyRequest, scope: TokenScope): void {
  const route = `${req.method} ${req.routeOptions?.url ?? ''}`;
  const what = `this token is scoped to the run of experiment ${scope.experimentId}: it may only evaluate predictions, read that experiment and share findings`;
  if (!SCOPED_ROUTES.has(route)) throw forbidden(`${what} (not ${req.method} ${req.routeOptions?.url ?? req.url.split('?')[0]})`);
  if (route === 'GET /api/experiments/:id' && (req.params as { id?: unknown } | undefined)?.id !== scope.experimentId) {
    throw forbidden(`${what}; it may not read another experiment`);
  }
}

export function authHook(tokens: TokenStore) {
  return async (req: FastifyRequest): Promise<void> => {
    const a = tokens.authenticateScoped(req.headers.authorization);
    if (!a) throw unauthorized();
    if (a.scope) checkScope(req, a.scope);
    req.actor = a.actor;
    req.tokenScope = a.scope;
  };
}

export class Router {
  constructor(
    private readonly app: FastifyInstance,
    private readonly tokens: TokenStore,
  ) {}

  route<P extends z.ZodType = z.ZodUndefined, Q extends z.ZodType = z.ZodUndefined, B extends z.ZodType = z.ZodUndefined>(
    method: 'GET' | 'POST',
    url: string,
    spec: RouteSpec<P, Q, B>,
    handler: (a: RouteArgs<z.infer<P>, z.infer<Q>, z.infer<B>>) => Promise<unknown> | unknown,
  ): void {
    const who = spec.who ?? 'any';
    this.app.route({
      method,
      url,
      onRequest: authHook(this.tokens),
      handler: async (req, reply) => {
        const actor = req.actor!;
        if (who === 'human' && actor.kind !== 'human') throw forbidden(`only a human may ${method} ${url}`);
        const params = parse(spec.params, req.params, 'path');
        const query = parse(spec.query, req.query, 'query');
        const body = parse(spec.body, req.body, 'body');
        const out = await handler({ actor, params, query, body, scope: req.tokenScope, req, reply } as RouteArgs<z.infer<P>, z.infer<Q>, z.infer<B>>);
        if (reply.sent) return reply;
        return out;
      },
    });
  }
}
