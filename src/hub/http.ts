// Route plumbing: authentication before the body is read, zod validation of params/query/body,
// uniform JSON errors.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Actor } from '../core/model';
import type { TokenStore } from './auth';
import { HttpError, forbidden, unauthorized, zodMessage } from './errors';

declare module 'fastify' {
  interface FastifyRequest {
    actor?: Actor;
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
  req: FastifyRequest;
  reply: FastifyReply;
}

function parse<T extends z.ZodType>(schema: T | undefined, value: unknown, where: string): z.infer<T> {
  if (!schema) return undefined as z.infer<T>;
  const r = schema.safeParse(value ?? {});
  if (!r.success) throw new HttpError(400, 'invalid', zodMessage(r.error, where));
  return r.data;
}

export function authHook(tokens: TokenStore) {
  return async (req: FastifyRequest): Promise<void> => {
    const actor = tokens.authenticate(req.headers.authorization);
    if (!actor) throw unauthorized();
    req.actor = actor;
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
        const out = await handler({ actor, params, query, body, req, reply } as RouteArgs<z.infer<P>, z.infer<Q>, z.infer<B>>);
        if (reply.sent) return reply;
        return out;
      },
    });
  }
}
