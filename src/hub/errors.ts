// Mapping of every error the hub can meet to a JSON body `{"error": {"code", "message"}}` and a status.
// Bad input is always 4xx; only genuine faults are 5xx.
import { ZodError } from 'zod';
import { EventValidationError } from '../core/events';
import { DomainError } from '../core/lifecycle';
import { GitInputError } from '../git/sandbox';
import { AuthError } from './auth';
import { EvalError } from '../evaluation/service';
import { DatasetError } from '../evaluation/datasets';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const unauthorized = () => new HttpError(401, 'unauthorized', 'missing or invalid bearer token (Authorization: Bearer <token>)');
export const forbidden = (msg: string) => new HttpError(403, 'forbidden', msg);
export const notFound = (msg: string) => new HttpError(404, 'not_found', msg);
export const badRequest = (msg: string) => new HttpError(400, 'invalid', msg);

export function zodMessage(err: ZodError, where: string): string {
  return err.issues
    .slice(0, 10)
    .map((i) => {
      const p = i.path.length ? i.path.join('.') : where;
      if (i.code === 'unrecognized_keys') return `${where}: unknown field${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => JSON.stringify(k)).join(', ')}`;
      return `${p}: ${i.message}`;
    })
    .join('; ');
}

const FASTIFY_CODES: Record<string, [number, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'payload_too_large'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported_media_type'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'invalid'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'invalid'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'invalid_json'],
  FST_ERR_BAD_URL: [400, 'invalid'],
  FST_ERR_ASYNC_CONSTRAINT: [400, 'invalid'],
  FST_ERR_MAX_PARAM_LENGTH: [414, 'uri_too_long'],
};

/** Messages for framework errors whose own message would echo (hostile) request text back. */
const FASTIFY_MESSAGES: Record<string, string> = {
  FST_ERR_MAX_PARAM_LENGTH: 'a path segment is longer than the hub accepts',
  FST_ERR_BAD_URL: 'the request URL is malformed',
  FST_ERR_CTP_BODY_TOO_LARGE: 'request body is too large (far over the limit, so it was not read to name the field)',
};

/** The JSON path and UTF-8 size of the largest string or value in a parsed body (for a 413 that names the field). */
export function largestField(value: unknown, at = ''): { field: string; bytes: number } | undefined {
  let best: { field: string; bytes: number } | undefined;
  const visit = (v: unknown, p: string, depth: number) => {
    if (typeof v === 'string') {
      const bytes = Buffer.byteLength(v, 'utf8');
      if (!best || bytes > best.bytes) best = { field: p || 'body', bytes };
    } else if (v && typeof v === 'object' && depth < 8) {
      const entries = Array.isArray(v) ? v.map((x, i) => [String(i), x] as const) : Object.entries(v);
      let total = 0;
      for (const [k, x] of entries) {
        visit(x, p ? `${p}.${k}` : k, depth + 1);
        total++;
        if (total > 10_000) break;
      }
      // A big list of small items: the list is the field.
      if (Array.isArray(v) && p) {
        const bytes = Buffer.byteLength(JSON.stringify(v), 'utf8');
        if (!best || bytes > best.bytes * 2) best = { field: p, bytes };
      }
    }
  };
  visit(value, at, 0);
  return best;
}

/** 413 for a body over `limit` bytes, naming its largest field when the body could be read. */
export function payloadTooLarge(limit: number, size: number, found?: { field: string; bytes: number }): HttpError {
  const field = found ? /^[A-Za-z0-9_.\-]{1,200}$/.test(found.field) ? found.field : 'a field' : undefined;
  return new HttpError(
    413,
    'payload_too_large',
    `request body is ${size.toLocaleString('en-US')} bytes, over the ${limit.toLocaleString('en-US')}-byte limit${field ? `; field ${JSON.stringify(field)} alone is ${found!.bytes.toLocaleString('en-US')} bytes` : ''}`,
    field ? { field, fieldBytes: found!.bytes, limitBytes: limit } : { limitBytes: limit },
  );
}

export function toHttp(err: unknown): { status: number; body: { error: { code: string; message: string; details?: Record<string, unknown> } } } {
  const mk = (status: number, code: string, message: string, details?: Record<string, unknown>) => ({
    status,
    body: { error: details ? { code, message, details } : { code, message } },
  });
  if (err instanceof HttpError) return mk(err.status, err.code, err.message, err.details);
  if (err instanceof DomainError) return mk(err.status, err.code, err.message, err.details);
  if (err instanceof EvalError) return mk(err.status, err.code, err.message);
  if (err instanceof ZodError) return mk(400, 'invalid', zodMessage(err, 'body'));
  if (err instanceof GitInputError || err instanceof EventValidationError || err instanceof AuthError || err instanceof DatasetError) return mk(400, 'invalid', err.message);
  const e = err as { statusCode?: number; code?: string; message?: string };
  if (e && typeof e.code === 'string' && FASTIFY_CODES[e.code]) {
    const [s, c] = FASTIFY_CODES[e.code]!;
    return mk(s, c, FASTIFY_MESSAGES[e.code] ?? e.message ?? c);
  }
  if (e && typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return mk(e.statusCode, typeof e.code === 'string' ? e.code.toLowerCase() : 'invalid', e.message ?? 'bad request');
  }
  return mk(500, 'internal', 'internal error');
}
