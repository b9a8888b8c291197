// The hub's JSON routes (agent-facing AAR-compatible + ours, and human-facing). See /api contract in the
// design notes; every body and query is validated by a strict zod schema.
import { z } from 'zod';
import { MAX_SEED_JOBS } from '../core/events';
import type { Experiment } from '../core/model';
import type { ContentResponse, DiffResponse, DiversityResponse, ExperimentFiles, FinalEvaluationList, FleetOverview } from './api';
import { HttpError, forbidden, notFound } from './errors';
import type { Router } from './http';
import * as ops from './ops';
import type { HubContext } from './ops';
import * as S from './schemas';
import { toAarFinding } from './forum';
import * as attention from './attention';
import { readFleetConfig } from './fleetSetup';
import { byRiskThenAge } from '../core/risk';
import { UNDECIDED } from '../core/lifecycle';
import * as episodeOps from '../core/episodeOps';
import { episodeView, listEpisodes } from './episodes';

const DIFF_CAP = 2 * 1024 * 1024;
const CONTENT_CAP = 8 * 1024 * 1024;
/** `offset` may be negative: the last |offset| bytes of the log (tail). */
/** The client asked for AAR's response wrappers (`X-Overseer-Compat: aar`; see README "Running AAR agents"). */
const wantsAar = (req: { headers: Record<string, unknown> }) => String(req.headers['x-overseer-compat'] ?? '').toLowerCase() === 'aar';
const runLogQuery = z.strictObject({
  offset: z.coerce.number().int().min(-Number.MAX_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER).optional(),
  /** A seed job's log (default: the experiment's run log, seed job 0). */
  job: z.coerce.number().int().min(0).max(MAX_SEED_JOBS - 1).optional(),
});

export function registerRoutes(r: Router, ctx: HubContext): void {
  const st = () => ctx.service.state;
  const svc = ctx.service;
  const aarDefaults = () => {
    const c = ops.fleetConfig(ctx);
    const pick = (k: string) => (typeof c[k] === 'string' ? { [k]: c[k] as string } : {});
    return { ...pick('dataset'), ...pick('weak_model'), ...pick('strong_model') };
  };

  // ---------------------------------------------------------------- agent-facing, AAR-compatible forum
  r.route('POST', '/api/findings/share', { body: S.shareBody, query: S.noQuery }, ({ actor, body, scope }) => ops.share(ctx, actor, body, scope));
  r.route('GET', '/api/findings/all', { query: S.noQuery }, () => ops.allFindings(ctx));
  r.route('GET', '/api/findings', { query: S.findingsQuery }, ({ query }) => ops.findings(ctx, query));
  // With `X-Overseer-Compat: aar` (sent by `overseer agent-proxy`), search / get / vote answer in AAR's wrappers.
  r.route('POST', '/api/findings/search', { body: S.searchBody, query: S.noQuery }, ({ body, req }) => {
    const page = ops.search(ctx, body.query, body.limit);
    return wantsAar(req) ? { results: page.findings, summary: `Found ${page.findings.length} result(s) for ${JSON.stringify(body.query)}.`, total: page.total } : page;
  });
  r.route('GET', '/api/findings/:id', { params: S.idParams, query: S.noQuery }, ({ params, req }) => {
    const f = ops.finding(ctx, params.id);
    return wantsAar(req) ? { post: f } : f;
  });
  r.route('POST', '/api/findings/:id/vote', { params: S.idParams, body: S.voteBody, query: S.noQuery }, async ({ actor, params, body, req }) => {
    const v = await ops.vote(ctx, actor, params.id, body.vote);
    return wantsAar(req) ? { ...v, post: toAarFinding(st().posts.get(params.id)!) } : v;
  });
  r.route('GET', '/api/findings/:id/comments', { params: S.idParams, query: S.noQuery }, ({ params }) => ({
    comments: ops.finding(ctx, params.id).comments,
  }));
  r.route('POST', '/api/findings/:id/comments', { params: S.idParams, body: S.contentBody, query: S.noQuery }, ({ actor, params, body }) =>
    ops.commentOnFinding(ctx, actor, params.id, body.content),
  );
  r.route('POST', '/api/findings/:id/verdict', { who: 'human', params: S.idParams, body: S.verdictBody, query: S.noQuery }, async ({ actor, params, body }) => {
    await svc.forumVerdict(actor, params.id, body.verdict, body.note);
    return toAarFinding(st().posts.get(params.id)!);
  });
  r.route('GET', '/api/leaderboard', { query: S.leaderboardQuery }, async ({ actor, query, req }) => {
    // AAR's server defaults to its configured dataset and models; so do we for AAR clients.
    const q = wantsAar(req) && !query.dataset ? { ...aarDefaults(), ...query } : query;
    return ops.aarLeaderboard(ctx, await ops.leaderboard(ctx, actor, q));
  });
  r.route('GET', '/api/config', { query: S.noQuery }, () => ops.fleetConfig(ctx));
  // Liveness: answers from memory, whatever git or a run is doing (the push-quota tests time it under a pack bomb).
  r.route('GET', '/api/health', { query: S.noQuery }, () => ({ ok: true, seq: ctx.service.ledger.lastSeq }));
  r.route('POST', '/api/snapshots/search', { body: S.snapshotSearchBody, query: S.noQuery }, ({ body }) =>
    ops.snapshotSearch(ctx, body.query ?? '', body.limit ?? 100),
  );
  r.route('GET', '/api/snapshots/search', { query: S.snapshotSearchQuery }, ({ query }) => ops.snapshotSearch(ctx, query.query ?? '', query.limit ?? 100));
  r.route('GET', '/api/snapshots/:commit_id', { params: S.commitParams, query: S.noQuery }, ({ actor, params }) =>
    ops.snapshot(ctx, actor, params.commit_id),
  );
  r.route('POST', '/api/evaluate-predictions', { body: S.evaluateBody, query: S.noQuery }, ({ actor, body, scope }) =>
    ops.evaluatePredictions(ctx, actor, body, scope),
  );

  // ---------------------------------------------------------------- agent-facing, ours
  r.route('GET', '/api/whoami', { query: S.noQuery }, ({ actor }) => ({
    actor,
    agent: actor.kind === 'agent' ? st().agent(actor.id) : undefined,
    fleet: st().name,
  }));
  r.route('POST', '/api/experiments', { body: S.proposeBody, query: S.noQuery }, async ({ actor, body, reply }) => {
    const x = await ops.propose(ctx, actor, body);
    reply.code(201);
    return x;
  });
  // Humans read each experiment with its explained risk (computed from the ledger and git; agents never see it).
  r.route('GET', '/api/experiments', { query: S.listExperimentsQuery }, async ({ actor, query, reply }) => {
    if (actor.kind === 'agent') {
      reply.type('application/json; charset=utf-8');
      return ops.listExperimentsJson(ctx, actor, query);
    }
    const list = ops.listExperiments(ctx, actor, query);
    return { experiments: await attention.withRisk(ctx, list.experiments) };
  });
  r.route('GET', '/api/experiments/:id', { params: S.idParams, query: S.noQuery }, async ({ actor, params, scope }) => {
    if (scope?.replication) return ops.viewForReplicationJob(st(), ops.experimentFor(ctx, actor, params.id));
    const x = ops.viewExperiment(actor, ops.experimentFor(ctx, actor, params.id), st());
    return actor.kind === 'agent' ? x : { ...x, risk: await attention.riskOf(ctx, x) };
  });
  r.route('GET', '/api/inbox', { query: S.inboxQuery.extend({ agentId: S.idParam.optional() }) }, ({ actor, query }) =>
    ops.inbox(ctx, actor, query.after ?? 0, query.agentId),
  );

  // ---------------------------------------------------------------- human-facing: fleet & agents
  /** The queue's groups with risk; the undecided groups in triage order (risk, then age). */
  const riskQueue = async () =>
    Promise.all(
      st()
        .queue()
        .map(async (g) => {
          const xs = await attention.withRisk(ctx, g.experiments);
          return { state: g.state, experiments: UNDECIDED.includes(g.state) ? xs.sort(byRiskThenAge) : xs };
        }),
    );
  r.route('GET', '/api/fleet', { who: 'human', query: S.noQuery }, async (): Promise<FleetOverview> => {
    const s = st();
    const xs = [...s.experiments.values()];
    return {
      name: s.name,
      baseBranch: s.baseBranch,
      lastSeq: svc.ledger.lastSeq,
      counts: {
        agents: s.agents.size,
        experiments: xs.length,
        awaitingReview: s.awaitingReviewCount(),
        findings: s.posts.size,
        running: xs.filter((x) => x.state === 'dispatched' || x.state === 'running').length,
      },
      agents: [...s.agents.values()],
      queue: await riskQueue(),
      unconfinedRunners: [...s.unconfinedRunners.keys()],
    };
  });
  r.route('GET', '/api/agents', { who: 'human', query: S.noQuery }, () => ({ agents: [...st().agents.values()] }));
  r.route('GET', '/api/agents/:id', { params: S.idParams, query: S.noQuery }, async ({ actor, params }) => {
    const a = agentVisible(actor, params.id);
    await syncQuietly(a.id);
    return { agent: a, hubRepo: svc.hubRepo(a.id), branches: await svc.sandbox(a.id).branches(), budget: st().budgetOf(a.id)! };
  });
  r.route('GET', '/api/agents/:id/commits', { params: S.idParams, query: S.commitsQuery }, async ({ actor, params, query }) => {
    const a = agentVisible(actor, params.id);
    await syncQuietly(a.id);
    const sb = svc.sandbox(a.id);
    // Without a ref: the branch the agent worked on last (the hub repository's HEAD is the fleet's base branch).
    return { commits: await sb.log(query.ref ?? (await sb.latestBranch()) ?? 'HEAD', query.max ?? 50) };
  });
  r.route('POST', '/api/agents/:id/budget', { who: 'human', params: S.idParams, body: S.budgetBody, query: S.noQuery }, async ({ actor, params, body }) => {
    await svc.setBudget(actor, params.id, body);
    return st().agent(params.id);
  });
  r.route('POST', '/api/agents/:id/charge', { who: 'human', params: S.idParams, body: S.chargeBody, query: S.noQuery }, async ({ actor, params, body }) => {
    if (!st().agent(params.id)) throw notFound(`no agent ${JSON.stringify(params.id)}`);
    await svc.charge(params.id, body, actor);
    return st().agent(params.id);
  });
  r.route('POST', '/api/agents/:id/pause', { who: 'human', params: S.idParams, body: S.pauseBody, query: S.noQuery }, async ({ actor, params, body }) => {
    await svc.pauseAgent(actor, params.id, body.reason);
    return st().agent(params.id);
  });
  r.route('POST', '/api/agents/:id/resume', { who: 'human', params: S.idParams, body: S.emptyBody, query: S.noQuery }, async ({ actor, params }) => {
    await svc.resumeAgent(actor, params.id);
    return st().agent(params.id);
  });

  /** Bring a local working copy's new commits in before showing branches (a refused import is only logged). */
  async function syncQuietly(agentId: string) {
    await svc.syncWorkingCopy(agentId).catch(() => undefined);
  }

  function agentVisible(actor: { kind: string; id: string }, id: string) {
    if (actor.kind === 'agent' && actor.id !== id) throw forbidden('agents may only look at their own agent record');
    const a = st().agent(id);
    if (!a) throw notFound(`no agent ${JSON.stringify(id)}`);
    return a;
  }

  // ---------------------------------------------------------------- review (humans; agents only on their own)
  r.route('GET', '/api/experiments/:id/files', { params: S.idParams, query: S.noQuery }, async ({ actor, params }): Promise<ExperimentFiles> => {
    const x = ops.experimentFor(ctx, actor, params.id);
    const files = await svc.sandbox(x.agentId).changedFiles(x.baseCommit, x.commit);
    const viewed = st().viewed.get(x.id);
    return { experimentId: x.id, base: x.baseCommit ?? null, commit: x.commit, files: files.map((f) => ({ ...f, viewed: !!viewed?.has(f.path) })) };
  });
  r.route('GET', '/api/experiments/:id/diff', { params: S.idParams, query: S.diffQuery }, async ({ actor, params, query }): Promise<DiffResponse> => {
    const x = ops.experimentFor(ctx, actor, params.id);
    const d = await svc.sandbox(x.agentId).diff(x.baseCommit, x.commit, query.file, DIFF_CAP);
    return { experimentId: x.id, file: query.file ?? null, patch: d.patch, truncated: d.truncated };
  });
  r.route('GET', '/api/experiments/:id/content', { params: S.idParams, query: S.contentQuery }, async ({ actor, params, query }): Promise<ContentResponse & { truncated: boolean }> => {
    const x = ops.experimentFor(ctx, actor, params.id);
    const commit = query.side === 'head' ? x.commit : (x.baseCommit ?? null);
    const buf = commit ? await svc.sandbox(x.agentId).fileAt(commit, query.path) : undefined;
    const size = buf?.length ?? 0;
    const truncated = size > CONTENT_CAP;
    return {
      experimentId: x.id,
      path: query.path,
      side: query.side,
      commit,
      exists: !!buf,
      isBinary: !!buf && buf.subarray(0, 8000).includes(0),
      size,
      base64: buf && !truncated ? buf.toString('base64') : '',
      truncated,
    };
  });
  r.route('GET', '/api/experiments/:id/comments', { params: S.idParams, query: S.noQuery }, ({ actor, params }) => {
    const x = ops.experimentFor(ctx, actor, params.id);
    return { comments: st().commentsFor(x.id) };
  });
  r.route('POST', '/api/experiments/:id/comments', { params: S.idParams, body: S.reviewCommentBody, query: S.noQuery }, async ({ actor, params, body, reply }) => {
    ops.experimentFor(ctx, actor, params.id);
    const c = await svc.comment(actor, params.id, body);
    reply.code(201);
    return c;
  });
  // ---------------------------------------------------------------- approval policies (humans set and audit them)
  const titled = <T extends { experimentId: string }>(a: T) => ({ ...a, title: st().experiment(a.experimentId)?.title ?? '' });
  const policyView = () => {
    const s = st();
    const hourAgo = Date.now() - 3600_000;
    return {
      policy: s.policy ?? null,
      disabledRules: [...s.disabledRules.keys()],
      disabled: [...s.disabledRules].map(([rule, d]) => ({ rule, ...d })),
      auditQueue: s.auditQueue().map(titled),
      lastHour: s.autoApprovals.filter((a) => Date.parse(a.ts) >= hourAgo).map(titled),
      autoApproved: s.autoApprovals.length,
    };
  };
  r.route('GET', '/api/policy', { who: 'human', query: S.noQuery }, () => policyView());
  r.route('POST', '/api/policy', { who: 'human', body: S.policyBody, query: S.noQuery }, async ({ actor, body }) => {
    let p: { rules: { name: string; expr: string }[]; auditShare?: number; note?: string } = { rules: body.rules ?? [], auditShare: body.auditShare, note: body.note };
    if (body.fromFleetJson) {
      if (body.rules) throw new HttpError(400, 'invalid', 'give rules or fromFleetJson, not both');
      const raw = readFleetConfig(ctx.fleetDir).approvalPolicy as { rules?: unknown; auditShare?: unknown } | undefined;
      const parsed = S.policyBody.safeParse({ rules: raw?.rules, auditShare: raw?.auditShare });
      if (!raw || !parsed.success) throw new HttpError(400, 'invalid', 'fleet.json has no valid "approvalPolicy" ({ "rules": [{ "name", "expr" }], "auditShare" })');
      p = { rules: parsed.data.rules ?? [], auditShare: parsed.data.auditShare, note: body.note ?? 'from fleet.json' };
    }
    await svc.setPolicy(actor, p);
    return policyView();
  });
  r.route('POST', '/api/policy/rules/:name/enable', { who: 'human', params: S.ruleParams, body: S.emptyBody, query: S.noQuery }, async ({ actor, params }) => {
    await svc.enableRule(actor, params.name);
    return policyView();
  });
  r.route('POST', '/api/audits/:id', { who: 'human', params: S.idParams, body: S.auditBody, query: S.noQuery }, async ({ actor, params, body }) => {
    await svc.audit(actor, params.id, body);
    return policyView();
  });

  // ---------------------------------------------------------------- triage (humans): risk order and sweeps
  r.route('GET', '/api/triage', { who: 'human', query: S.noQuery }, async () => ({ experiments: await attention.triage(ctx), sweeps: await attention.openSweeps(ctx), episodes: listEpisodes(ctx).episodes }));
  // ---------------------------------------------------------------- agent episodes (humans): one decision per agent
  r.route('GET', '/api/episodes', { who: 'human', query: S.episodesQuery }, ({ query }) => listEpisodes(ctx, query.all === '1'));
  r.route('GET', '/api/episodes/:id', { who: 'human', params: S.idParams, query: S.noQuery }, ({ params }) => episodeView(ctx, params.id));
  r.route('POST', '/api/episodes/:id/resolve', { who: 'human', params: S.idParams, body: S.episodeResolveBody, query: S.noQuery }, async ({ actor, params, body }) => {
    await episodeOps.resolveEpisode(svc, actor, params.id, body);
    return episodeView(ctx, params.id);
  });
  r.route('POST', '/api/episodes/:id/release', { who: 'human', params: S.idParams, body: S.episodeReleaseBody, query: S.noQuery }, async ({ actor, params, body }) => {
    await episodeOps.releaseHeld(svc, actor, params.id, body.experimentId);
    return episodeView(ctx, params.id);
  });
  r.route('POST', '/api/agents/:id/hold', { who: 'human', params: S.idParams, body: S.pauseBody, query: S.noQuery }, async ({ actor, params, body }) => {
    const ep = await episodeOps.pauseIntoEpisode(svc, actor, params.id, body.reason);
    return episodeView(ctx, ep.id);
  });
  r.route('POST', '/api/sweeps/decide', { who: 'human', body: S.sweepDecisionBody, query: S.noQuery }, async ({ actor, body }) => {
    // every member gets its own decision event, pinned to its own commit; a stale pin stops the rest
    if (body.decision !== 'approve' && !body.reason?.trim()) throw new HttpError(400, 'invalid', 'a veto or a request for changes needs a reason');
    // all or nothing as far as the hub can tell beforehand: every member undecided and still at the pin shown
    for (const m of body.members) {
      const x = ops.experimentFor(ctx, actor, m.experimentId);
      if (!UNDECIDED.includes(x.state)) throw new HttpError(409, 'conflict', `${x.id} is already ${x.state}`);
      if (st().episodes.isHeld(x)) throw new HttpError(423, 'held', `${x.id} is held by an open episode of ${x.agentId}: decide the episode first`);
      if (x.commit !== m.commit || x.tree !== m.tree) throw new HttpError(409, 'stale_review', `${x.id} is pinned to ${x.commit.slice(0, 12)}, not the reviewed ${m.commit.slice(0, 12)}`);
    }
    if (new Set(body.members.map((m) => m.experimentId)).size !== body.members.length) throw new HttpError(400, 'invalid', 'a sweep names each experiment once');
    // A sweep is reviewed through one representative diff: a member screening flagged, or of critical risk, needs
    // its own review (the same rule in every client: the review page, the tree, the CLI).
    if (body.decision === 'approve') {
      const alone: string[] = [];
      for (const m of body.members) {
        const x = st().experiment(m.experimentId)!;
        if (x.screening?.gaming) alone.push(`${x.id} (flagged for gaming)`);
        else if ((await attention.riskOf(ctx, x)).level === 'critical') alone.push(`${x.id} (critical risk)`);
      }
      if (alone.length) throw new HttpError(409, 'needs_individual_review', `approve ${alone.join(', ')} one by one after reading its own review; a sweep approval cannot include them`);
    }
    const decided: Experiment[] = [];
    const note = body.note ?? `sweep of ${body.members.length}: ${body.members.map((m) => m.experimentId).join(', ')}`.slice(0, 2000);
    for (const m of body.members) {
      const pin = { commit: m.commit, tree: m.tree };
      if (body.decision === 'approve') decided.push(await svc.approve(actor, m.experimentId, { ...pin, note }));
      else if (body.decision === 'veto') decided.push(await svc.veto(actor, m.experimentId, { ...pin, reason: body.reason! }));
      else decided.push(await svc.requestChanges(actor, m.experimentId, { ...pin, reason: body.reason! }));
    }
    return { experiments: decided.map((x) => decision(x)) };
  });
  const decision = (x: Experiment) => ops.viewExperiment({ kind: 'human', id: '' }, st().experiment(x.id)!);
  r.route('POST', '/api/experiments/:id/approve', { params: S.idParams, body: S.approveBody, query: S.noQuery }, async ({ actor, params, body }) =>
    decision(await svc.approve(actor, params.id, body)),
  );
  r.route('POST', '/api/experiments/:id/veto', { params: S.idParams, body: S.vetoBody, query: S.noQuery }, async ({ actor, params, body }) =>
    decision(await svc.veto(actor, params.id, body)),
  );
  r.route('POST', '/api/experiments/:id/request-changes', { params: S.idParams, body: S.vetoBody, query: S.noQuery }, async ({ actor, params, body }) =>
    decision(await svc.requestChanges(actor, params.id, body)),
  );
  r.route('POST', '/api/experiments/:id/viewed', { who: 'human', params: S.idParams, body: S.viewedBody, query: S.noQuery }, async ({ actor, params, body }) => {
    await svc.markViewed(actor, params.id, body.file, body.viewed);
    return { ok: true as const };
  });
  r.route('POST', '/api/experiments/:id/cancel', { who: 'human', params: S.idParams, body: S.cancelBody, query: S.noQuery }, async ({ actor, params, body }) => {
    await svc.requestCancel(actor, params.id, body.reason);
    return st().experiment(params.id);
  });

  // a human accepts a result after seeing it (flagged proposals rank as verified only then); never a policy or agent
  r.route('POST', '/api/experiments/:id/accept-result', { who: 'human', params: S.idParams, body: S.acceptResultBody, query: S.noQuery }, async ({ actor, params, body }) =>
    svc.acceptResult(actor, params.id, body),
  );

  // a human puts an experiment's replication on the hidden transfer task ahead of agents' own jobs
  r.route('POST', '/api/experiments/:id/replication/raise', { who: 'human', params: S.idParams, body: S.emptyBody, query: S.noQuery }, async ({ actor, params }) =>
    svc.raiseReplication(actor, params.id),
  );

  // ---------------------------------------------------------------- audit, evaluation, runs
  r.route('GET', '/api/audit', { who: 'human', query: S.auditQuery }, ({ query }) => ({ entries: st().auditTrail(query.limit ?? 200) }));
  r.route('GET', '/api/evaluation/status', { who: 'human', query: S.noQuery }, () => ops.evaluationStatus(ctx));
  r.route('GET', '/api/evaluation/finals', { who: 'human', query: S.noQuery }, (): FinalEvaluationList => ({ finals: [...st().finals].reverse() }));
  r.route('GET', '/api/diversity', { who: 'human', query: S.noQuery }, (): DiversityResponse => ({
    latest: st().diversity ?? null,
    history: [...st().diversityHistory],
  }));
  r.route('POST', '/api/evaluation/final', { who: 'human', body: S.evaluationFinalBody, query: S.noQuery }, ({ actor, body }) =>
    ops.evaluationFinal(ctx, actor, body),
  );
  r.route('POST', '/api/evaluation/resume', { who: 'human', body: S.evaluationResumeBody, query: S.noQuery }, ({ actor, body }) =>
    ops.evaluationResume(ctx, actor, body),
  );
  r.route('GET', '/api/runs/:id/log', { params: S.idParams, query: runLogQuery }, ({ actor, params, query }) =>
    ops.runLog(ctx, actor, params.id, query.offset ?? 0, query.job),
  );
}
