// Verified leaderboard. An entry is verified only when its numbers come from evaluation calls the hub
// logged itself, bound (by the hub, not by the agent's say-so) to a run it dispatched from an approved
// commit. Metrics agents post to the forum are listed as self-reported and never ranked as verified.
import { seedEvidenceDemotions } from '../core/verification';
import { summarizeSeeds } from './stats';

/** One logged evaluation (projection of an `eval.query` ledger event). */
export interface EvalRecord {
  seq: number;
  ts: string;
  agentId: string;
  actorKind: 'agent' | 'human' | 'system';
  dataset: string;
  split: string;
  weakModel?: string;
  strongModel?: string;
  transferAcc: number;
  pgr: number | null;
  /** 'ladder' (ad-hoc agent query), 'run' (bound to a dispatched experiment), 'exact' (human or train_label). */
  mode: string;
  newBest: boolean;
  runId?: string;
  experimentId?: string;
  predHash: string;
  /** Run-bound: the seed job (from the job token) and the seed the hub chose for it. */
  job?: number;
  seed?: number;
  /** The request's own `run_id` (stored, never used for identity). */
  clientRunId?: string;
}

/** Metrics an agent claimed in a forum post (AAR `findings/share`). */
export interface SelfReport {
  postId: string;
  agentId: string;
  title: string;
  ideaName?: string;
  runId?: string;
  commitId?: string;
  pgr?: number;
  transferAcc?: number;
  numSeeds?: number;
  dataset?: string;
  humanVerdict?: string;
  seq: number;
  ts: string;
}

export interface FixedBaselines {
  weak_model: string;
  strong_model: string;
  weak_acc: number;
  strong_acc: number;
  weak_se?: number;
  strong_se?: number;
}

export interface LeaderboardQuery {
  dataset?: string;
  split?: string;
  weak_model?: string;
  strong_model?: string;
}

export interface LeaderboardEntry {
  rank: number | null;
  verified: boolean;
  source: 'verified_eval' | 'self_reported' | 'unbound_eval';
  agent_id: string;
  experiment_id?: string;
  post_id?: string;
  title?: string;
  idea_name?: string;
  run_ids?: string[];
  pgr: number | null;
  pgr_ci?: [number, number] | null;
  transfer_acc: number | null;
  transfer_acc_ci?: [number, number] | null;
  num_seeds: number;
  preliminary: boolean;
  human_verdict?: string;
  eval_seqs?: number[];
  updated_at: string;
  /** Why a run-bound entry is not verified (demoted, incomplete — a seed job the approval fixed did not evaluate —,
   * or awaiting a human's acceptance). */
  unverified_reason?: string;
  /** Seed jobs the approval fixed, and how many of them evaluated (absent for experiments approved before
   * seed jobs existed). */
  seed_jobs?: number;
  seed_jobs_evaluated?: number;
  /** What the entry is worth (core/verification.ts): verified, incomplete (fewer seed jobs evaluated than the
   * approval fixed, or its run still going), awaiting_acceptance or unverified. */
  status?: 'verified' | 'incomplete' | 'awaiting_acceptance' | 'unverified';
  /** Seed jobs whose prediction vector is identical to an earlier seed job's: shown, and counted once in the
   * mean and CI (`num_seeds` counts distinct vectors). */
  duplicate_seeds?: number;
  /** The hub's seed values of the evaluated seed jobs, by job index. */
  seeds?: number[];
  /** Prediction vectors seed jobs submitted after their scored one (different from it): probes of the scorer. */
  resubmitted_vectors?: number;
}

export interface LeaderboardResponse {
  experiments: LeaderboardEntry[];
  total: number;
  fixed_baselines: FixedBaselines | null;
}

export interface LeaderboardInput {
  records: readonly EvalRecord[];
  selfReports: readonly SelfReport[];
  /** True when the experiment was dispatched by the hub from the commit a human approved. */
  isApprovedRun: (experimentId: string) => boolean;
  /** Seed jobs the approval of an experiment fixed (undefined: approved before seed jobs existed). */
  seedJobsOf?: (experimentId: string) => number | undefined;
  baselines: FixedBaselines | null;
  query: LeaderboardQuery;
  /** Fewer seeds than this → preliminary (default 3). */
  minSeeds?: number;
  /** Bootstrap seed for CIs over seeds. */
  seed?: number;
}

function matches(r: EvalRecord, q: LeaderboardQuery, split: string): boolean {
  if (q.dataset !== undefined && r.dataset !== q.dataset) return false;
  if (r.split !== split) return false;
  if (q.weak_model !== undefined && r.weakModel !== undefined && r.weakModel !== q.weak_model) return false;
  if (q.strong_model !== undefined && r.strongModel !== undefined && r.strongModel !== q.strong_model) return false;
  return true;
}

const round4 = (x: number) => Math.round(x * 1e4) / 1e4;
const ci = (c?: { lo: number; hi: number }): [number, number] | null =>
  c && Number.isFinite(c.lo) && Number.isFinite(c.hi) ? [round4(c.lo), round4(c.hi)] : null;

/** Pure: the AAR-shaped `GET /api/leaderboard` response. */
export function buildLeaderboard(input: LeaderboardInput): LeaderboardResponse {
  const q = input.query;
  const split = q.split ?? 'test';
  const minSeeds = input.minSeeds ?? 3;
  const verified: LeaderboardEntry[] = [];
  const unverified: LeaderboardEntry[] = [];

  // Verified: run-bound (or human-run exact) evaluations of approved, dispatched experiments.
  const byExp = new Map<string, EvalRecord[]>();
  for (const r of input.records) {
    if (!r.experimentId || !matches(r, q, split)) continue;
    if (r.mode !== 'run' && !(r.mode === 'exact' && r.actorKind === 'human')) continue;
    if (!input.isApprovedRun(r.experimentId)) continue;
    const list = byExp.get(r.experimentId) ?? [];
    list.push(r);
    byExp.set(r.experimentId, list);
  }
  for (const [experimentId, list] of byExp) {
    // One value per seed job: its first run-bound evaluation fixed the score (later ones repeat it). Records
    // made before seed jobs existed count one value per run id (the last), or per record without one.
    const seeds = new Map<string, EvalRecord>();
    for (const r of list) {
      if (r.job !== undefined) {
        const k = `#job${r.job}`;
        if (!seeds.has(k)) seeds.set(k, r);
      } else seeds.set(r.runId ?? `#${r.seq}`, r);
    }
    const all = [...seeds.values()];
    // Identical prediction vectors are one result, whatever seed they claim: count each vector once.
    const byVector = new Map<string, EvalRecord>();
    for (const r of all) if (!byVector.has(r.predHash)) byVector.set(r.predHash, r);
    const rs = [...byVector.values()];
    const duplicates = all.length - rs.length;
    // A seed job has one score (its first evaluation); a different vector submitted afterwards is a probe of the
    // scorer, whatever its body calls it: counted (distinct extra vectors per seed job).
    const extra = new Map<number, Set<string>>();
    for (const r of list) {
      if (r.job === undefined) continue;
      const first = seeds.get(`#job${r.job}`);
      if (!first || r.predHash === first.predHash) continue;
      let set = extra.get(r.job);
      if (!set) extra.set(r.job, (set = new Set()));
      set.add(r.predHash);
    }
    const resubmitted = [...extra.values()].reduce((n, v) => n + v.size, 0);
    const accs = rs.map((r) => r.transferAcc);
    const pgrs = rs.map((r) => r.pgr).filter((x): x is number => x !== null);
    const sa = summarizeSeeds(accs, { minSeeds, seed: input.seed ?? 1, iterations: 1000 });
    const sp = pgrs.length ? summarizeSeeds(pgrs, { minSeeds, seed: input.seed ?? 1, iterations: 1000 }) : undefined;
    const fixed = input.seedJobsOf?.(experimentId);
    const jobs = all.filter((r) => r.job !== undefined && (fixed === undefined || r.job < fixed)).sort((a, b) => a.job! - b.job!);
    const incomplete = fixed !== undefined && jobs.length < fixed;
    const entry: LeaderboardEntry = {
      rank: null,
      verified: !incomplete,
      source: 'verified_eval',
      agent_id: all[0].agentId,
      experiment_id: experimentId,
      run_ids: all.map((r) => r.runId).filter((x): x is string => !!x),
      pgr: sp ? round4(sp.mean) : null,
      pgr_ci: ci(sp?.ci),
      transfer_acc: round4(sa.mean),
      transfer_acc_ci: ci(sa.ci),
      num_seeds: rs.length,
      preliminary: rs.length < minSeeds,
      eval_seqs: all.map((r) => r.seq),
      updated_at: all.reduce((a, r) => (r.ts > a ? r.ts : a), all[0].ts),
      duplicate_seeds: duplicates,
      ...(resubmitted ? { resubmitted_vectors: resubmitted } : {}),
    };
    if (fixed !== undefined) {
      entry.seed_jobs = fixed;
      entry.seed_jobs_evaluated = jobs.length;
      if (incomplete) entry.status = 'incomplete';
      const sv = jobs.map((r) => r.seed).filter((x): x is number => x !== undefined);
      if (sv.length) entry.seeds = sv;
    }
    if (incomplete) {
      entry.unverified_reason = `incomplete: ${jobs.length} of ${fixed} seed jobs evaluated`;
      unverified.push(entry);
    } else verified.push(entry);
  }

  // Unbound: each agent's best released ad-hoc score (server-computed, but not tied to an approved run).
  const bestByAgent = new Map<string, EvalRecord>();
  for (const r of input.records) {
    if (r.mode !== 'ladder' || !r.newBest || !matches(r, q, split)) continue;
    const cur = bestByAgent.get(r.agentId);
    if (!cur || r.transferAcc > cur.transferAcc) bestByAgent.set(r.agentId, r);
  }
  for (const r of bestByAgent.values()) {
    unverified.push({
      rank: null,
      verified: false,
      source: 'unbound_eval',
      agent_id: r.agentId,
      pgr: r.pgr === null ? null : round4(r.pgr),
      transfer_acc: r.transferAcc,
      num_seeds: 1,
      preliminary: true,
      eval_seqs: [r.seq],
      updated_at: r.ts,
    });
  }

  // Self-reported: forum claims, shown for context, never verified.
  for (const s of input.selfReports) {
    if (s.pgr === undefined && s.transferAcc === undefined) continue;
    if (q.dataset !== undefined && s.dataset !== undefined && s.dataset !== q.dataset) continue;
    unverified.push({
      rank: null,
      verified: false,
      source: 'self_reported',
      agent_id: s.agentId,
      post_id: s.postId,
      title: s.title,
      idea_name: s.ideaName,
      pgr: s.pgr ?? null,
      transfer_acc: s.transferAcc ?? null,
      num_seeds: s.numSeeds ?? 0,
      preliminary: (s.numSeeds ?? 0) < minSeeds,
      human_verdict: s.humanVerdict,
      updated_at: s.ts,
    });
  }

  const byPgr = (a: LeaderboardEntry, b: LeaderboardEntry) =>
    (b.pgr ?? -Infinity) - (a.pgr ?? -Infinity) || (b.transfer_acc ?? -Infinity) - (a.transfer_acc ?? -Infinity);
  // Verified entries backed by enough seeds first, then preliminary verified ones, then everything else.
  verified.sort((a, b) => Number(a.preliminary) - Number(b.preliminary) || byPgr(a, b));
  verified.forEach((e, i) => (e.rank = i + 1));
  unverified.sort(byPgr);
  const experiments = [...verified, ...unverified];
  return { experiments, total: experiments.length, fixed_baselines: input.baselines };
}

/** Why an entry's own evaluations demote it (core/verification.ts, the same reasons as for a recorded score). */
export function intrinsicDemotion(e: Pick<LeaderboardEntry, 'duplicate_seeds' | 'resubmitted_vectors'>): string | undefined {
  const why = seedEvidenceDemotions(e.duplicate_seeds ?? 0, e.resubmitted_vectors ?? 0);
  return why.length ? why.join('; ') : undefined;
}

export type EntryVerdict = { status: 'incomplete' | 'awaiting_acceptance' | 'unverified'; reason: string };

/**
 * The fleet's verdict on each run-bound entry (`verdictOf`, from the fleet projection: demotions, runs still going,
 * results awaiting a human's acceptance; a plain string is a demotion): such entries leave the verified ranking,
 * saying why, and the rest are ranked again. Every entry carries its `status`. Pure.
 */
export function withRunVerdicts(resp: LeaderboardResponse, verdictOf: (experimentId: string) => EntryVerdict | string | undefined): LeaderboardResponse {
  const verified: LeaderboardEntry[] = [];
  const held: LeaderboardEntry[] = [];
  const rest: LeaderboardEntry[] = [];
  for (const e of resp.experiments) {
    const v = e.verified && e.experiment_id ? (intrinsicDemotion(e) ?? verdictOf(e.experiment_id)) : undefined;
    const verdict: EntryVerdict | undefined = typeof v === 'string' ? { status: 'unverified', reason: v } : v;
    if (verdict) held.push({ ...e, verified: false, rank: null, status: verdict.status, unverified_reason: verdict.reason });
    else if (e.verified) verified.push({ ...e, status: e.status ?? 'verified' });
    else rest.push({ ...e, status: e.status ?? 'unverified' });
  }
  verified.forEach((e, i) => (e.rank = i + 1));
  // awaiting acceptance and incomplete before the demoted: they may still count
  const order = { awaiting_acceptance: 0, incomplete: 1, unverified: 2, verified: 3 } as const;
  held.sort((a, b) => order[a.status ?? 'unverified'] - order[b.status ?? 'unverified']);
  const experiments = [...verified, ...held, ...rest];
  return { ...resp, experiments, total: experiments.length };
}
