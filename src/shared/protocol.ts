// Typed webview <-> host messaging, shared by both sides. No vscode, no DOM.
// A surface defines its requests (replied to, matched by id) and notifications (fire and forget) once,
// and both ends use the same definitions, so a renamed method or changed payload fails to typecheck.
// The webview sends `ready` first; the host pushes state only after it (a panel created hidden or
// reloaded would otherwise miss the first push).

export interface RequestType<P, R> {
  readonly kind: 'request';
  readonly method: string;
  /** Checks (and narrows) params arriving from the other side; throws ProtocolError on bad input. */
  readonly validate: (params: unknown) => P;
  /** Phantom field carrying the result type; never set. */
  readonly _result?: R;
}

export interface NotificationType<P> {
  readonly kind: 'notification';
  readonly method: string;
  readonly validate: (params: unknown) => P;
}

export type ParamsOf<T> = T extends RequestType<infer P, unknown> ? P : T extends NotificationType<infer P> ? P : never;
export type ResultOf<T> = T extends RequestType<unknown, infer R> ? R : never;

export class ProtocolError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}

const METHOD_RE = /^[a-z][A-Za-z0-9]*\/[a-z][A-Za-z0-9]*$|^ready$/;

function checkMethod(method: string): void {
  if (!METHOD_RE.test(method)) throw new Error(`invalid protocol method name ${JSON.stringify(method)} (use surface/verbNoun)`);
}

export function defineRequest<P, R>(method: string, validate: (params: unknown) => P = (p) => p as P): RequestType<P, R> {
  checkMethod(method);
  return { kind: 'request', method, validate };
}

export function defineNotification<P>(method: string, validate: (params: unknown) => P = (p) => p as P): NotificationType<P> {
  checkMethod(method);
  return { kind: 'notification', method, validate };
}

// ------------------------------------------------------------------ wire messages

export interface RequestMessage {
  t: 'req';
  id: number;
  method: string;
  params: unknown;
}
export interface ResponseMessage {
  t: 'res';
  id: number;
  ok: boolean;
  result?: unknown;
  error?: { code: string; message: string };
}
export interface NotificationMessage {
  t: 'note';
  method: string;
  params: unknown;
}
export type WireMessage = RequestMessage | ResponseMessage | NotificationMessage;

function isObj(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

export function isRequestMessage(m: unknown): m is RequestMessage {
  return isObj(m) && m.t === 'req' && Number.isSafeInteger(m.id) && typeof m.method === 'string';
}
export function isResponseMessage(m: unknown): m is ResponseMessage {
  return isObj(m) && m.t === 'res' && Number.isSafeInteger(m.id) && typeof m.ok === 'boolean';
}
export function isNotificationMessage(m: unknown): m is NotificationMessage {
  return isObj(m) && m.t === 'note' && typeof m.method === 'string';
}

/** `is()` guard: does a raw message carry this request/notification? */
export function is<T extends RequestType<unknown, unknown> | NotificationType<unknown>>(
  type: T,
  m: unknown,
): m is T extends RequestType<unknown, unknown> ? RequestMessage : NotificationMessage {
  if (type.kind === 'request') return isRequestMessage(m) && m.method === type.method;
  return isNotificationMessage(m) && m.method === type.method;
}

/** The handshake every webview sends once its script has loaded and its listeners are installed. */
export const Ready = defineNotification<{ surface: string }>('ready', (p) => {
  const o = obj(p);
  return { surface: str(o.surface, 'surface', 64) };
});

// ------------------------------------------------------------------ endpoint (used by host and webview)

type Handler = (params: unknown) => unknown;

export interface EndpointOptions {
  /** Reply timeout for outgoing requests (ms). */
  timeoutMs?: number;
  onError?: (err: unknown) => void;
}

/**
 * One side of the conversation. `post` sends a message to the other side; feed every message received
 * into `handle()`. Unknown methods, malformed messages and params that fail validation are answered with
 * an error (requests) or dropped (notifications) — never thrown into the message loop.
 */
export class Endpoint {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer?: ReturnType<typeof setTimeout> }>();
  private readonly requestHandlers = new Map<string, { type: RequestType<unknown, unknown>; fn: Handler }>();
  private readonly notificationHandlers = new Map<string, { type: NotificationType<unknown>; fns: Set<Handler> }>();

  constructor(
    private readonly post: (m: WireMessage) => void,
    private readonly opts: EndpointOptions = {},
  ) {}

  onRequest<P, R>(type: RequestType<P, R>, fn: (params: P) => R | Promise<R>): () => void {
    this.requestHandlers.set(type.method, { type: type as RequestType<unknown, unknown>, fn: fn as Handler });
    return () => this.requestHandlers.delete(type.method);
  }

  onNotification<P>(type: NotificationType<P>, fn: (params: P) => void): () => void {
    let h = this.notificationHandlers.get(type.method);
    if (!h) this.notificationHandlers.set(type.method, (h = { type: type as NotificationType<unknown>, fns: new Set() }));
    h.fns.add(fn as Handler);
    return () => h!.fns.delete(fn as Handler);
  }

  request<P, R>(type: RequestType<P, R>, params: P): Promise<R> {
    const id = this.nextId++;
    return new Promise<R>((resolve, reject) => {
      const entry: { resolve: (v: unknown) => void; reject: (e: Error) => void; timer?: ReturnType<typeof setTimeout> } = {
        resolve: resolve as (v: unknown) => void,
        reject,
      };
      if (this.opts.timeoutMs) {
        entry.timer = setTimeout(() => {
          this.pending.delete(id);
          reject(new ProtocolError('timeout', `${type.method} got no reply within ${this.opts.timeoutMs} ms`));
        }, this.opts.timeoutMs);
      }
      this.pending.set(id, entry);
      this.post({ t: 'req', id, method: type.method, params });
    });
  }

  notify<P>(type: NotificationType<P>, params: P): void {
    this.post({ t: 'note', method: type.method, params });
  }

  /** Feed one received message. Returns true if it was a protocol message. */
  handle(m: unknown): boolean {
    if (isResponseMessage(m)) {
      const p = this.pending.get(m.id);
      if (!p) return true;
      this.pending.delete(m.id);
      if (p.timer) clearTimeout(p.timer);
      if (m.ok) p.resolve(m.result);
      else p.reject(new ProtocolError(String(m.error?.code ?? 'error'), String(m.error?.message ?? 'request failed')));
      return true;
    }
    if (isRequestMessage(m)) {
      void this.answer(m);
      return true;
    }
    if (isNotificationMessage(m)) {
      const h = this.notificationHandlers.get(m.method);
      if (!h) return true;
      let params: unknown;
      try {
        params = h.type.validate(m.params);
      } catch (err) {
        this.opts.onError?.(err);
        return true;
      }
      for (const fn of h.fns) {
        try {
          fn(params);
        } catch (err) {
          this.opts.onError?.(err);
        }
      }
      return true;
    }
    return false;
  }

  private async answer(m: RequestMessage): Promise<void> {
    const h = this.requestHandlers.get(m.method);
    if (!h) {
      this.post({ t: 'res', id: m.id, ok: false, error: { code: 'unknown_method', message: `unknown method ${String(m.method).slice(0, 80)}` } });
      return;
    }
    try {
      const params = h.type.validate(m.params);
      const result = await h.fn(params);
      this.post({ t: 'res', id: m.id, ok: true, result });
    } catch (err) {
      const e = err as { code?: unknown; message?: unknown };
      this.post({
        t: 'res',
        id: m.id,
        ok: false,
        error: { code: typeof e?.code === 'string' ? e.code : 'error', message: typeof e?.message === 'string' ? e.message : String(err) },
      });
    }
  }

  /** Reject every outstanding request (panel disposed). */
  dispose(): void {
    for (const [, p] of this.pending) {
      if (p.timer) clearTimeout(p.timer);
      p.reject(new ProtocolError('disposed', 'the other side went away'));
    }
    this.pending.clear();
  }
}

// ------------------------------------------------------------------ small validators (no zod in webview bundles)

export function obj(x: unknown, what = 'params'): Record<string, unknown> {
  if (!isObj(x)) throw new ProtocolError('invalid', `${what} must be an object`);
  return x;
}

export function str(x: unknown, what: string, max = 10_000, { allowEmpty = false } = {}): string {
  if (typeof x !== 'string') throw new ProtocolError('invalid', `${what} must be a string`);
  if (!allowEmpty && !x.trim()) throw new ProtocolError('invalid', `${what} must not be empty`);
  if (x.length > max) throw new ProtocolError('invalid', `${what} is longer than ${max} characters`);
  return x;
}

export function optStr(x: unknown, what: string, max = 10_000): string | undefined {
  return x === undefined || x === null || x === '' ? undefined : str(x, what, max);
}

export function int(x: unknown, what: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof x !== 'number' || !Number.isInteger(x) || x < min || x > max) throw new ProtocolError('invalid', `${what} must be an integer in [${min}, ${max}]`);
  return x;
}

export function oneOf<T extends string>(x: unknown, what: string, values: readonly T[]): T {
  if (typeof x !== 'string' || !(values as readonly string[]).includes(x)) throw new ProtocolError('invalid', `${what} must be one of ${values.join(', ')}`);
  return x as T;
}

export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const SHA_PATTERN = /^[0-9a-f]{40}$/;

export function id(x: unknown, what: string): string {
  if (typeof x !== 'string' || !ID_PATTERN.test(x)) throw new ProtocolError('invalid', `${what} must be an id (letters, digits, . _ -)`);
  return x;
}

export function sha(x: unknown, what: string): string {
  if (typeof x !== 'string' || !SHA_PATTERN.test(x)) throw new ProtocolError('invalid', `${what} must be a full 40-hex SHA`);
  return x;
}

/** Host -> webview: the state could not be loaded at all (the webview shows the message as text). */
export const ShowError = defineNotification<{ message: string }>('view/error', (p) => ({ message: str(obj(p).message, 'message', 10_000) }));
/** Host -> webview: a transient notice (e.g. "approved exp-12"), shown as text. */
export const ShowNotice = defineNotification<{ message: string; kind: 'info' | 'error' }>('view/notice', (p) => {
  const o = obj(p);
  return { message: str(o.message, 'message', 10_000), kind: oneOf(o.kind, 'kind', ['info', 'error'] as const) };
});
