// Fleet state: a fold over ledger events, with the queries the hub and the UI need. Pure.
import type { AnyEvent, LedgerEvent } from './events';
import { QUEUE_ORDER, UNDECIDED } from './lifecycle';
import type {
  Actor,
  Agent,
  AuditEntry,
  Experiment,
  ExperimentState,
  ForumPost,
  InboxItem,
  ReviewComment,
  SeedJob,
} from './model';
import type { Policy } from './policy';
import { assessRisk } from './risk';
import { verificationOf, verificationReason, reportDemotion } from './verification';
import { type ReplicationInfo, type ReplicationVerdict, DEFAULT_TOLERANCE, replicationVerdict } from './replication';
import { EpisodeBook, type EpisodeSnapshot } from './episodes';

const AUDITED = new Set([
  'replication.configured',
  'replication.job_dispatched',
  'replication.job_finished',
  'replication.raised',
  'agent.registered',
  'agent.paused',
  'agent.resumed',
  'budget.set',
  'experiment.approved',
  'experiment.vetoed',
  'experiment.changes_requested',
  'experiment.cancel_requested',
  'experiment.dispatched',
  'experiment.finished',
  'run.job_dispatched',
  'run.job_finished',
  'forum.verdict',
  'eval.final',
  'eval.budget_set',
  'eval.probing_suspected',
  'eval.resumed',
  'auth.token_created',
  'auth.token_revoked',
  'runner.lost',
  'run.report',
  'runner.unconfined',
  'policy.set',
  'policy.rule_disabled',
  'policy.rule_enabled',
  'audit.confirmed',
  'audit.flagged',
  'experiment.result_accepted',
  'run.decoy_matched',
  'episode.opened',
  'episode.released',
  'episode.resolved',
]);

/** One point of the fleet's diversity history (from a `diversity.measured` event). */
export interface DiversityPoint {
  seq: number;
  ts: string;
  /** Mean pairwise similarity of the agents' work over everything so far (null: fewer than two agents wrote). */
  meanSimilarity: number | null;
  /** Same over the most recent window: what the fleet is doing now. */
  currentMeanSimilarity: number | null;
  converged: boolean;
}

/** The latest diversity measurement. `flags` and the pair agent ids derive from agent-written text: render as text. */
export interface DiversityMeasurement extends DiversityPoint {
  agents: number;
  documents: number;
  /** Mean similarity at or above which the fleet counts as converged (null if not recorded). */
  threshold: number | null;
  topPairs: { a: string; b: string; similarity: number }[];
  flags: string[];
}

/** A final (held-out) evaluation run by a human (`eval.final`). */
export interface FinalEvaluation {
  seq: number;
  ts: string;
  by: Actor;
  dataset: string;
  split: string;
  experimentId?: string;
  transferAcc: number | null;
  pgr: number | null;
  transferAccCi: [number, number] | null;
  pgrCi: [number, number] | null;
  correct: number | null;
  total: number | null;
}

export const DIVERSITY_HISTORY_MAX = 50;
export const FINALS_MAX = 500;

export interface FleetSnapshotState {
  name: string;
  baseBranch: string;
  lastSeq: number;
  agents: Agent[];
  experiments: Experiment[];
  posts: ForumPost[];
  comments: ReviewComment[];
  viewed: [string, string[]][];
  inbox: [string, InboxItem[]][];
  audit: AuditEntry[];
  /** Absent in snapshots written before these projections existed (fromJSON then asks for a replay). */
  diversity?: DiversityMeasurement | null;
  diversityHistory?: DiversityPoint[];
  finals?: FinalEvaluation[];
  /** Absent in snapshots written before runner warnings, approval policies and probing records were projected
   * (fromJSON then asks for a replay: a restart must never forget an open probing alert or a disabled rule). */
  unconfinedRunners?: [string, { seq: number; ts: string }][];
  policy?: Policy | null;
  disabledRules?: [string, DisabledRule][];
  autoApprovals?: AutoApproval[];
  openProbingAlerts?: [string, number][];
  /** Absent in snapshots written before agent episodes (fromJSON then asks for a replay). */
  episodes?: EpisodeSnapshot;
  /** Absent in snapshots written before replication (fromJSON then asks for a replay). */
  replication?: ReplicationSetting | null;
}

/** The fleet's hidden transfer task as last recorded (`replication.configured`). */
export interface ReplicationSetting {
  seq: number;
  enabled: boolean;
  datasets: Record<string, string>;
  seeds?: number;
  goldLabels: number;
  tolerance: number;
  release: boolean;
}

export interface AutoApproval {
  experimentId: string;
  agentId: string;
  rule: string;
  version: number;
  setBy: string;
  sampled: boolean;
  seq: number;
  ts: string;
  audit?: { outcome: 'confirmed' | 'flagged'; by: string; seq: number; note?: string };
}

/** A rule of the current policy a flagged audit disabled: the human who flagged, when and why. */
export interface DisabledRule {
  by: string;
  reason: string;
  ts: string;
  seq: number;
  experimentId?: string;
}

/** Change counters of each state's experiments, for readers that keep something derived from an experiment (a
 * serialized view) until it changes: every event naming experiments (experimentId, experimentIds, supersedes)
 * bumps theirs; any other event not known to leave experiments alone bumps the epoch, which changes them all.
 * Bookkeeping of this process, not state: kept beside the state (not in a snapshot), so a state loaded anew starts
 * new counters and its readers start new caches. */
const VERSIONS = new WeakMap<FleetState, { epoch: number; byId: Map<string, number> }>();

/** Event types that never change an experiment they do not name (FleetState.touchExperiments). */
const LEAVES_EXPERIMENTS = /^(?:fleet|agent|budget|forum|policy|diversity|eval|audit)\.|^review\.file_viewed$/;

export class FleetState {
  name = '';
  baseBranch = 'main';
  lastSeq = 0;
  readonly agents = new Map<string, Agent>();
  readonly experiments = new Map<string, Experiment>();
  readonly posts = new Map<string, ForumPost>();
  readonly comments = new Map<string, ReviewComment>();
  /** experimentId -> files a human marked as viewed. */
  readonly viewed = new Map<string, Set<string>>();
  readonly inbox = new Map<string, InboxItem[]>();
  readonly audit: AuditEntry[] = [];
  /** Latest `diversity.measured`, and the last DIVERSITY_HISTORY_MAX points (oldest first). */
  diversity: DiversityMeasurement | undefined;
  readonly diversityHistory: DiversityPoint[] = [];
  /** Final (held-out) evaluations, oldest first (the last FINALS_MAX). */
  readonly finals: FinalEvaluation[] = [];
  /** Runners a human set to `"sandbox": "none"` (runner.unconfined): a standing warning. */
  readonly unconfinedRunners = new Map<string, { seq: number; ts: string }>();
  /** The approval policy a human set last (`policy.set`); undefined: off (the default). */
  policy: Policy | undefined;
  /** Rules of the current policy a flagged audit disabled (until a human re-enables them), with who disabled
   * each, when and why. */
  readonly disabledRules = new Map<string, DisabledRule>();
  /** Automatic approvals, oldest first: experiment, rule, version, whether sampled, and the audit outcome. */
  readonly autoApprovals: AutoApproval[] = [];
  /** Probing alerts per agent since a human last lifted them (`eval.resumed`): part of the agent's record. */
  readonly openProbingAlerts = new Map<string, number>();
  /** The fleet's replication setting (undefined: never configured). */
  replication: ReplicationSetting | undefined;
  /** Agent episodes (core/episodes.ts): open ones hold the agent's proposals until a human decides. */
  episodes = new EpisodeBook();

  apply(e: AnyEvent): void {
    this.lastSeq = e.seq;
    const when = { seq: e.seq, ts: e.ts };
    switch (e.type) {
      case 'fleet.created':
        this.name = e.data.name;
        if (e.data.baseBranch) this.baseBranch = e.data.baseBranch;
        break;
      case 'agent.registered':
        this.agents.set(e.data.agentId, {
          id: e.data.agentId,
          name: e.data.name,
          direction: e.data.direction,
          repoPath: e.data.repoPath,
          budget: { ...e.data.budget },
          used: { gpuHours: 0, usd: 0, evalQueries: 0, tokensIn: 0, tokensOut: 0, agentHours: 0 },
          status: 'active',
          registeredSeq: e.seq,
        });
        break;
      case 'agent.paused': {
        const a = this.agents.get(e.data.agentId);
        if (a) {
          a.status = 'paused';
          a.pausedReason = e.data.reason;
          this.notify(a.id, { ...when, kind: 'notice', text: `paused: ${e.data.reason}`, data: {} });
        }
        break;
      }
      case 'agent.resumed': {
        const a = this.agents.get(e.data.agentId);
        if (a) {
          a.status = 'active';
          delete a.pausedReason;
          this.notify(a.id, { ...when, kind: 'notice', text: 'resumed', data: {} });
        }
        break;
      }
      case 'budget.set': {
        const a = this.agents.get(e.data.agentId);
        if (a) {
          if (e.data.gpuHours !== undefined) a.budget.gpuHours = e.data.gpuHours;
          if (e.data.usd !== undefined) a.budget.usd = e.data.usd;
          if (e.data.evalQueries !== undefined) a.budget.evalQueries = e.data.evalQueries;
          this.notify(a.id, { ...when, kind: 'budget', text: 'budget changed', data: { budget: { ...a.budget } } });
        }
        break;
      }
      case 'budget.charged': {
        const a = this.agents.get(e.data.agentId);
        if (a) {
          a.used.usd += e.data.usd;
          a.used.tokensIn += e.data.tokensIn;
          a.used.tokensOut += e.data.tokensOut;
          a.used.agentHours += e.data.agentHours;
        }
        break;
      }
      case 'experiment.proposed': {
        const d = e.data;
        const x: Experiment = {
          id: d.experimentId,
          agentId: d.agentId,
          title: d.title,
          rationale: d.rationale,
          command: d.command,
          resources: { ...d.resources },
          taskMode: d.taskMode,
          commit: d.commit,
          tree: d.tree,
          baseCommit: d.baseCommit,
          branch: d.branch,
          supersedes: d.supersedes,
          ...(d.seeds !== undefined ? { seeds: d.seeds } : {}),
          state: 'proposed',
          proposedSeq: e.seq,
          proposedAt: e.ts,
          history: [],
        };
        this.experiments.set(x.id, x);
        this.history(x, e, `proposed at ${d.commit.slice(0, 12)}`);
        if (d.supersedes) {
          const old = this.experiments.get(d.supersedes);
          if (old) {
            old.supersededBy = x.id;
            if (UNDECIDED.includes(old.state) || old.state === 'changes_requested') {
              old.state = 'superseded';
              this.history(old, e, `superseded by ${x.id}`);
            }
          }
        }
        break;
      }
      case 'experiment.screening_started':
        this.move(e, 'screening', 'screening started');
        break;
      case 'experiment.screened': {
        const x = this.experiments.get(e.data.experimentId);
        if (x) {
          x.screening = e.data.report;
          if (x.state === 'proposed' || x.state === 'screening') x.state = 'awaiting_review';
          const n = e.data.report.findings.length;
          this.history(x, e, `screened: ${n} finding${n === 1 ? '' : 's'}${e.data.report.gaming ? ', gaming suspected' : ''}`);
        }
        break;
      }
      case 'experiment.approved':
      case 'experiment.vetoed':
      case 'experiment.changes_requested': {
        const x = this.experiments.get(e.data.experimentId);
        if (!x) break;
        const decision =
          e.type === 'experiment.approved' ? 'approved' : e.type === 'experiment.vetoed' ? 'vetoed' : 'changes_requested';
        const reason = 'reason' in e.data ? e.data.reason : 'note' in e.data ? e.data.note : undefined;
        const agent = this.agents.get(x.agentId);
        if (agent) {
          // every seed job is charged the per-seed estimate
          // (and every replication job on the hidden transfer task the approval charges for)
          if (decision === 'approved') agent.used.gpuHours += x.resources.gpuHours * (((e.type === 'experiment.approved' ? e.data.seeds : undefined) ?? 1) + ((e.type === 'experiment.approved' ? e.data.replications : undefined) ?? 0));
          else if (x.state === 'approved') agent.used.gpuHours -= x.resources.gpuHours * ((x.seedJobs ?? 1) + (x.replicationJobs ?? 0)); // veto after approval refunds
        }
        if (e.type === 'experiment.approved' && e.data.seeds !== undefined) x.seedJobs = e.data.seeds;
        if (e.type === 'experiment.approved' && e.data.replications !== undefined) x.replicationJobs = e.data.replications;
        x.state = decision;
        x.verdict = { decision, by: e.actor, reason, commit: e.data.commit, tree: e.data.tree, seq: e.seq, ts: e.ts };
        const pol = e.type === 'experiment.approved' ? e.data.policy : undefined;
        if (decision === 'approved') {
          const need = this.acceptanceNeeds(x);
          if (need.length) x.acceptanceRequired = need;
          else delete x.acceptanceRequired;
        }
        if (pol) {
          x.verdict.policy = { ...pol };
          this.autoApprovals.push({ experimentId: x.id, agentId: x.agentId, ...pol, seq: e.seq, ts: e.ts });
        }
        this.history(x, e, `${decision.replace('_', ' ')} by ${e.actor.id}${reason ? `: ${reason}` : ''}`);
        this.notify(x.agentId, {
          ...when,
          kind: 'verdict',
          experimentId: x.id,
          text: `${x.title}: ${decision.replace('_', ' ')}${reason ? ` — ${reason}` : ''}`,
          data: { decision, reason, by: e.actor.id, commit: e.data.commit },
        });
        break;
      }
      case 'experiment.dispatched': {
        const x = this.experiments.get(e.data.experimentId);
        if (x) {
          x.state = 'dispatched';
          x.run = {
            runner: e.data.runner,
            jobId: e.data.jobId,
            commit: e.data.commit,
            tree: e.data.tree,
            dispatchedAt: e.ts,
            logPath: e.data.logPath,
          };
          this.history(x, e, `dispatched to ${e.data.runner} as ${e.data.jobId}`);
        }
        break;
      }
      case 'experiment.running': {
        const x = this.experiments.get(e.data.experimentId);
        if (x) {
          x.state = 'running';
          if (x.run) x.run.startedAt = e.ts;
          this.history(x, e, 'running');
        }
        break;
      }
      case 'experiment.finished': {
        const x = this.experiments.get(e.data.experimentId);
        if (x) {
          x.state = e.data.state;
          if (x.run) {
            x.run.endedAt = e.ts;
            x.run.exitCode = e.data.exitCode;
            x.run.endState = e.data.state;
            x.run.reason = e.data.reason;
            x.run.artifacts = e.data.artifacts;
          }
          const s = `${e.data.state}${e.data.exitCode !== undefined ? ` (exit ${e.data.exitCode})` : ''}${e.data.reason ? `: ${e.data.reason}` : ''}`;
          this.history(x, e, s);
          this.refreshVerification(x);
          this.notify(x.agentId, { ...when, kind: 'run', experimentId: x.id, text: `${x.title}: ${s}`, data: { ...e.data } });
        }
        break;
      }
      case 'run.job_dispatched': {
        const x = this.experiments.get(e.data.experimentId);
        if (x?.run) {
          const j = seedJob(x, e.data.index);
          Object.assign(j, { seed: e.data.seed, runner: e.data.runner, jobId: e.data.jobId, logPath: e.data.logPath, dispatchedAt: e.ts });
          this.history(x, e, `seed job ${e.data.index} (seed ${e.data.seed}) dispatched to ${e.data.runner} as ${e.data.jobId}`);
        }
        break;
      }
      case 'run.job_started': {
        const x = this.experiments.get(e.data.experimentId);
        if (x?.run) {
          seedJob(x, e.data.index).startedAt = e.ts;
          this.history(x, e, `seed job ${e.data.index} running`);
        }
        break;
      }
      case 'run.job_finished': {
        const x = this.experiments.get(e.data.experimentId);
        if (x?.run) {
          const j = seedJob(x, e.data.index);
          if (j.jobId === '') j.jobId = e.data.jobId;
          Object.assign(j, { endedAt: e.ts, endState: e.data.state, exitCode: e.data.exitCode, reason: e.data.reason, artifacts: e.data.artifacts });
          this.history(x, e, `seed job ${e.data.index} ${e.data.state}${e.data.exitCode !== undefined ? ` (exit ${e.data.exitCode})` : ''}${e.data.reason ? `: ${e.data.reason}` : ''}`);
        }
        break;
      }
      case 'run.report': {
        const x = this.experiments.get(e.data.experimentId);
        if (x?.run) {
          const rep = { seq: e.seq, jobId: e.data.jobId, sandbox: e.data.sandbox, violations: e.data.violations, summary: e.data.summary, report: e.data.report };
          if (e.data.index !== undefined) seedJob(x, e.data.index).report = rep;
          // The experiment's report is its worst seed job's (an unconfined job, else the most violations).
          const cur = x.run.report;
          const worse = !cur || (rep.sandbox === 'none' && cur.sandbox !== 'none') || (cur.sandbox === rep.sandbox && rep.violations > cur.violations);
          if (worse) x.run.report = rep;
          this.history(x, e, `run report${e.data.index !== undefined ? ` (seed job ${e.data.index})` : ''}: ${e.data.summary}`);
          this.refreshVerification(x);
        }
        break;
      }
      case 'replication.configured':
        if (e.actor.kind !== 'system') break;
        this.replication = {
          seq: e.seq,
          enabled: e.data.enabled,
          datasets: { ...(e.data.datasets ?? {}) },
          ...(e.data.seeds !== undefined ? { seeds: e.data.seeds } : {}),
          goldLabels: e.data.goldLabels ?? 60,
          tolerance: e.data.tolerance ?? DEFAULT_TOLERANCE,
          release: e.data.release ?? false,
        };
        for (const x of this.experiments.values()) if (x.score) this.refreshVerification(x);
        break;
      case 'replication.job_dispatched': {
        const x = this.experiments.get(e.data.experimentId);
        if (!x || e.actor.kind !== 'system') break;
        const r = replicationOf(x);
        r.jobs = e.data.jobs;
        if (!r.records.some((j) => j.index === e.data.index)) r.records.push({ index: e.data.index, seed: e.data.seed, runner: e.data.runner, jobId: e.data.jobId, dispatchedAt: e.ts });
        r.records.sort((a, b) => a.index - b.index);
        r.history.push({ seq: e.seq, ts: e.ts, summary: `replication job ${e.data.index} (seed ${e.data.seed}) dispatched to ${e.data.runner} as ${e.data.jobId}` });
        this.refreshVerification(x);
        break;
      }
      case 'replication.job_finished': {
        const x = this.experiments.get(e.data.experimentId);
        if (!x || e.actor.kind !== 'system') break;
        const r = replicationOf(x);
        let j = r.records.find((q) => q.index === e.data.index);
        if (!j) r.records.push((j = { index: e.data.index, seed: 0, runner: '', jobId: e.data.jobId }));
        const demotion = e.data.report ? reportDemotion({ seq: e.seq, jobId: e.data.jobId, sandbox: (e.data.report as { sandbox?: 'bwrap' | 'none' }).sandbox ?? 'bwrap', violations: e.data.violations ?? 0, summary: e.data.summary ?? '', report: e.data.report }) : undefined;
        Object.assign(j, { endedAt: e.ts, endState: e.data.state, exitCode: e.data.exitCode, reason: e.data.reason, violations: e.data.violations, ...(demotion ? { demotion } : {}) });
        r.history.push({ seq: e.seq, ts: e.ts, summary: `replication job ${e.data.index} ${e.data.state}${e.data.exitCode !== undefined ? ` (exit ${e.data.exitCode})` : ''}${e.data.summary ? `: ${e.data.summary}` : ''}` });
        this.refreshVerification(x);
        break;
      }
      case 'replication.scored': {
        const x = this.experiments.get(e.data.experimentId);
        if (!x || e.actor.kind !== 'system') break;
        const r = replicationOf(x);
        const cur = r.scores.find((q) => q.index === e.data.index && q.split === e.data.split);
        if (cur) {
          if (!e.data.first) cur.resubmissions++;
        } else if (e.data.first) {
          r.scores.push({ index: e.data.index, seq: e.seq, dataset: e.data.dataset, transferDataset: e.data.transferDataset, split: e.data.split, transferAcc: e.data.transferAcc, pgr: e.data.pgr, resubmissions: 0 });
          r.scores.sort((a, b) => a.index - b.index);
          r.history.push({ seq: e.seq, ts: e.ts, summary: `replication job ${e.data.index} scored on ${e.data.transferDataset}/${e.data.split}: transfer_acc ${e.data.transferAcc.toFixed(3)}, PGR ${e.data.pgr === null ? 'n/a' : e.data.pgr.toFixed(3)}` });
        }
        this.refreshVerification(x);
        break;
      }
      case 'replication.raised': {
        const x = this.experiments.get(e.data.experimentId);
        if (!x || e.actor.kind !== 'human') break;
        const r = replicationOf(x);
        r.raised = { by: e.actor.id, seq: e.seq };
        r.history.push({ seq: e.seq, ts: e.ts, summary: `replication raised by ${e.actor.id}` });
        break;
      }
      case 'runner.unconfined':
        if (e.data.confined) this.unconfinedRunners.delete(e.data.runner);
        else this.unconfinedRunners.set(e.data.runner, when);
        break;
      case 'experiment.cancel_requested': {
        const x = this.experiments.get(e.data.experimentId);
        if (x) this.history(x, e, `cancel requested by ${e.actor.id}${e.data.reason ? `: ${e.data.reason}` : ''}`);
        break;
      }
      case 'experiment.scored': {
        const x = this.experiments.get(e.data.experimentId);
        if (x) {
          x.state = 'scored';
          x.score = {
            dataset: e.data.dataset,
            split: e.data.split,
            transferAcc: e.data.transferAcc,
            pgr: e.data.pgr,
            verified: true,
            evalSeq: e.data.evalSeq,
            ...(e.data.extra ?? {}),
          };
          // verified only as core/verification.ts says (demotions, acceptance), kept current by later events
          this.refreshVerification(x);
          this.history(x, e, `scored: transfer_acc ${e.data.transferAcc.toFixed(3)}, PGR ${e.data.pgr === null ? 'n/a' : e.data.pgr.toFixed(3)}`);
        }
        break;
      }
      case 'review.commented': {
        const x = this.experiments.get(e.data.experimentId);
        const c: ReviewComment = {
          id: e.data.commentId,
          experimentId: e.data.experimentId,
          agentId: x?.agentId ?? '',
          file: e.data.file,
          line: e.data.line,
          side: e.data.side,
          body: e.data.body,
          author: e.actor,
          seq: e.seq,
          ts: e.ts,
          inReplyTo: e.data.inReplyTo,
        };
        this.comments.set(c.id, c);
        if (x) {
          this.history(x, e, `comment on ${c.file}:${c.line} by ${e.actor.id}`);
          if (e.actor.kind === 'human') {
            this.notify(x.agentId, {
              ...when,
              kind: 'review_comment',
              experimentId: x.id,
              text: `${c.file}:${c.line}: ${c.body}`,
              data: { commentId: c.id, file: c.file, line: c.line, side: c.side, body: c.body, by: e.actor.id },
            });
          }
        }
        break;
      }
      case 'review.file_viewed': {
        let s = this.viewed.get(e.data.experimentId);
        if (!s) this.viewed.set(e.data.experimentId, (s = new Set()));
        if (e.data.viewed) s.add(e.data.file);
        else s.delete(e.data.file);
        break;
      }
      case 'forum.posted': {
        const d = e.data;
        this.posts.set(d.postId, {
          id: d.postId,
          author: e.actor,
          title: d.title,
          summary: d.summary,
          findingType: d.findingType,
          ideaName: d.ideaName,
          runId: d.runId,
          commitId: d.commitId,
          metrics: { ...d.metrics },
          config: d.config,
          ...(d.extra ? { extra: d.extra } : {}),
          votes: {},
          score: 0,
          comments: [],
          seq: e.seq,
          ts: e.ts,
        });
        if (e.actor.kind === 'agent' && d.metrics.pgr !== undefined) {
          for (const x of this.experiments.values()) if (x.agentId === e.actor.id && x.score) this.refreshVerification(x);
        }
        break;
      }
      case 'forum.commented': {
        const p = this.posts.get(e.data.postId);
        if (p) p.comments.push({ id: e.data.commentId, postId: p.id, author: e.actor, content: e.data.content, seq: e.seq, ts: e.ts });
        break;
      }
      case 'forum.voted': {
        const p = this.posts.get(e.data.postId);
        if (p) {
          p.votes[`${e.actor.kind}:${e.actor.id}`] = e.data.vote;
          p.score = Object.values(p.votes).reduce((s, v) => s + (v === 'up' ? 1 : -1), 0);
        }
        break;
      }
      case 'forum.verdict': {
        const p = this.posts.get(e.data.postId);
        if (p) {
          p.humanVerdict = { verdict: e.data.verdict, by: e.actor, note: e.data.note, seq: e.seq };
          if (p.author.kind === 'agent') {
            this.notify(p.author.id, {
              ...when,
              kind: 'forum_verdict',
              postId: p.id,
              text: `your finding "${p.title}" was marked ${e.data.verdict}${e.data.note ? `: ${e.data.note}` : ''}`,
              data: { verdict: e.data.verdict, note: e.data.note },
            });
          }
        }
        break;
      }
      case 'diversity.measured': {
        const m = parseDiversity(e.data.data, e.seq, e.ts);
        this.diversity = m;
        this.diversityHistory.push({ seq: m.seq, ts: m.ts, meanSimilarity: m.meanSimilarity, currentMeanSimilarity: m.currentMeanSimilarity, converged: m.converged });
        if (this.diversityHistory.length > DIVERSITY_HISTORY_MAX) this.diversityHistory.splice(0, this.diversityHistory.length - DIVERSITY_HISTORY_MAX);
        break;
      }
      case 'eval.final': {
        this.finals.push(parseFinal(e.data, e.actor, e.seq, e.ts));
        if (this.finals.length > FINALS_MAX) this.finals.splice(0, this.finals.length - FINALS_MAX);
        break;
      }
      case 'eval.query': {
        const a = this.agents.get(e.data.agentId);
        if (a) a.used.evalQueries += 1;
        break;
      }
      case 'policy.set':
        // only a human sets policy (the service refuses anyone else; a forged event is ignored here too)
        if (e.actor.kind !== 'human') break;
        this.policy = { version: e.data.version, setBy: e.actor.id, seq: e.seq, ts: e.ts, rules: e.data.rules.map((r) => ({ ...r })), auditShare: e.data.auditShare, note: e.data.note };
        this.disabledRules.clear();
        break;
      case 'policy.rule_disabled':
        if (this.policy?.version === e.data.version) this.disabledRules.set(e.data.rule, { by: e.actor.id, reason: e.data.reason, ts: e.ts, seq: e.seq, experimentId: e.data.experimentId });
        break;
      case 'policy.rule_enabled':
        if (e.actor.kind === 'human' && this.policy?.version === e.data.version) this.disabledRules.delete(e.data.rule);
        break;
      case 'audit.confirmed':
      case 'audit.flagged': {
        const a = this.autoApprovals.find((q) => q.experimentId === e.data.experimentId);
        if (a && e.actor.kind === 'human') a.audit = { outcome: e.type === 'audit.confirmed' ? 'confirmed' : 'flagged', by: e.actor.id, seq: e.seq, note: 'reason' in e.data ? e.data.reason : e.data.note };
        break;
      }
      case 'eval.probing_suspected': {
        this.openProbingAlerts.set(e.data.agentId, (this.openProbingAlerts.get(e.data.agentId) ?? 0) + 1);
        // every experiment of the agent with a job live now, or whose submissions raised it, is demoted
        const on = (e.data.evidence as { experimentId?: unknown }).experimentId;
        for (const x of this.experiments.values()) {
          if (x.agentId !== e.data.agentId) continue;
          const live = x.state === 'dispatched' || x.state === 'running';
          if (!live && x.id !== on) continue;
          (x.demotions ??= []).push({ seq: e.seq, reason: `probing alert #${e.seq} on ${e.data.dataset}/${e.data.split} ${x.id === on ? 'on its submissions' : 'while it ran'}` });
          this.refreshVerification(x);
        }
        break;
      }
      case 'run.decoy_matched': {
        const x = this.experiments.get(e.data.experimentId);
        // recorded by the hub only (an agent cannot write ledger events; a forged one is ignored here too)
        if (!x || e.actor.kind !== 'system') break;
        const job = e.data.index !== undefined ? `seed job ${e.data.index}` : 'the run';
        const reason = `${job} submitted predictions that follow the decoy labels at ${e.data.path} (agreement ${e.data.agreement.toFixed(3)}): it read where the fleet keeps labels`;
        (x.demotions ??= []).push({ seq: e.seq, reason });
        this.history(x, e, reason);
        this.refreshVerification(x);
        break;
      }
      case 'experiment.result_accepted': {
        const x = this.experiments.get(e.data.experimentId);
        // only a human accepts a result (the service refuses anyone else; a forged event is ignored here too)
        if (!x || e.actor.kind !== 'human') break;
        x.acceptance = { by: e.actor, seq: e.seq, ts: e.ts, reason: e.data.reason, falseAlarms: e.data.falseAlarms.map((f) => ({ ...f })) };
        this.history(x, e, `result accepted by ${e.actor.id}: ${e.data.reason}`);
        this.refreshVerification(x);
        break;
      }
      case 'eval.resumed':
        this.openProbingAlerts.delete(e.data.agentId);
        break;
      case 'episode.opened':
        this.notify(e.data.agentId, { ...when, kind: 'notice', text: 'your open proposals are held for a human review of your recent work', data: { episodeId: e.data.episodeId } });
        break;
      case 'episode.resolved':
        if (e.actor.kind === 'human') this.notify(e.data.agentId, { ...when, kind: 'notice', text: `${e.data.action === 'retire' ? 'retired' : e.data.action === 'review' ? 'held proposals go to individual review' : 'resumed'} by ${e.actor.id}: ${e.data.note}`, data: { episodeId: e.data.episodeId, action: e.data.action } });
        break;
      default:
        break;
    }
    this.episodes.apply(e, (i) => this.experiments.get(i), (a) => this.experimentsOf(a));
    if (AUDITED.has(e.type)) {
      this.audit.push({ seq: e.seq, ts: e.ts, type: e.type, actor: e.actor, summary: auditSummary(e), hash: e.hash });
    }
    this.touchExperiments(e);
  }

  /** Changes whenever the experiment may have changed (see `touchExperiments`). */
  experimentVersion(id: string): string {
    const c = VERSIONS.get(this);
    return c ? `${c.epoch}.${c.byId.get(id) ?? 0}` : '0.0';
  }

  private touchExperiments(e: AnyEvent): void {
    let c = VERSIONS.get(this);
    if (!c) VERSIONS.set(this, (c = { epoch: 0, byId: new Map() }));
    const d = e.data as { experimentId?: unknown; experimentIds?: unknown; supersedes?: unknown };
    let named = false;
    const bump = (id: unknown) => {
      if (typeof id !== 'string') return;
      named = true;
      c.byId.set(id, (c.byId.get(id) ?? 0) + 1);
    };
    bump(d.experimentId);
    bump(d.supersedes);
    if (Array.isArray(d.experimentIds)) for (const id of d.experimentIds) bump(id);
    if (!named && !LEAVES_EXPERIMENTS.test(e.type)) c.epoch++;
  }

  /** Why x's result will need a human's acceptance, judged when it is approved: gaming or critical findings, or an
   * approval of what the policy's hard limits keep from automatic approval (high or critical risk). */
  private acceptanceNeeds(x: Experiment): string[] {
    const out: string[] = [];
    const sc = x.screening;
    if (sc?.gaming) out.push('screening flagged evaluation gaming');
    const crit = sc?.findings.filter((f) => f.severity === 'critical') ?? [];
    if (crit.length) out.push(`critical finding${crit.length === 1 ? '' : 's'}: ${[...new Set(crit.map((f) => f.kind))].sort().join(', ')}`);
    if (!out.length && this.policy?.rules.length) {
      const risk = assessRisk(x, { record: this.recordOf(x.agentId) });
      if (risk.level === 'high' || risk.level === 'critical') out.push(`approval overrode the policy's hard limit (${risk.level} risk: ${risk.reasons[0]?.text ?? ''})`);
    }
    return out;
  }

  /** What x's result is worth now (core/verification.ts), against the agent's own claims in the forum. */
  verification(x: Experiment): { status: 'verified' | 'incomplete' | 'awaiting_acceptance' | 'unverified'; reasons: string[] } {
    const posts: ForumPost[] = [];
    for (const p of this.posts.values()) if (p.author.kind === 'agent' && p.author.id === x.agentId && p.metrics.pgr !== undefined) posts.push(p);
    const base = verificationOf(x, posts);
    if (!this.replicationRequired(x) || (base.status !== 'verified' && base.status !== 'awaiting_acceptance')) return base;
    const rv = this.replicationVerdict(x)!;
    if (rv.status === 'replicated') return base;
    if (rv.status === 'did_not_replicate') return { status: 'unverified', reasons: rv.reasons };
    return base.status === 'verified' ? { status: 'incomplete', reasons: rv.reasons } : { status: base.status, reasons: [...base.reasons, ...rv.reasons] };
  }

  /** What x's result is worth before its replication (what an agent is shown unless the fleet releases transfer
   * results, and what decides whether it is replicated at all). */
  baseVerification(x: Experiment): { status: 'verified' | 'incomplete' | 'awaiting_acceptance' | 'unverified'; reasons: string[] } {
    const posts: ForumPost[] = [];
    for (const p of this.posts.values()) if (p.author.kind === 'agent' && p.author.id === x.agentId && p.metrics.pgr !== undefined) posts.push(p);
    return verificationOf(x, posts);
  }

  /** Must x replicate on the hidden transfer task to be verified? (approved after the fleet configured one) */
  replicationRequired(x: Experiment): boolean {
    const r = this.replication;
    return !!r?.enabled && !!x.verdict && x.verdict.seq > r.seq;
  }

  /** x's replication verdict (core/replication.ts), when it must replicate. */
  replicationVerdict(x: Experiment): ReplicationVerdict | undefined {
    if (!this.replicationRequired(x)) return undefined;
    const pgrs = Array.isArray((x.score as { seedPgrs?: unknown } | undefined)?.seedPgrs) ? ((x.score as unknown as { seedPgrs: (number | null)[] }).seedPgrs) : x.score ? [x.score.pgr] : [];
    return replicationVerdict(pgrs, x.replication, this.replication!.tolerance, x.score?.split ?? 'test');
  }

  /** Keep x.verification and its score's `verified` flag as core/verification.ts says. */
  private refreshVerification(x: Experiment): void {
    const v = this.verification(x);
    x.verification = v;
    if (x.score) {
      x.score.verified = v.status === 'verified';
      x.score.status = v.status;
      const why = verificationReason(v);
      if (why) x.score.unverifiedReason = why;
      else delete x.score.unverifiedReason;
    }
  }

  private move(e: LedgerEvent & { data: { experimentId: string } }, to: ExperimentState, summary: string): void {
    const x = this.experiments.get(e.data.experimentId);
    if (!x) return;
    x.state = to;
    this.history(x, e, summary);
  }

  private history(x: Experiment, e: { seq: number; ts: string; type: string; actor: Actor }, summary: string): void {
    x.history.push({ seq: e.seq, ts: e.ts, type: e.type, actor: e.actor, summary });
  }

  private notify(agentId: string, item: InboxItem): void {
    let box = this.inbox.get(agentId);
    if (!box) this.inbox.set(agentId, (box = []));
    box.push(item);
  }

  // ---- queries ----

  agent(id: string): Agent | undefined {
    return this.agents.get(id);
  }

  experiment(id: string): Experiment | undefined {
    return this.experiments.get(id);
  }

  /** Experiments grouped by state, awaiting review first, each group oldest first. */
  queue(): { state: ExperimentState; experiments: Experiment[] }[] {
    const order = QUEUE_ORDER;
    const groups = new Map<ExperimentState, Experiment[]>(order.map((s) => [s, []]));
    for (const x of this.experiments.values()) groups.get(x.state)!.push(x);
    return order.map((state) => ({ state, experiments: groups.get(state)! })).filter((g) => g.experiments.length);
  }

  /** Sampled automatic approvals no human has audited yet (the post-hoc audit queue), oldest first. */
  auditQueue(): AutoApproval[] {
    return this.autoApprovals.filter((a) => a.sampled && !a.audit);
  }

  /** The agent's record as risk reads it: vetoes, open probing alerts, runs whose report names violations. */
  recordOf(agentId: string): { vetoes: number; openAlerts: number; runViolations: number } {
    let vetoes = 0;
    let runViolations = 0;
    for (const x of this.experiments.values()) {
      if (x.agentId !== agentId) continue;
      if (x.verdict?.decision === 'vetoed') vetoes++;
      if ((x.run?.report?.violations ?? 0) > 0) runViolations++;
    }
    return { vetoes, openAlerts: this.openProbingAlerts.get(agentId) ?? 0, runViolations };
  }

  /** The agent's last approved commit proposed before `beforeSeq` (what a re-run is compared with), among the
   * approvals recorded before `approvedBefore` (a decided proposal keeps the comparison it was decided with). */
  lastApprovedOf(agentId: string, beforeSeq: number, approvedBefore = Infinity): Experiment | undefined {
    let best: Experiment | undefined;
    for (const x of this.experiments.values()) {
      if (x.agentId !== agentId || x.verdict?.decision !== 'approved' || x.proposedSeq >= beforeSeq || x.verdict.seq >= approvedBefore) continue;
      if (!best || x.verdict.seq > best.verdict!.seq) best = x;
    }
    return best;
  }

  awaitingReviewCount(): number {
    let n = 0;
    for (const x of this.experiments.values()) if (UNDECIDED.includes(x.state)) n++;
    return n;
  }

  experimentsOf(agentId: string): Experiment[] {
    return [...this.experiments.values()].filter((x) => x.agentId === agentId);
  }

  commentsFor(experimentId: string): ReviewComment[] {
    return [...this.comments.values()].filter((c) => c.experimentId === experimentId);
  }

  inboxOf(agentId: string, afterSeq = 0): InboxItem[] {
    return (this.inbox.get(agentId) ?? []).filter((i) => i.seq > afterSeq);
  }

  /** Forum threads: newest first, or top (score, then newest). */
  threads(sort: 'new' | 'top' | 'discussed' = 'new'): ForumPost[] {
    const all = [...this.posts.values()];
    if (sort === 'top') all.sort((a, b) => b.score - a.score || b.seq - a.seq);
    else if (sort === 'discussed') all.sort((a, b) => b.comments.length - a.comments.length || b.seq - a.seq);
    else all.sort((a, b) => b.seq - a.seq);
    return all;
  }

  /** GPU-hours committed (approved and not refunded) vs budget for an agent. */
  budgetOf(agentId: string): { budget: Agent['budget']; used: Agent['used']; remainingGpuHours: number } | undefined {
    const a = this.agents.get(agentId);
    if (!a) return undefined;
    return { budget: a.budget, used: a.used, remainingGpuHours: a.budget.gpuHours - a.used.gpuHours };
  }

  auditTrail(limit = 200): AuditEntry[] {
    return this.audit.slice(-limit).reverse();
  }

  toJSON(): FleetSnapshotState {
    return {
      name: this.name,
      baseBranch: this.baseBranch,
      lastSeq: this.lastSeq,
      agents: [...this.agents.values()],
      experiments: [...this.experiments.values()],
      posts: [...this.posts.values()],
      comments: [...this.comments.values()],
      viewed: [...this.viewed].map(([k, v]) => [k, [...v]]),
      inbox: [...this.inbox],
      audit: this.audit,
      diversity: this.diversity ?? null,
      diversityHistory: this.diversityHistory,
      finals: this.finals,
      unconfinedRunners: [...this.unconfinedRunners],
      policy: this.policy ?? null,
      disabledRules: [...this.disabledRules],
      autoApprovals: this.autoApprovals,
      openProbingAlerts: [...this.openProbingAlerts],
      episodes: this.episodes.toJSON(),
      replication: this.replication ?? null,
    };
  }

  static fromJSON(s: FleetSnapshotState): FleetState {
    if (s.lastSeq > 0 && (!Array.isArray(s.diversityHistory) || !Array.isArray(s.finals))) {
      // A SyntaxError: FleetService.open then ignores the snapshot and replays the whole ledger once.
      throw new SyntaxError('snapshot predates the diversity and final-evaluation projections');
    }
    if (s.lastSeq > 0 && (!Array.isArray(s.unconfinedRunners) || s.policy === undefined || !Array.isArray(s.disabledRules) || !s.disabledRules.every((d) => Array.isArray(d)) || !Array.isArray(s.autoApprovals) || !Array.isArray(s.openProbingAlerts))) {
      throw new SyntaxError('snapshot predates the runner, approval-policy and probing-alert projections');
    }
    if (s.lastSeq > 0 && !s.episodes) throw new SyntaxError('snapshot predates agent episodes');
    if (s.lastSeq > 0 && s.replication === undefined) throw new SyntaxError('snapshot predates replication');
    const f = new FleetState();
    f.name = s.name;
    f.baseBranch = s.baseBranch;
    f.lastSeq = s.lastSeq;
    for (const a of s.agents) f.agents.set(a.id, a);
    for (const x of s.experiments) f.experiments.set(x.id, x);
    for (const p of s.posts) f.posts.set(p.id, p);
    for (const c of s.comments) f.comments.set(c.id, c);
    for (const [k, v] of s.viewed) f.viewed.set(k, new Set(v));
    for (const [k, v] of s.inbox) f.inbox.set(k, v);
    f.audit.push(...s.audit);
    f.diversity = s.diversity ?? undefined;
    f.diversityHistory.push(...(s.diversityHistory ?? []));
    f.finals.push(...(s.finals ?? []));
    for (const [k, v] of s.unconfinedRunners ?? []) f.unconfinedRunners.set(k, v);
    f.policy = s.policy ?? undefined;
    for (const [k, v] of s.disabledRules ?? []) f.disabledRules.set(k, v);
    f.autoApprovals.push(...(s.autoApprovals ?? []));
    for (const [k, v] of s.openProbingAlerts ?? []) f.openProbingAlerts.set(k, v);
    if (s.episodes) f.episodes = EpisodeBook.fromJSON(s.episodes);
    f.replication = s.replication ?? undefined;
    return f;
  }
}

/** The experiment's seed job `index`, created on first mention (kept sorted by index). */
function replicationOf(x: Experiment): ReplicationInfo {
  return (x.replication ??= { jobs: 0, records: [], scores: [], history: [] });
}

function seedJob(x: Experiment, index: number): SeedJob {
  const jobs = (x.run!.jobs ??= []);
  let j = jobs.find((q) => q.index === index);
  if (!j) {
    j = { index, runner: x.run!.runner, jobId: '' };
    jobs.push(j);
    jobs.sort((a, b) => a.index - b.index);
  }
  return j;
}

const finiteOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const shortText = (v: unknown, max: number): string => (typeof v === 'string' ? v.slice(0, max) : '');
function interval(v: unknown): [number, number] | null {
  if (!Array.isArray(v) || v.length !== 2) return null;
  const lo = finiteOrNull(v[0]);
  const hi = finiteOrNull(v[1]);
  return lo === null || hi === null ? null : [lo, hi];
}

/** `diversity.measured` data is a free-form record: keep only well-typed fields, bounded. */
function parseDiversity(d: Record<string, unknown>, seq: number, ts: string): DiversityMeasurement {
  const pairs = Array.isArray(d.topPairs) ? d.topPairs : [];
  const flags = Array.isArray(d.flags) ? d.flags : [];
  return {
    seq,
    ts,
    meanSimilarity: finiteOrNull(d.meanSimilarity),
    currentMeanSimilarity: finiteOrNull(d.currentMeanSimilarity),
    converged: d.converged === true,
    agents: finiteOrNull(d.agents) ?? 0,
    documents: finiteOrNull(d.documents) ?? 0,
    threshold: finiteOrNull(d.threshold),
    topPairs: pairs
      .filter((p): p is Record<string, unknown> => !!p && typeof p === 'object')
      .map((p) => ({ a: shortText(p.a, 64), b: shortText(p.b, 64), similarity: finiteOrNull(p.similarity) ?? 0 }))
      .slice(0, 5),
    flags: flags.filter((f): f is string => typeof f === 'string').slice(0, 10).map((f) => f.slice(0, 300)),
  };
}

function parseFinal(d: { dataset: string; split: string; result: Record<string, unknown>; experimentId?: string }, by: Actor, seq: number, ts: string): FinalEvaluation {
  const r = d.result;
  return {
    seq,
    ts,
    by,
    dataset: d.dataset,
    split: d.split,
    ...(d.experimentId ? { experimentId: d.experimentId } : {}),
    transferAcc: finiteOrNull(r.transfer_acc),
    pgr: finiteOrNull(r.pgr),
    transferAccCi: interval(r.transfer_acc_ci),
    pgrCi: interval(r.pgr_ci),
    correct: finiteOrNull(r.correct),
    total: finiteOrNull(r.total),
  };
}

function auditSummary(e: AnyEvent): string {
  const d = e.data as Record<string, unknown>;
  const subject = (d.experimentId ?? d.agentId ?? d.postId ?? d.tokenId ?? '') as string;
  const reason = (d.reason ?? d.note ?? d.verdict ?? d.summary ?? (e.type === 'runner.unconfined' ? (d.runner as string) + (d.confined ? ' is confined again' : ': runs are NOT confined ("sandbox": "none")') : '')) as string;
  return `${e.type.split('.')[1]!.replace('_', ' ')} ${subject}${reason ? `: ${reason}` : ''}`.trim();
}
