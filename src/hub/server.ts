// The Fleet hub: HTTP API for agents (AAR-compatible + MCP) and humans, bearer-token auth, live events.
// Embeddable (`startHub`) and standalone (`overseer hub`). Binds 127.0.0.1 by default.
import * as fs from 'node:fs';
import * as path from 'node:path';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { AnyEvent } from '../core/events';
import type { Actor, Experiment } from '../core/model';
import { FleetService } from '../core/service';
import type { AiReviewOptions } from '../screening/aiReviewer';
import { loadEvaluationConfig } from '../evaluation/config';
import { loadFleetTaskRules } from '../screening/taskRules';
import { TokenStore, validatePrincipal } from './auth';
import { largestField, payloadTooLarge, toHttp } from './errors';
import { Router } from './http';
import {
  type DispatcherHandle,
  type EvaluationLike,
  RunIntegration,
  hubRunnersConfig,
  makeEvaluation,
  makeScreenHook,
  startHubDispatcher,
  recordReplicationSetting,
} from './integrations';
import { transferDataRoot, transferLabelsRoot } from '../runners/transferView';
import { type HubContext, parseMaxOpenProposals } from './ops';
import { startPolicyEngine } from './policy';
import { readFleetConfig } from './fleetSetup';
import { registerRoutes } from './routes';
import { SseHub } from './sse';
import { registerMcp } from './mcp';
import { registerGitHttp } from './gitHttp';

export const DEFAULT_BODY_LIMIT = 1024 * 1024;
export const HUB_LOCK_FILE = 'hub.json';

export interface HubOptions {
  fleetDir: string;
  host?: string;
  port?: number;
  /** Use an already open FleetService (the extension's in-process one); the hub will not close it. */
  service?: FleetService;
  /** Run approved experiments on the runners of fleet.json (one local runner when it declares none); jobs get
   * OVERSEER_EVAL_URL = the hub's URL and a job-scoped OVERSEER_TOKEN (default false). */
  dispatch?: boolean;
  /** Construct the evaluation service if available (default true). */
  evaluation?: boolean;
  /** Screening on every proposal (default true when the hub opens the service). */
  screen?: boolean;
  /** AI reviewer for screening (static detectors only when absent). */
  screeningAi?: AiReviewOptions;
  /** Maximum request body in bytes (default 1 MiB). */
  bodyLimit?: number;
  /** SSE heartbeat interval (default 15 s). */
  heartbeatMs?: number;
  /** Skip fsync (tests of logic only). */
  noSync?: boolean;
  onWarning?: (msg: string) => void;
  /** Log requests (fastify logger). */
  logger?: boolean;
  /** URL jobs use to reach the hub (OVERSEER_EVAL_URL), when compute nodes cannot reach the bind address
   * (e.g. a hub bound to 0.0.0.0 behind a login node). Default: the hub's own URL. */
  publicUrl?: string;
  /** Reproducible seed values instead of crypto-random ones (tests that compare runs at fixed seeds only; the
   * CLI and the extension never set it). */
  chooseSeed?: (x: Experiment, index: number) => number;
}

export interface Hub {
  url: string;
  host: string;
  port: number;
  service: FleetService;
  tokens: TokenStore;
  evaluation?: EvaluationLike;
  /** Create a bearer token for an agent or human; returns the secret (store it, it is not kept). */
  createToken(actor: Actor): string;
  /** Resolves once every event appended so far is durable, with the token records and scores it triggered. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

export interface HubLock {
  pid: number;
  url: string;
  startedAt: string;
}

/** The running hub holding this fleet, if any (a lock file naming a live process). */
export function runningHub(fleetDir: string): HubLock | undefined {
  const f = path.join(fleetDir, HUB_LOCK_FILE);
  try {
    const j = JSON.parse(fs.readFileSync(f, 'utf8')) as HubLock;
    if (typeof j.pid !== 'number') return undefined;
    try {
      process.kill(j.pid, 0);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ESRCH') return undefined;
    }
    return j;
  } catch {
    return undefined;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function buildApp(bodyLimit: number, logger: boolean): FastifyInstance {
  // Every error has one JSON shape, framework errors (414 from the router, 431/408/400 from the HTTP parser) too.
  const app = Fastify({
    bodyLimit,
    logger,
    routerOptions: { maxParamLength: 200 },
    forceCloseConnections: true,
    return503OnClosing: true,
    frameworkErrors: (err, _req, reply) => {
      const { status, body } = toHttp(err);
      void (reply as unknown as FastifyReply).code(status).type('application/json').send(body);
    },
    clientErrorHandler: (err, socket) => {
      if ((err as { code?: string }).code === 'ECONNRESET' || socket.destroyed) return;
      const code = (err as { code?: string }).code;
      const [status, c, msg] =
        code === 'HPE_HEADER_OVERFLOW' ? [431, 'headers_too_large', 'request line or headers are larger than the hub accepts'] : code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'timeout', 'request timed out'] : [400, 'invalid', 'malformed HTTP request'];
      const json = JSON.stringify({ error: { code: c, message: msg } });
      if (socket.writable) socket.write(`HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`);
      socket.destroy(err);
    },
  });
  // JSON bodies: strict UTF-8, clear 400s. Bodies of other types are refused (415) by fastify. A body over the
  // limit (but under twice it) is still read, so its 413 can name the field that made it too large.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(['application/json'], { parseAs: 'buffer', bodyLimit: bodyLimit * 2 }, (_req, body: Buffer, done) => {
    if (body.length === 0) return done(null, undefined);
    if (body.length > bodyLimit) {
      let found: { field: string; bytes: number } | undefined;
      try {
        found = largestField(JSON.parse(body.toString('utf8')));
      } catch {
        found = undefined;
      }
      return done(payloadTooLarge(bodyLimit, body.length, found), undefined);
    }
    let text: string;
    try {
      text = utf8.decode(body);
    } catch {
      return done(Object.assign(new Error('request body is not valid UTF-8'), { statusCode: 400, code: 'invalid_encoding' }), undefined);
    }
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      done(Object.assign(new Error(`malformed JSON: ${(err as Error).message}`), { statusCode: 400, code: 'invalid_json' }), undefined);
    }
  });
  app.setErrorHandler((err, req, reply) => {
    const { status, body } = toHttp(err);
    if (status >= 500) req.log.error({ err }, 'hub request failed');
    if (status >= 500 && !logger) process.emitWarning(`hub: ${req.method} ${req.url} failed: ${(err as Error)?.stack ?? String(err)}`);
    void reply.code(status).type('application/json').send(body);
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ error: { code: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` } });
  });
  return app;
}

export async function startHub(opts: HubOptions): Promise<Hub> {
  const fleetDir = path.resolve(opts.fleetDir);
  const warn = opts.onWarning ?? ((m: string) => process.emitWarning(m));
  const ownsService = !opts.service;
  const service =
    opts.service ??
    (await FleetService.open(fleetDir, {
      onWarning: warn,
      noSync: opts.noSync,
      screen: opts.screen === false ? undefined : makeScreenHook(opts.screeningAi, loadFleetTaskRules(fleetDir)),
    }));
  const cleanups: (() => Promise<void> | void)[] = [];
  try {
    const tokens = new TokenStore(fleetDir);

    let evaluation: EvaluationLike | undefined;
    let replayEvaluation: ((history: AnyEvent[]) => void) | undefined;
    if (opts.evaluation !== false) {
      const ev = (evaluation = makeEvaluation({
        dataRoot: path.join(fleetDir, 'datasets'),
        labelsRoot: path.join(fleetDir, 'labels'),
        append: (t, a, d) => service.append(t, a, d),
        settings: loadEvaluationConfig(fleetDir),
        transferDataRoot: transferDataRoot(fleetDir),
        transferLabelsRoot: transferLabelsRoot(fleetDir),
      }));
      // Subscribe first, then replay: events durable during the replay are fed once, in order.
      let replayedTo = -1;
      const early: AnyEvent[] = [];
      const off = service.onEvent((e) => {
        if (replayedTo < 0) early.push(e);
        else if (e.seq > replayedTo) ev.ingest(e);
      });
      cleanups.push(off);
      replayEvaluation = (history) => {
        let last = 0;
        for (const e of history) ev.ingest(e), (last = e.seq);
        for (const e of early) if (e.seq > last) ev.ingest(e), (last = e.seq);
        replayedTo = last;
      };
    }

    // The ledger is read once at start; every consumer below folds what it needs from it.
    const history = await service.ledger.readAfter(0);
    replayEvaluation?.(history);

    // Tokens created by other processes (the CLI) while the hub runs are recorded by the hub.
    const recorded = new Set<string>();
    for (const e of history) if (e.type === 'auth.token_created') recorded.add(e.data.tokenId);
    const pendingRecords = new Set<Promise<unknown>>();
    const recordMissing = () => {
      for (const t of tokens.records()) {
        if (recorded.has(t.id)) continue;
        recorded.add(t.id);
        const p = service
          .append('auth.token_created', { kind: 'system', id: 'overseer' }, { principal: t.principal, tokenId: t.id, scope: t.scope ? { experimentId: t.scope.experimentId, ...(t.scope.job !== undefined ? { job: t.scope.job } : {}) } : undefined })
          .catch((err) => warn(`recording token ${t.id} failed: ${(err as Error).message}`));
        pendingRecords.add(p);
        void p.finally(() => pendingRecords.delete(p));
      }
    };
    recordMissing();
    tokens.onReload = recordMissing;
    const tokenPoll = setInterval(recordMissing, 1000);
    tokenPoll.unref();
    cleanups.push(() => clearInterval(tokenPoll));

    // Job tokens (revoked when runs end) and verified scores; before the dispatcher, so reattached jobs'
    // tokens are honoured and stale ones revoked before anything runs.
    const runs = new RunIntegration(service, tokens, { evaluation, onTokenCreated: recordMissing, warn });
    await runs.start(history);
    // the fleet's hidden transfer task, as fleet.json declares it now (recorded when it changed)
    const transfer = loadFleetTaskRules(fleetDir)?.transfer;
    await recordReplicationSetting(service, transfer);
    for (const [visible, hidden] of Object.entries(transfer?.datasets ?? {})) {
      if (!fs.existsSync(path.join(transferDataRoot(fleetDir), hidden, 'dataset.json'))) warn(`fleet.json: the hidden transfer dataset ${hidden} of ${visible} is not in transfer/datasets/: its replications will fail`);
      if (!fs.existsSync(path.join(transferLabelsRoot(fleetDir), hidden))) warn(`fleet.json: the labels of the hidden transfer dataset ${hidden} are not in transfer/labels/: its replications cannot be scored`);
    }
    cleanups.push(() => runs.close());
    // Validate the runner configuration before listening; the dispatcher starts once the URL is known.
    const runnersConfig = opts.dispatch ? hubRunnersConfig(fleetDir) : undefined;
    let dispatcher: DispatcherHandle | undefined;

    if (readFleetConfig(fleetDir).episodes === true) service.startEpisodes();
    const ctx: HubContext = { service, fleetDir, evaluation, runs, maxOpenProposals: parseMaxOpenProposals(readFleetConfig(fleetDir)) };
    const app = buildApp(opts.bodyLimit ?? DEFAULT_BODY_LIMIT, !!opts.logger);
    const router = new Router(app, tokens);
    registerRoutes(router, ctx);
    const policy = startPolicyEngine(ctx, warn);
    cleanups.push(() => policy.stop());
    const sse = new SseHub(service, { heartbeatMs: opts.heartbeatMs ?? 15_000 });
    sse.register(router);
    registerMcp(app, tokens, ctx);
    registerGitHttp(app, tokens, ctx);

    const host = opts.host ?? '127.0.0.1';
    await app.listen({ host, port: opts.port ?? 0 });
    const addr = app.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : (opts.port ?? 0);
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
    let closed = false;
    cleanups.push(() => (closed ? undefined : app.close()));
    if (runnersConfig) {
      dispatcher = startHubDispatcher(service, {
        config: runnersConfig,
        fleetDir,
        evalUrl: opts.publicUrl ?? url,
        tokenFor: runs.tokenFor,
        onWarning: warn,
        fleetTaskMode: loadFleetTaskRules(fleetDir)?.mode,
        chooseSeed: opts.chooseSeed,
        transfer: loadFleetTaskRules(fleetDir)?.transfer,
        replicationTokenFor: runs.replicationTokenFor,
      });
    }

    const lockFile = path.join(fleetDir, HUB_LOCK_FILE);
    fs.writeFileSync(lockFile, JSON.stringify({ pid: process.pid, url, startedAt: new Date().toISOString() } satisfies HubLock) + '\n');

    let closing: Promise<void> | undefined;
    const hub: Hub = {
      url,
      host,
      port,
      service,
      tokens,
      evaluation,
      createToken(actor: Actor): string {
        const p = validatePrincipal(actor);
        const { token } = tokens.create(p);
        recordMissing();
        return token;
      },
      async idle() {
        // Durable events may start work (scores, token records) that appends more events.
        await service.idle();
        await runs.idle();
        await Promise.allSettled([...pendingRecords]);
        await service.idle();
        await policy.idle();
        await service.idle();
      },
      close() {
        closing ??= (async () => {
          closed = true;
          sse.closeAll();
          await app.close();
          recordMissing();
          if (dispatcher) await dispatcher.stop();
          await runs.idle();
          for (const c of cleanups.reverse()) await c();
          await Promise.allSettled([...pendingRecords]);
          try {
            const cur = JSON.parse(fs.readFileSync(lockFile, 'utf8')) as HubLock;
            if (cur.pid === process.pid && cur.url === url) fs.rmSync(lockFile, { force: true });
          } catch {
            /* already gone */
          }
          if (ownsService) await service.close();
        })();
        return closing;
      },
    };
    return hub;
  } catch (err) {
    for (const c of cleanups.reverse()) await c();
    if (ownsService) await service.close();
    throw err;
  }
}
