// HubClient: the typed way the extension, fleet agents and the simulator talk to a hub over HTTP.
// Uses global fetch; no vscode, no DOM-only APIs. One method per route; failures throw HubError.
import type {
  EpisodeList,
  EpisodeResolveRequest,
  EpisodeView,
  AuditRequest,
  PolicySetRequest,
  PolicyView,
  SweepDecisionRequest,
  TriageResponse,
  AarComment,
  AgentDetail,
  AgentList,
  AnyEvent,
  ApiErrorBody,
  AuditResponse,
  BudgetRequest,
  ChargeRequest,
  CommentResponse,
  CommitList,
  ContentResponse,
  DecisionRequest,
  DiffResponse,
  DiversityResponse,
  EvaluatePredictionsRequest,
  EvaluatePredictionsResponse,
  EvaluationFinalRequest,
  EvaluationFinalResponse,
  EvaluationResumeResponse,
  EvaluationStatus,
  ExperimentFiles,
  ExperimentList,
  FinalEvaluationList,
  FindingDetail,
  FindingsPage,
  FindingsQuery,
  FleetOverview,
  InboxResponse,
  LeaderboardQuery,
  LeaderboardResponse,
  OkResponse,
  ProposeRequest,
  ReviewCommentList,
  ReviewCommentRequest,
  RunLogResponse,
  ShareFindingRequest,
  ShareFindingResponse,
  SnapshotResponse,
  VoteResponse,
  WhoAmI,
  AarFinding,
} from './api';
import type { Agent, Experiment, HumanVerdictValue, ReviewComment } from '../core/model';
import { sleep } from '../core/sleep';

export class HubError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'HubError';
  }
}

export interface HubClientOptions {
  /** Per-request timeout in ms (default 30 s; SSE streams are not subject to it). */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export interface EventStreamOptions {
  /** Delay before the first reconnect attempt (doubles up to maxRetryMs). */
  retryMs?: number;
  maxRetryMs?: number;
  /** Called when the stream (re)connects or fails; for status displays. */
  onStatus?: (s: { connected: boolean; error?: Error; lastSeq: number }) => void;
}

type Query = Record<string, string | number | boolean | undefined>;

function qs(q: Query | undefined): string {
  if (!q) return '';
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined) p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

const enc = encodeURIComponent;

export class HubClient {
  readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;

  constructor(
    baseUrl: string,
    private readonly token: string,
    opts: HubClientOptions = {},
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.fetchImpl = opts.fetch ?? globalThis.fetch.bind(globalThis);
  }

  /** Low-level request: JSON in, JSON out; non-2xx responses throw HubError(status, code, message). */
  async request<T>(method: 'GET' | 'POST', path: string, body?: unknown, query?: Query): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, accept: 'application/json' };
    let payload: string | undefined;
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    let res: Response;
    try {
      res = await this.fetchImpl(`${this.baseUrl}${path}${qs(query)}`, {
        method,
        headers,
        body: payload,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new HubError(0, 'network', `cannot reach hub at ${this.baseUrl}: ${(err as Error).message}${(err as { cause?: Error }).cause ? ` (${(err as { cause?: Error }).cause!.message})` : ""}`);
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const e = (json as ApiErrorBody | undefined)?.error;
      throw new HubError(
        res.status,
        typeof e?.code === 'string' ? e.code : `http_${res.status}`,
        typeof e?.message === 'string' ? e.message : `${method} ${path} failed with HTTP ${res.status}`,
        e?.details,
      );
    }
    if (json === undefined && text) throw new HubError(res.status, 'bad_response', `${method} ${path}: response is not JSON`);
    return json as T;
  }

  private get<T>(path: string, query?: Query): Promise<T> {
    return this.request<T>('GET', path, undefined, query);
  }
  private post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  // ---------------------------------------------------------------- agent-facing (AAR-compatible)

  shareFinding(body: ShareFindingRequest): Promise<ShareFindingResponse> {
    return this.post('/api/findings/share', body);
  }
  allFindings(): Promise<{ findings: AarFinding[] }> {
    return this.get('/api/findings/all');
  }
  listFindings(q: FindingsQuery = {}): Promise<FindingsPage> {
    return this.get('/api/findings', { ...q });
  }
  searchFindings(query: string, limit?: number): Promise<FindingsPage> {
    return this.post('/api/findings/search', limit === undefined ? { query } : { query, limit });
  }
  getFinding(id: string): Promise<FindingDetail> {
    return this.get(`/api/findings/${enc(id)}`);
  }
  voteFinding(id: string, vote: 'up' | 'down'): Promise<VoteResponse> {
    return this.post(`/api/findings/${enc(id)}/vote`, { vote });
  }
  findingComments(id: string): Promise<{ comments: AarComment[] }> {
    return this.get(`/api/findings/${enc(id)}/comments`);
  }
  commentFinding(id: string, content: string): Promise<CommentResponse> {
    return this.post(`/api/findings/${enc(id)}/comments`, { content });
  }
  leaderboard(q: LeaderboardQuery = {}): Promise<LeaderboardResponse> {
    return this.get('/api/leaderboard', { ...q });
  }
  snapshot(commitId: string): Promise<SnapshotResponse> {
    return this.get(`/api/snapshots/${enc(commitId)}`);
  }
  evaluatePredictions(body: EvaluatePredictionsRequest): Promise<EvaluatePredictionsResponse> {
    return this.post('/api/evaluate-predictions', body);
  }

  // ---------------------------------------------------------------- agent-facing (ours)

  propose(body: ProposeRequest): Promise<Experiment> {
    return this.post('/api/experiments', body);
  }
  listExperiments(q: { agentId?: string; state?: string } = {}): Promise<ExperimentList> {
    return this.get('/api/experiments', q);
  }
  getExperiment(id: string): Promise<Experiment> {
    return this.get(`/api/experiments/${enc(id)}`);
  }
  inbox(after = 0): Promise<InboxResponse> {
    return this.get('/api/inbox', { after });
  }
  whoami(): Promise<WhoAmI> {
    return this.get('/api/whoami');
  }

  // ---------------------------------------------------------------- human-facing

  fleet(): Promise<FleetOverview> {
    return this.get('/api/fleet');
  }
  agents(): Promise<AgentList> {
    return this.get('/api/agents');
  }
  agent(id: string): Promise<AgentDetail> {
    return this.get(`/api/agents/${enc(id)}`);
  }
  commits(agentId: string, ref?: string, max?: number): Promise<CommitList> {
    return this.get(`/api/agents/${enc(agentId)}/commits`, { ref, max });
  }
  experimentFiles(id: string): Promise<ExperimentFiles> {
    return this.get(`/api/experiments/${enc(id)}/files`);
  }
  experimentDiff(id: string, file?: string): Promise<DiffResponse> {
    return this.get(`/api/experiments/${enc(id)}/diff`, { file });
  }
  experimentContent(id: string, path: string, side: 'base' | 'head'): Promise<ContentResponse> {
    return this.get(`/api/experiments/${enc(id)}/content`, { path, side });
  }
  experimentComments(id: string): Promise<ReviewCommentList> {
    return this.get(`/api/experiments/${enc(id)}/comments`);
  }
  /** `seeds`: the number of seed jobs this approval fixes (default: what the proposal asked for). */
  approve(id: string, body: DecisionRequest & { note?: string; seeds?: number }): Promise<Experiment> {
    return this.post(`/api/experiments/${enc(id)}/approve`, body);
  }
  triage(): Promise<TriageResponse> {
    return this.get('/api/triage');
  }
  episodes(all = false): Promise<EpisodeList> {
    return this.get('/api/episodes', all ? { all: '1' } : {});
  }
  episode(id: string): Promise<EpisodeView> {
    return this.get(`/api/episodes/${enc(id)}`);
  }
  resolveEpisode(id: string, body: EpisodeResolveRequest): Promise<EpisodeView> {
    return this.post(`/api/episodes/${enc(id)}/resolve`, body);
  }
  releaseHeld(id: string, experimentId: string): Promise<EpisodeView> {
    return this.post(`/api/episodes/${enc(id)}/release`, { experimentId });
  }
  /** Hold an agent's work for a human review (an episode with trigger "human"). */
  holdAgent(agentId: string, reason: string): Promise<EpisodeView> {
    return this.post(`/api/agents/${enc(agentId)}/hold`, { reason });
  }
  decideSweep(body: SweepDecisionRequest): Promise<{ experiments: Experiment[] }> {
    return this.post('/api/sweeps/decide', body);
  }
  policy(): Promise<PolicyView> {
    return this.get('/api/policy');
  }
  setPolicy(body: PolicySetRequest): Promise<PolicyView> {
    return this.post('/api/policy', body);
  }
  enablePolicyRule(rule: string): Promise<PolicyView> {
    return this.post(`/api/policy/rules/${enc(rule)}/enable`, {});
  }
  auditApproval(experimentId: string, body: AuditRequest): Promise<PolicyView> {
    return this.post(`/api/audits/${enc(experimentId)}`, body);
  }
  veto(id: string, body: DecisionRequest & { reason: string }): Promise<Experiment> {
    return this.post(`/api/experiments/${enc(id)}/veto`, body);
  }
  requestChanges(id: string, body: DecisionRequest & { reason: string }): Promise<Experiment> {
    return this.post(`/api/experiments/${enc(id)}/request-changes`, body);
  }
  comment(id: string, body: ReviewCommentRequest): Promise<ReviewComment> {
    return this.post(`/api/experiments/${enc(id)}/comments`, body);
  }
  markViewed(id: string, file: string, viewed: boolean): Promise<OkResponse> {
    return this.post(`/api/experiments/${enc(id)}/viewed`, { file, viewed });
  }
  /** A human accepts a result after seeing it (`falseAlarms`: findings judged wrong, each with why). */
  acceptResult(id: string, body: { reason: string; falseAlarms?: { kind: string; file: string; line: number; why: string }[] }): Promise<Experiment> {
    return this.post(`/api/experiments/${enc(id)}/accept-result`, body);
  }

  cancel(id: string, reason?: string): Promise<Experiment> {
    return this.post(`/api/experiments/${enc(id)}/cancel`, reason === undefined ? {} : { reason });
  }
  setBudget(agentId: string, body: BudgetRequest): Promise<Agent> {
    return this.post(`/api/agents/${enc(agentId)}/budget`, body);
  }
  /** Record model spend (`budget.charged`) under the caller's name; human tokens only. */
  chargeAgent(agentId: string, body: ChargeRequest): Promise<Agent> {
    return this.post(`/api/agents/${enc(agentId)}/charge`, body);
  }
  pauseAgent(agentId: string, reason: string): Promise<Agent> {
    return this.post(`/api/agents/${enc(agentId)}/pause`, { reason });
  }
  resumeAgent(agentId: string): Promise<Agent> {
    return this.post(`/api/agents/${enc(agentId)}/resume`, {});
  }
  findingVerdict(id: string, verdict: HumanVerdictValue, note?: string): Promise<AarFinding> {
    return this.post(`/api/findings/${enc(id)}/verdict`, note === undefined ? { verdict } : { verdict, note });
  }
  audit(limit?: number): Promise<AuditResponse> {
    return this.get('/api/audit', { limit });
  }
  evaluationStatus(): Promise<EvaluationStatus> {
    return this.get('/api/evaluation/status');
  }
  evaluationFinal(body: EvaluationFinalRequest): Promise<EvaluationFinalResponse> {
    return this.post('/api/evaluation/final', body);
  }
  /** Lift a probing suspension of an agent's evaluation access (human; recorded as `eval.resumed`). */
  resumeEvaluation(agentId: string, note?: string): Promise<EvaluationResumeResponse> {
    return this.post('/api/evaluation/resume', note === undefined ? { agent_id: agentId } : { agent_id: agentId, note });
  }
  /** Final (held-out) evaluations recorded in the ledger, newest first (human). */
  evaluationFinals(): Promise<FinalEvaluationList> {
    return this.get('/api/evaluation/finals');
  }
  /** Latest diversity measurement of the fleet and its recent history (human). */
  diversity(): Promise<DiversityResponse> {
    return this.get('/api/diversity');
  }
  /** `job`: the log of that seed job (default: seed job 0, the experiment's first). */
  runLog(experimentId: string, offset?: number, job?: number): Promise<RunLogResponse> {
    return this.get(`/api/runs/${enc(experimentId)}/log`, { offset, job });
  }

  // ---------------------------------------------------------------- live events (SSE)

  /**
   * Stream ledger events with seq > afterSeq until `signal` aborts. Reconnects with backoff, resuming
   * from the last seq received (Last-Event-ID), so no event is delivered twice or skipped. Resolves
   * when aborted; rejects only on auth errors (401/403), which retrying cannot fix.
   */
  async events(afterSeq: number, onEvent: (e: AnyEvent) => void, signal: AbortSignal, opts: EventStreamOptions = {}): Promise<void> {
    let lastSeq = afterSeq;
    const base = opts.retryMs ?? 250;
    const max = opts.maxRetryMs ?? 5_000;
    let delay = base;
    while (!signal.aborted) {
      try {
        const res = await this.fetchImpl(`${this.baseUrl}/api/events${qs({ after: lastSeq })}`, {
          headers: { authorization: `Bearer ${this.token}`, accept: 'text/event-stream', 'last-event-id': String(lastSeq) },
          signal,
        });
        if (!res.ok || !res.body) {
          let code = `http_${res.status}`;
          let message = `event stream failed with HTTP ${res.status}`;
          try {
            const j = (await res.json()) as ApiErrorBody;
            code = j.error?.code ?? code;
            message = j.error?.message ?? message;
          } catch {
            /* not JSON */
          }
          const err = new HubError(res.status, code, message);
          if (res.status === 401 || res.status === 403 || res.status === 400) throw err;
          throw Object.assign(err, { retry: true });
        }
        opts.onStatus?.({ connected: true, lastSeq });
        delay = base;
        for await (const msg of readSse(res.body, signal)) {
          if (msg.event !== 'ledger' && msg.event !== 'message') continue;
          let e: AnyEvent;
          try {
            e = JSON.parse(msg.data) as AnyEvent;
          } catch {
            continue;
          }
          if (typeof e.seq !== 'number' || e.seq <= lastSeq) continue;
          lastSeq = e.seq;
          onEvent(e);
        }
        opts.onStatus?.({ connected: false, lastSeq });
      } catch (err) {
        if (signal.aborted) break;
        if (err instanceof HubError && !(err as HubError & { retry?: boolean }).retry) {
          opts.onStatus?.({ connected: false, error: err, lastSeq });
          throw err;
        }
        opts.onStatus?.({ connected: false, error: err as Error, lastSeq });
      }
      if (signal.aborted) break;
      await sleep(delay, signal);
      delay = Math.min(max, delay * 2);
    }
  }
}


export interface SseMessage {
  event: string;
  data: string;
  id?: string;
}

/** Minimal text/event-stream parser (WHATWG rules for data/event/id fields and comments). */
export async function* readSse(body: ReadableStream<Uint8Array>, signal?: AbortSignal): AsyncGenerator<SseMessage> {
  const decoder = new TextDecoder();
  const reader = body.getReader();
  let buf = '';
  let data: string[] = [];
  let event = '';
  let id: string | undefined;
  try {
    while (!signal?.aborted) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = buf.search(/\r\n|\r|\n/)) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + (buf[nl] === '\r' && buf[nl + 1] === '\n' ? 2 : 1));
        if (line === '') {
          if (data.length) yield { event: event || 'message', data: data.join('\n'), id };
          data = [];
          event = '';
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let v = colon < 0 ? '' : line.slice(colon + 1);
        if (v.startsWith(' ')) v = v.slice(1);
        if (field === 'data') data.push(v);
        else if (field === 'event') event = v;
        else if (field === 'id') id = v;
      }
    }
  } finally {
    try {
      await reader.cancel();
    } catch {
      /* already closed */
    }
  }
}
