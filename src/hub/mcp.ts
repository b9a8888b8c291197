// MCP (streamable HTTP, stateless) at POST /mcp: the agent tools, authenticated per request with the same
// bearer tokens as the HTTP API and enforcing the same rules (they call the same operations).
import type { FastifyInstance } from 'fastify';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';
import type { Actor } from '../core/model';
import type { TokenStore } from './auth';
import { HttpError, toHttp } from './errors';
import { authHook } from './http';
import * as ops from './ops';
import type { HubContext } from './ops';
import * as S from './schemas';
import { resolveEpisode } from '../core/episodeOps';
import { episodeView, listEpisodes } from './episodes';

type ToolResult = { content: { type: 'text'; text: string }[]; isError?: boolean };

async function run(fn: () => Promise<unknown> | unknown): Promise<ToolResult> {
  try {
    const out = await fn();
    return { content: [{ type: 'text', text: JSON.stringify(out, null, 1) }] };
  } catch (err) {
    const { status, body } = toHttp(err);
    return { content: [{ type: 'text', text: JSON.stringify({ status, ...body }) }], isError: true };
  }
}

/** Validate tool args with the same strict schemas as the HTTP routes. */
function check<T extends z.ZodType>(schema: T, args: unknown): z.infer<T> {
  return schema.parse(args);
}

export function buildMcpServer(ctx: HubContext, actor: Actor): McpServer {
  const server = new McpServer({ name: 'overseer-hub', version: '0.1.0' }, { capabilities: { tools: {} } });
  const tool = <Sh extends z.ZodRawShape>(name: string, description: string, shape: Sh, fn: (args: z.infer<z.ZodObject<Sh>>) => unknown) => {
    server.registerTool(name, { description, inputSchema: shape }, ((args: z.infer<z.ZodObject<Sh>>) => run(() => fn(args))) as never);
  };

  tool(
    'propose_experiment',
    'Propose an experiment pinned to a full 40-hex commit of your sandbox repository. A human reviews the exact commit before it runs.',
    S.proposeBody.omit({ agentId: true }).shape,
    (a) => ops.propose(ctx, actor, check(S.proposeBody, a)),
  );
  tool('get_experiment', 'Get one of your experiments (state, verdict, run, score).', { id: S.idParam }, (a) =>
    ops.viewExperiment(actor, ops.experimentFor(ctx, actor, a.id), ctx.service.state),
  );
  tool('list_my_experiments', 'List your experiments, optionally by state.', { state: z.string().max(32).optional() }, (a) =>
    ops.listExperiments(ctx, actor, { state: a.state }),
  );
  tool('read_inbox', 'Read verdicts, review comments and run results addressed to you with seq > after.', { after: z.number().int().nonnegative().optional() }, (a) =>
    ops.inbox(ctx, actor, a.after ?? 0),
  );
  tool('share_finding', 'Share a finding on the forum (metrics are shown as self-reported until verified).', S.shareBody.shape, (a) =>
    ops.share(ctx, actor, check(S.shareBody, a)),
  );
  tool('search_findings', 'Search forum findings by free text.', S.searchBody.shape, (a) => ops.search(ctx, a.query, a.limit));
  tool(
    'list_findings',
    'List forum findings (sort new|top|discussed).',
    {
      query: z.string().max(500).optional(),
      finding_type: z.string().max(64).optional(),
      sort: z.enum(['new', 'top', 'discussed']).optional(),
      limit: z.number().int().min(1).max(500).optional(),
      offset: z.number().int().min(0).optional(),
    },
    (a) => ops.findings(ctx, a),
  );
  tool('get_finding', 'Get one finding with its comments.', { id: S.idParam }, (a) => ops.finding(ctx, a.id));
  tool('comment_finding', 'Comment on a finding.', { id: S.idParam, content: z.string().min(1).max(5000) }, (a) =>
    ops.commentOnFinding(ctx, actor, a.id, a.content),
  );
  tool('vote_finding', 'Vote a finding up or down (not your own).', { id: S.idParam, vote: z.enum(['up', 'down']) }, (a) =>
    ops.vote(ctx, actor, a.id, a.vote),
  );
  const board = async (a: z.infer<typeof S.leaderboardQuery>) => ops.aarLeaderboard(ctx, await ops.leaderboard(ctx, actor, a));
  tool('leaderboard', 'The leaderboard of verified scores.', S.leaderboardQuery.shape, board);
  // AAR's tool names (its agents' prompts use them).
  tool('get_leaderboard', 'The leaderboard ranked by PGR (AAR name of `leaderboard`).', S.leaderboardQuery.shape, board);
  tool(
    'download_snapshot',
    'A shared code snapshot: its files (text inline) and AAR metadata (idea_uid, run_id, title, pgr, files_snapshot).',
    { snapshot_id: z.string().regex(/^[A-Za-z0-9_-]{4,64}$/).optional(), commit_id: z.string().regex(/^[A-Za-z0-9_-]{4,64}$/).optional(), target_dir: z.string().max(4096).optional() },
    (a) => {
      const id = a.snapshot_id || a.commit_id;
      if (!id) throw new HttpError(400, 'invalid', 'snapshot_id is required');
      return ops.snapshot(ctx, actor, id);
    },
  );
  tool('evaluate_predictions', 'Score predictions on a dataset split (budgeted, coarsened results).', S.evaluateBody.shape, (a) =>
    ops.evaluatePredictions(ctx, actor, check(S.evaluateBody, a)),
  );
  // human-only, listed for human tokens only (the operations refuse agents too): the one decision about an agent episode
  if (actor.kind === 'human') registerEpisodeTools();
  return server;

  function registerEpisodeTools(): void {
    const humanOnly = (what: string) => {
      if (actor.kind !== 'human') throw new HttpError(403, 'forbidden', `only a human may ${what}`);
    };
    tool('list_episodes', 'Humans only: open agent episodes (an agent whose proposals are held for one decision).', {}, () => {
      humanOnly('list episodes');
      return listEpisodes(ctx);
    });
    tool('get_episode', 'Humans only: one agent episode with its evidence (vetoes, alerts, findings, runs, held proposals).', { id: S.idParam }, (a) => {
      humanOnly('read episodes');
      return episodeView(ctx, a.id);
    });
    tool('resolve_episode', 'Humans only: resume, resume on probation, review the held proposals individually, or retire the agent.', { id: S.idParam, ...S.episodeResolveBody.shape }, async (a) => {
      const { id, ...body } = a;
      await resolveEpisode(ctx.service, actor, id, check(S.episodeResolveBody, body));
      return episodeView(ctx, id);
    });
  }
}

export function registerMcp(app: FastifyInstance, tokens: TokenStore, ctx: HubContext): void {
  app.route({
    method: 'POST',
    url: '/mcp',
    onRequest: authHook(tokens),
    handler: async (req, reply) => {
      const server = buildMcpServer(ctx, req.actor!);
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      reply.hijack();
      reply.raw.on('close', () => {
        void transport.close();
        void server.close();
      });
      await server.connect(transport);
      await transport.handleRequest(req.raw, reply.raw, req.body);
    },
  });
  const notAllowed = async (_req: unknown, reply: { code: (n: number) => { header: (k: string, v: string) => { send: (b: unknown) => unknown } } }) =>
    reply.code(405).header('allow', 'POST').send({ error: { code: 'method_not_allowed', message: 'this MCP endpoint is stateless: use POST /mcp' } });
  app.route({ method: ['GET', 'DELETE'], url: '/mcp', onRequest: authHook(tokens), handler: notAllowed as never });
}
