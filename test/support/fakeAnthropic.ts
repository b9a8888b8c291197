// A loopback HTTP server that speaks enough of the Anthropic Messages API for the real @anthropic-ai/sdk to talk
// to it (point the client's baseURL at `url`). A script decides each reply:
//   - return a message body (partial is fine: defaults fill id/model/role/stop_reason/usage), e.g. from
//     toolUseMessage(...) or textMessage(...);
//   - or return httpReply(status, body, headers) for errors (529 overloaded, 500, 429 ...) or raw bodies.
// Streaming requests (`stream: true`) get the message replayed as server-sent events.
// Every request is recorded (method, path, headers, parsed body) in `requests`.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** Parsed JSON body (undefined if empty or not JSON). */
  body: any;
  rawBody: string;
  /** 0-based index of this request. */
  index: number;
}

export interface FakeUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}

export type FakeContentBlock =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id?: string; name: string; input: unknown }
  | { type: 'thinking'; thinking: string; signature?: string };

export interface FakeMessage {
  id?: string;
  type?: 'message';
  role?: 'assistant';
  model?: string;
  content: FakeContentBlock[];
  stop_reason?: 'end_turn' | 'tool_use' | 'max_tokens' | 'stop_sequence' | 'refusal' | null;
  stop_sequence?: string | null;
  usage?: Partial<FakeUsage>;
}

const HTTP_REPLY = Symbol('httpReply');

export interface HttpReply {
  [HTTP_REPLY]: true;
  status: number;
  body: unknown;
  headers: Record<string, string>;
  /** Delay before answering (ms), e.g. to trigger client timeouts. */
  delayMs: number;
}

export type FakeReply = FakeMessage | HttpReply;
export type FakeScript = (req: FakeRequest) => FakeReply | Promise<FakeReply>;

export interface FakeAnthropic {
  /** Base URL to give the SDK (`new Anthropic({ baseURL: url })`). */
  url: string;
  requests: FakeRequest[];
  close: () => Promise<void>;
}

export function httpReply(status: number, body: unknown, headers: Record<string, string> = {}, delayMs = 0): HttpReply {
  return { [HTTP_REPLY]: true, status, body, headers, delayMs };
}

/** An API error in Anthropic's shape; `retry-after-ms: 1` keeps SDK retries fast in tests. */
export function apiError(status: number, type = status === 529 ? 'overloaded_error' : status === 429 ? 'rate_limit_error' : 'api_error', message = type): HttpReply {
  return httpReply(status, { type: 'error', error: { type, message } }, { 'retry-after-ms': '1' });
}

/** Wait `delayMs` before sending `reply` (to exercise client timeouts). */
export function delayed(reply: FakeReply, delayMs: number): HttpReply {
  if (isHttpReply(reply)) return { ...reply, delayMs };
  return httpReply(200, reply, {}, delayMs);
}

export function isHttpReply(r: unknown): r is HttpReply {
  return typeof r === 'object' && r !== null && (r as Record<symbol, unknown>)[HTTP_REPLY] === true;
}

export function textMessage(text: string, usage: Partial<FakeUsage> = {}): FakeMessage {
  return { content: [{ type: 'text', text }], stop_reason: 'end_turn', usage };
}

export function toolUseMessage(name: string, input: unknown, usage: Partial<FakeUsage> = {}, text?: string): FakeMessage {
  const content: FakeContentBlock[] = [];
  if (text) content.push({ type: 'text', text });
  content.push({ type: 'tool_use', name, input });
  return { content, stop_reason: 'tool_use', usage };
}

let counter = 0;
function fakeId(prefix: string): string {
  counter++;
  return `${prefix}_fake${String(counter).padStart(6, '0')}`;
}

function completeMessage(m: FakeMessage, req: FakeRequest): Record<string, unknown> {
  return {
    id: m.id ?? fakeId('msg'),
    type: 'message',
    role: 'assistant',
    model: m.model ?? (typeof req.body?.model === 'string' ? req.body.model : 'claude-fake'),
    content: m.content.map((b) => (b.type === 'tool_use' ? { type: 'tool_use', id: b.id ?? fakeId('toolu'), name: b.name, input: b.input } : b)),
    stop_reason: m.stop_reason === undefined ? (m.content.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn') : m.stop_reason,
    stop_sequence: m.stop_sequence ?? null,
    usage: {
      input_tokens: m.usage?.input_tokens ?? 0,
      output_tokens: m.usage?.output_tokens ?? 0,
      cache_creation_input_tokens: m.usage?.cache_creation_input_tokens ?? null,
      cache_read_input_tokens: m.usage?.cache_read_input_tokens ?? null,
    },
  };
}

function sse(res: http.ServerResponse, event: string, data: unknown): void {
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

function streamMessage(res: http.ServerResponse, msg: Record<string, any>): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'request-id': fakeId('req') });
  const usage = msg.usage;
  sse(res, 'message_start', { type: 'message_start', message: { ...msg, content: [], stop_reason: null, usage: { ...usage, output_tokens: 0 } } });
  (msg.content as any[]).forEach((b, index) => {
    if (b.type === 'text') {
      sse(res, 'content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
      sse(res, 'content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: b.text } });
    } else if (b.type === 'tool_use') {
      sse(res, 'content_block_start', { type: 'content_block_start', index, content_block: { type: 'tool_use', id: b.id, name: b.name, input: {} } });
      sse(res, 'content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: JSON.stringify(b.input) } });
    } else if (b.type === 'thinking') {
      sse(res, 'content_block_start', { type: 'content_block_start', index, content_block: { type: 'thinking', thinking: '', signature: '' } });
      sse(res, 'content_block_delta', { type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking: b.thinking } });
      sse(res, 'content_block_delta', { type: 'content_block_delta', index, delta: { type: 'signature_delta', signature: b.signature ?? 'fake' } });
    }
    sse(res, 'content_block_stop', { type: 'content_block_stop', index });
  });
  sse(res, 'message_delta', { type: 'message_delta', delta: { stop_reason: msg.stop_reason, stop_sequence: msg.stop_sequence }, usage: { output_tokens: usage.output_tokens } });
  sse(res, 'message_stop', { type: 'message_stop' });
  res.end();
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json', 'request-id': fakeId('req'), ...headers });
  res.end(text);
}

export async function startFakeAnthropic(script: FakeScript): Promise<FakeAnthropic> {
  const requests: FakeRequest[] = [];
  const sockets = new Set<import('node:net').Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const rawBody = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = rawBody ? JSON.parse(rawBody) : undefined;
        } catch {
          body = undefined;
        }
        const path = (req.url ?? '/').split('?')[0]!;
        const fr: FakeRequest = { method: req.method ?? 'GET', path, headers: req.headers, body, rawBody, index: requests.length };
        requests.push(fr);
        if (req.method !== 'POST' || path !== '/v1/messages') {
          sendJson(res, 404, { type: 'error', error: { type: 'not_found_error', message: `fake: no route ${req.method} ${path}` } });
          return;
        }
        if (body === undefined) {
          sendJson(res, 400, { type: 'error', error: { type: 'invalid_request_error', message: 'fake: body is not JSON' } });
          return;
        }
        let reply: FakeReply;
        try {
          reply = await script(fr);
        } catch (e) {
          sendJson(res, 500, { type: 'error', error: { type: 'api_error', message: `fake script threw: ${(e as Error).message}` } });
          return;
        }
        const delay = isHttpReply(reply) ? reply.delayMs : 0;
        if (delay > 0) await new Promise((r) => setTimeout(r, delay));
        if (res.destroyed) return;
        if (isHttpReply(reply) && (reply.status !== 200 || !isMessageLike(reply.body))) {
          sendJson(res, reply.status, reply.body, reply.headers);
          return;
        }
        const msg = completeMessage((isHttpReply(reply) ? reply.body : reply) as FakeMessage, fr);
        if ((body as { stream?: boolean }).stream) streamMessage(res, msg);
        else sendJson(res, 200, msg, isHttpReply(reply) ? reply.headers : {});
      })();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function isMessageLike(b: unknown): b is FakeMessage {
  return typeof b === 'object' && b !== null && Array.isArray((b as FakeMessage).content);
}
