// `overseer agent-proxy --token-file F [--port P] [--hub URL]`: identity without a header. A forwarder bound to
// loopback that adds the agent's bearer token (read from a file, never from the command line or the URL) to every
// request, so that code which only knows a server URL — the AAR release's tools read `ORCHESTRATOR_API_URL` — talks
// to the hub as that agent, unchanged. It also asks for AAR's response wrappers (`X-Overseer-Compat: aar`).
//
// Safety: it listens on 127.0.0.1 only; it refuses requests whose Host is not loopback (a web page cannot reach it
// by DNS rebinding); it forwards only the agent API (/api/..., /mcp) and never forwards a client's own
// Authorization or cookies. Anyone who can reach the port on this machine acts as the agent — run it where only the
// agent's processes are (its sandbox or container), one proxy per agent.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { parseCommand } from './args';

const USAGE = [
  'usage: overseer agent-proxy --token-file F [--port P] [--hub URL] [--no-aar]',
  '            Listens on 127.0.0.1:P (default 8765; 0 = any free port) and forwards /api/... and /mcp to the hub',
  '            (--hub, default env OVERSEER_HUB_URL) with the agent token read from F. Point AAR code at it:',
  '            ORCHESTRATOR_API_URL=http://127.0.0.1:P. --no-aar: do not ask for AAR response wrappers.',
].join('\n');

export const DEFAULT_AGENT_PROXY_PORT = 8765;

export interface AgentProxyOptions {
  hubUrl: string;
  token: string;
  /** Default 8765; 0 picks a free port. */
  port?: number;
  /** Ask the hub for AAR's response wrappers (default true). */
  aar?: boolean;
  /** One line per forwarded request (method, path, status); never headers or bodies. */
  log?: (line: string) => void;
}

export interface AgentProxy {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Hop-by-hop headers and credentials a client might send: never forwarded. */
const DROP = new Set([
  'authorization',
  'cookie',
  'proxy-authorization',
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'x-overseer-compat',
]);

const LOOPBACK_HOST = /^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/i;

export function readTokenFile(file: string): string {
  const t = fs.readFileSync(file, 'utf8').trim();
  if (!t || /\s/.test(t)) throw new Error(`${file}: expected one bearer token`);
  return t;
}

export async function startAgentProxy(o: AgentProxyOptions): Promise<AgentProxy> {
  const hub = new URL(o.hubUrl);
  if (hub.protocol !== 'http:' && hub.protocol !== 'https:') throw new Error(`--hub must be an http(s) URL, got ${o.hubUrl}`);
  const base = hub.pathname.replace(/\/+$/, '');
  const lib = hub.protocol === 'https:' ? https : http;
  const aar = o.aar !== false;

  const server = http.createServer((req, res) => {
    const fail = (status: number, code: string, message: string) => {
      if (res.headersSent) return res.destroy();
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ error: { code, message } }));
    };
    const host = req.headers.host ?? '';
    if (!LOOPBACK_HOST.test(host)) return fail(403, 'forbidden', 'agent-proxy: only loopback Host headers are accepted');
    const url = req.url ?? '/';
    const p = url.split('?')[0]!;
    if (!(p.startsWith('/api/') || p === '/mcp') || p.includes('..')) return fail(404, 'not_found', `agent-proxy forwards only /api/... and /mcp (not ${p})`);

    const headers: http.OutgoingHttpHeaders = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !DROP.has(k)) headers[k] = v;
    headers.authorization = `Bearer ${o.token}`;
    if (aar) headers['x-overseer-compat'] = 'aar';
    headers.host = hub.host;

    const up = lib.request(
      { protocol: hub.protocol, hostname: hub.hostname, port: hub.port || undefined, method: req.method, path: base + url, headers },
      (ur) => {
        const out: http.OutgoingHttpHeaders = {};
        for (const [k, v] of Object.entries(ur.headers)) if (v !== undefined && k !== 'connection' && k !== 'keep-alive' && k !== 'transfer-encoding') out[k] = v;
        res.writeHead(ur.statusCode ?? 502, out);
        ur.pipe(res);
        o.log?.(`${req.method} ${p} -> ${ur.statusCode}`);
      },
    );
    up.on('error', (err) => {
      o.log?.(`${req.method} ${p} -> hub unreachable (${err.message})`);
      fail(502, 'hub_unreachable', `agent-proxy: the hub at ${hub.origin} is unreachable`);
    });
    req.pipe(up);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? DEFAULT_AGENT_PROXY_PORT, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
      }),
  };
}

export async function agentProxyCommand(argv: string[]): Promise<number> {
  const p = parseCommand(
    argv,
    { 'token-file': { type: 'string' }, port: { type: 'string' }, hub: { type: 'string' }, 'no-aar': { type: 'boolean' }, quiet: { type: 'boolean' } },
    USAGE,
    { required: ['token-file'] },
  );
  if (typeof p === 'number') return p;
  const hubUrl = p.values.hub ?? process.env.OVERSEER_HUB_URL;
  if (!hubUrl) {
    process.stderr.write(`--hub URL is required (or env OVERSEER_HUB_URL)\n${USAGE}\n`);
    return 1;
  }
  const port = p.values.port === undefined ? DEFAULT_AGENT_PROXY_PORT : Number(p.values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`--port must be an integer in [0, 65535]\n${USAGE}\n`);
    return 1;
  }
  const proxy = await startAgentProxy({
    hubUrl,
    token: readTokenFile(p.values['token-file']),
    port,
    aar: !p.values['no-aar'],
    log: p.values.quiet ? undefined : (l) => process.stderr.write(`agent-proxy: ${l}\n`),
  });
  process.stdout.write(`agent-proxy listening on ${proxy.url} (forwarding to ${new URL(hubUrl).origin})\nexport ORCHESTRATOR_API_URL=${proxy.url}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await proxy.close();
  return 0;
}
