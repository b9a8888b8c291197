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
    // Pack data is streamed to git as it arrives; its size is bounded by receive.maxInputSize in the repository.
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
      if (body && typeof body.pipe === 'function') body.pipe(child.stdin!);
      else child.stdin!.end();
      child.stdin!.on('error', () => undefined);
      let head = Buffer.alloc(0);
      let headersDone = false;
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => {
        if (stderr.length < 8192) stderr += d.toString('utf8');
      });
      child.stdout!.on('data', (d: Buffer) => {
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
      });
      child.on('error', () => {
        if (!res.headersSent) res.statusCode = 500;
        res.end();
      });
      child.on('close', (code) => {
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
