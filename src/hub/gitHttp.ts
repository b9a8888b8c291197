// Git's smart HTTP protocol for agents' hub repositories, served by git's own `git http-backend` (CGI) behind the
// hub's bearer tokens: `/git/<agent>.git`. An agent may fetch from and push to its own repository only; a human
// may fetch any; job tokens may do neither. Every push goes through receive-pack's pre-receive checks
// (git/receiveCheck.ts) before a ref moves. Clients authenticate with `Authorization: Bearer <token>` (git's
// `http.extraHeader`) or HTTP Basic with the token as the password (a credential helper or the URL).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { ID_RE } from '../core/events';
import type { Actor } from '../core/model';
import { spawnGit } from '../git/exec';
import { ensureHooks, ensureHubRepo, hubRepoPath } from '../git/hubRepo';
import { PackGuard, PushRefused } from '../git/packGuard';
import { loadPushLimits, type PushLimits } from '../git/pushLimits';
import type { TokenStore } from './auth';
import type { HubContext } from './ops';

const SERVICES = new Set(['git-upload-pack', 'git-receive-pack']);

function sendError(reply: FastifyReply, status: number, code: string, message: string, headers: Record<string, string> = {}) {
  void reply.code(status).headers(headers).type('application/json').send({ error: { code, message } });
}

/** Bearer, or Basic with the token as password (git's credential flow). */
function bearerOf(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(h);
  if (basic) {
    const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const secret = colon >= 0 ? decoded.slice(colon + 1) : decoded;
    return secret ? `Bearer ${secret}` : undefined;
  }
  return h;
}

export function registerGitHttp(app: FastifyInstance, tokens: TokenStore, ctx: HubContext): void {
  const root = path.join(ctx.fleetDir, 'git');
  void app.register(async (git) => {
    // Pack data is streamed to git as it arrives, a push through the quota guard (git/packGuard.ts); the
    // repository's receive.maxInputSize bounds it again.
    git.addContentTypeParser(['application/x-git-upload-pack-request', 'application/x-git-receive-pack-request'], (_req, payload, done) => done(null, payload));

    const handle = async (req: FastifyRequest, reply: FastifyReply, repoParam: string, rest: string, service: string) => {
      const challenge = { 'www-authenticate': 'Basic realm="Overseer hub", charset="UTF-8"' };
      const auth = tokens.authenticateScoped(bearerOf(req));
      if (!auth) return sendError(reply, 401, 'unauthorized', 'a valid bearer token is required (use the agent token as the password)', challenge);
      if (auth.scope) return sendError(reply, 403, 'forbidden', 'job tokens may not use git');
      const m = /^(.+)\.git$/.exec(repoParam);
      const agentId = m?.[1];
      const actor: Actor = auth.actor;
      // Another agent's repository and an unknown one answer alike: no way to learn which ids exist.
      if (!agentId || !ID_RE.test(agentId) || !ctx.service.state.agent(agentId) || (actor.kind === 'agent' && actor.id !== agentId)) {
        return sendError(reply, 404, 'not_found', `no repository ${JSON.stringify(repoParam).slice(0, 80)}`);
      }
      if (!SERVICES.has(service)) return sendError(reply, 404, 'not_found', 'only git smart HTTP (upload-pack, receive-pack) is served');
      if (service === 'git-receive-pack' && actor.kind !== 'agent') {
        return sendError(reply, 403, 'forbidden', 'only the agent itself pushes to its repository; humans decide through reviews');
      }
      if (actor.kind === 'system') return sendError(reply, 403, 'forbidden', 'system tokens may not use git');
      const isPush = service === 'git-receive-pack' && rest === service;
      let guardOf: PushLimits | undefined;
      let limits: PushLimits;
      try {
        limits = loadPushLimits(ctx.fleetDir);
      } catch (err) {
        return sendError(reply, 500, 'invalid_config', (err as Error).message);
      }
      if (isPush) {
        const enc = String(req.headers['content-encoding'] ?? 'identity').toLowerCase();
        if (enc !== 'identity') return sendError(reply, 415, 'unsupported_encoding', `a push body with Content-Encoding ${JSON.stringify(enc).slice(0, 40)} is not accepted; git sends pushes uncompressed`);
        guardOf = limits;
      }
      const repo = hubRepoPath(ctx.fleetDir, agentId);
      await ensureHubRepo(repo, { branch: ctx.service.state.baseBranch || 'main' });
      const hooksPath = ensureHooks(root);
      const env: Record<string, string> = {
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: '1',
        REQUEST_METHOD: req.method,
        PATH_INFO: `/${agentId}.git/${rest}`,
        QUERY_STRING: rest === 'info/refs' ? `service=${service}` : '',
        REMOTE_USER: `${actor.kind}:${actor.id}`,
        REMOTE_ADDR: req.ip,
        // The pre-receive check refuses files over the same object quota (receiveHook.ts).
        OVERSEER_RECEIVE_LIMITS: JSON.stringify({ maxBlobBytes: limits.maxObjectBytes }),
      };
      if (req.headers['content-type']) env.CONTENT_TYPE = String(req.headers['content-type']);
      if (req.headers['content-length']) env.CONTENT_LENGTH = String(req.headers['content-length']);
      if (req.headers['content-encoding']) env.HTTP_CONTENT_ENCODING = String(req.headers['content-encoding']);
      const proto = req.headers['git-protocol'];
      if (typeof proto === 'string' && /^[A-Za-z0-9=:._-]{1,100}$/.test(proto)) env.GIT_PROTOCOL = proto;

      const child = spawnGit(root, ['http-backend'], { env, hooksPath });
      reply.hijack();
      const res = reply.raw;
      const body = req.body as Readable | undefined;
      child.stdin!.on('error', () => undefined);
      let head = Buffer.alloc(0);
      let headersDone = false;
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => {
        if (stderr.length < 8192) stderr += d.toString('utf8');
      });
      /** Git's CGI output: headers parsed into the reply, then the body streamed. */
      const fromGit = (d: Buffer) => {
        if (headersDone) {
          res.write(d);
          return;
        }
        head = Buffer.concat([head, d]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        headersDone = true;
        let status = 200;
        for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
          const c = line.indexOf(':');
          if (c < 0) continue;
          const k = line.slice(0, c).trim();
          const v = line.slice(c + 1).trim();
          if (k.toLowerCase() === 'status') status = Number.parseInt(v, 10) || 500;
          else res.setHeader(k, v);
        }
        res.statusCode = status;
        res.write(head.subarray(end + 4));
      };
      // A push passes through the quota guard: git is handed no byte past the first one that breaks a quota, and
      // its output is held until the whole request passed (receive-pack answers only after reading it anyway).
      const guard = guardOf ? new PackGuard(guardOf, Number(req.headers['content-length']) || undefined) : undefined;
      let held: Buffer[] | undefined = guard ? [] : undefined;
      let refusal: string | undefined;
      child.stdout!.on('data', (d: Buffer) => {
        if (refusal) return;
        if (held) held.push(d);
        else fromGit(d);
      });
      const release = () => {
        const h = held;
        held = undefined;
        for (const d of h ?? []) fromGit(d);
      };
      let closed = false;
      const refuse = (message: string) => {
        if (refusal) return;
        refusal = message.replace(/[^\x20-\x7e]/g, '?').slice(0, 300);
        held = undefined;
        child.stdin!.end();
        setTimeout(() => {
          if (child.exitCode === null) child.kill('SIGTERM');
        }, 2000).unref();
        // Read (and drop) the rest of the request so the client hears the answer, within bounds.
        let drained = 0;
        const started = Date.now();
        const answer = () => {
          if (res.writableEnded) return;
          if (!res.headersSent) {
            res.statusCode = 200;
            res.setHeader('content-type', 'application/x-git-receive-pack-result');
            res.setHeader('cache-control', 'no-cache');
          }
          res.end(refusalReport(guard!, refusal!));
        };
        if (!body || body.readableEnded) return answer();
        body.removeAllListeners('data');
        body.on('data', (c: Buffer) => {
          drained += c.length;
          if (drained > 4 * guardOf!.maxPackBytes || Date.now() - started > 60_000) {
            answer();
            req.raw.socket.destroy();
          }
        });
        body.on('end', answer);
        body.resume();
      };
      if (body && typeof body.pipe === 'function' && guard) {
        // Chunks are checked one after another; 'end' can come while the last one is still being checked.
        let checked: Promise<void> = Promise.resolve();
        body.on('data', (chunk: Buffer) => {
          if (refusal) return;
          body.pause();
          checked = checked.then(() =>
            guard.feed(chunk).then(
              () => {
                if (refusal || closed) return;
                if (child.stdin!.write(chunk)) body.resume();
                else child.stdin!.once('drain', () => body.resume());
              },
              (err: unknown) => refuse(err instanceof PushRefused ? err.message : `push check failed: ${(err as Error).message}`),
            ),
          );
        });
        body.on('end', () => {
          void checked.then(() => {
            if (refusal) return;
            child.stdin!.end();
            release();
          });
        });
      } else if (body && typeof body.pipe === 'function') body.pipe(child.stdin!);
      else {
        child.stdin!.end();
        release();
      }
      child.on('error', () => {
        if (refusal) return;
        if (!res.headersSent) res.statusCode = 500;
        res.end();
      });
      child.on('close', (code) => {
        closed = true;
        if (refusal) return;
        release();
        if (!headersDone) {
          res.statusCode = 500;
          res.setHeader('content-type', 'application/json');
          res.write(JSON.stringify({ error: { code: 'git_failed', message: `git http-backend failed (${code}): ${stderr.trim().slice(0, 500)}` } }));
        }
        res.end();
      });
      // The client went away before the answer was complete: stop git (the request stream's own 'close'
      // only means its body was read).
      res.on('close', () => {
        if (child.exitCode === null && !res.writableFinished) child.kill('SIGKILL');
      });
    };

    git.get('/git/:repo/info/refs', async (req, reply) => {
      const service = (req.query as { service?: string }).service ?? '';
      if (!SERVICES.has(service)) return sendError(reply, 403, 'forbidden', 'the dumb HTTP protocol is not served; use a git client with smart HTTP');
      return handle(req, reply, (req.params as { repo: string }).repo, 'info/refs', service);
    });
    for (const service of SERVICES) {
      git.post(`/git/:repo/${service}`, async (req, reply) => handle(req, reply, (req.params as { repo: string }).repo, service, service));
    }
  });
}

/** pkt-line framing. */
function pkt(data: Buffer | string): Buffer {
  const b = Buffer.isBuffer(data) ? data : Buffer.from(data);
  return Buffer.concat([Buffer.from((b.length + 4).toString(16).padStart(4, '0')), b]);
}

/**
 * receive-pack's own answer for a refused push, so git prints it as it prints any refusal:
 * `error: remote unpack failed: <why>` and `! [remote rejected] <ref> (<why>)`, plus `remote: overseer: <why>`.
 */
function refusalReport(guard: PackGuard, why: string): Buffer {
  const status = Buffer.concat([pkt(`unpack ${why}\n`), ...guard.refs.map((r) => pkt(`ng ${r.replace(/[^\x21-\x7e]/g, '?')} push quota: ${why}\n`)), Buffer.from('0000')]);
  if (!guard.capabilities.has('side-band-64k')) return guard.capabilities.has('report-status') || guard.capabilities.has('report-status-v2') ? status : Buffer.alloc(0);
  const parts: Buffer[] = [pkt(Buffer.concat([Buffer.from([2]), Buffer.from(`overseer: refusing the push: ${why}\n`)]))];
  for (let i = 0; i < status.length; i += 65515) parts.push(pkt(Buffer.concat([Buffer.from([1]), status.subarray(i, i + 65515)])));
  parts.push(Buffer.from('0000'));
  return Buffer.concat(parts);
}
