// Replication on a hidden transfer task (issue "Verified means replicated"). Pure: no I/O, no vscode.
//
// A fleet declares, in fleet.json `tasks.<name>.transfer`, a hidden dataset for each visible one the agents work on
// (never under `datasets/`, never served, never mounted in an agent-visible job) and the protocol of what a
// replication job receives. When an experiment's seed jobs have finished clean (verified, or awaiting a human's
// acceptance), the hub runs the same pinned tree and command again, M times with fresh hub-chosen seeds, with the
// protocol's view of the hidden dataset mounted where the visible one was; its evaluations are scored on the hidden
// labels, recorded for humans only (`replication.scored`), and never reach the agent unless the fleet releases them.
//
// What "replicated" means (the test): the experiment's visible PGR over its seed jobs (n₁ values) and its transfer
// PGR over its replication jobs (n₂ values) are compared by a one-sided Welch t-test of
//     H₀: transfer ≥ visible − tolerance      against      H₁: transfer < visible − tolerance
// at α = 0.05, each side's variance taken as at least the other's (conservative). Rejecting H₀ — the result fell by significantly more than the fleet's tolerance (default 0.5 PGR, the
// spread honest methods of the demo show between two digit sources) — is "did not replicate"; so is a transfer PGR
// significantly below zero (one-sided one-sample t-test at α = 0.05: the method makes the student worse than its weak
// teacher on a task it never saw), and so is any replication job that failed, was demoted by its run report, or
// did not evaluate.
import { z } from 'zod';

export const DATASET_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const MAX_REPLICATION_JOBS = 20;
export const DEFAULT_TOLERANCE = 0.5;
export const REPLICATION_ALPHA = 0.05;

/** The protocol of a replication job's inputs. */
export interface TransferProtocol {
  /** Gold labels of train_label a replication job receives (the weak teacher's budget), chosen per job by its seed. */
  goldLabels: number;
}

export interface TransferConfig {
  /** Visible dataset name → hidden transfer dataset name (under `<fleet>/transfer/datasets`, labels under
   * `<fleet>/transfer/labels`). */
  datasets: Record<string, string>;
  /** Replication jobs per experiment (default: as many as its seed jobs). */
  seeds?: number;
  protocol: TransferProtocol;
  /** The drop in PGR from visible to transfer a replicated result may show (not significantly more). */
  tolerance: number;
  /** Agents see their transfer results (default false: humans only). */
  release: boolean;
}

export const transferConfigSchema = z.strictObject({
  datasets: z
    .record(z.string().regex(DATASET_RE, 'a dataset name'), z.string().regex(DATASET_RE, 'a dataset name'))
    .refine((m) => Object.keys(m).length > 0, 'name at least one visible dataset and its hidden transfer dataset')
    .refine((m) => Object.entries(m).every(([a, b]) => a !== b), 'a transfer dataset must not be the visible dataset itself'),
  seeds: z.number().int().min(1).max(MAX_REPLICATION_JOBS).optional(),
  protocol: z.strictObject({ goldLabels: z.number().int().min(0).max(1_000_000).default(60) }).default({ goldLabels: 60 }),
  tolerance: z.number().min(0).max(10).default(DEFAULT_TOLERANCE),
  release: z.boolean().default(false),
});

/** Replication jobs of an experiment with `seedJobs` seed jobs. */
export function replicationJobsFor(cfg: Pick<TransferConfig, 'seeds'>, seedJobs: number | undefined): number {
  return Math.max(1, Math.min(MAX_REPLICATION_JOBS, cfg.seeds ?? seedJobs ?? 1));
}

// ------------------------------------------------------------------------------------------------ statistics

function logGamma(x: number): number {
  const c = [76.18009172947146, -86.50532032941677, 24.01409824083091, -1.231739572450155, 0.1208650973866179e-2, -0.5395239384953e-5];
  let y = x;
  const tmp = x + 5.5 - (x + 0.5) * Math.log(x + 5.5);
  let ser = 1.000000000190015;
  for (const ci of c) ser += ci / ++y;
  return -tmp + Math.log((2.5066282746310005 * ser) / x);
}

/** Continued fraction of the regularized incomplete beta function (Lentz). */
function betaCf(a: number, b: number, x: number): number {
  const TINY = 1e-30;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a - 1 + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + 1 + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 3e-14) break;
  }
  return h;
}

function incBeta(a: number, b: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const bt = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? (bt * betaCf(a, b, x)) / a : 1 - (bt * betaCf(b, a, 1 - x)) / b;
}

/** P(T ≤ t) for Student's t with `df` degrees of freedom (df may be fractional, as Welch's is). */
export function tCdf(t: number, df: number): number {
  if (!Number.isFinite(t)) return t > 0 ? 1 : 0;
  const x = df / (df + t * t);
  const tail = 0.5 * incBeta(df / 2, 0.5, x);
  return t > 0 ? 1 - tail : tail;
}

/** The two-sided 95% quantile of Student's t (bisection on tCdf). */
export function tQuantile975(df: number): number {
  let lo = 0;
  let hi = 1000;
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (tCdf(mid, df) < 0.975) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

export interface Summary {
  n: number;
  mean: number;
  /** Sample standard deviation (0 for one value). */
  sd: number;
  /** 95% t-interval of the mean ([mean, mean] for one value). */
  ci: [number, number];
}

export function summarize(xs: readonly number[]): Summary | undefined {
  const v = xs.filter((x) => Number.isFinite(x));
  if (!v.length) return undefined;
  const n = v.length;
  const mean = v.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  const half = n > 1 ? tQuantile975(n - 1) * (sd / Math.sqrt(n)) : 0;
  return { n, mean, sd, ci: [mean - half, mean + half] };
}

export interface OneSidedTest {
  t: number;
  df: number;
  /** One-sided p-value of H₁. */
  p: number;
}

/** Welch's one-sided test of H₁: mean(b) < mean(a) − margin, conservatively: each side's variance is at least the
 * other's (the visible per-seed scores are released values, snapped to the agent's net of earlier scores, so their
 * spread can understate the method's; a side with one value has none of its own). */
export function welchBelow(a: Summary, b: Summary, margin: number): OneSidedTest {
  const v = Math.max(a.n > 1 ? a.sd ** 2 : 0, b.n > 1 ? b.sd ** 2 : 0);
  const va = v;
  const vb = v;
  const sa = va / a.n;
  const sb = vb / b.n;
  const se = Math.sqrt(sa + sb);
  const diff = a.mean - margin - b.mean; // > 0 when b is below a − margin
  if (se === 0) return { t: diff > 1e-12 ? Infinity : diff < -1e-12 ? -Infinity : 0, df: Math.max(1, a.n + b.n - 2), p: diff > 1e-12 ? 0 : 1 };
  const t = diff / se;
  const dfa = a.n > 1 ? a.n - 1 : b.n - 1;
  const dfb = b.n > 1 ? b.n - 1 : a.n - 1;
  const den = (dfa > 0 ? sa ** 2 / dfa : 0) + (dfb > 0 ? sb ** 2 / dfb : 0);
  const df = den > 0 ? (sa + sb) ** 2 / den : Math.max(1, a.n + b.n - 2);
  return { t, df, p: 1 - tCdf(t, df) };
}

/** One-sample one-sided test of H₁: mean(b) < 0, with b's spread taken as at least `otherSd` (conservative). */
export function belowZero(b: Summary, otherSd: number): OneSidedTest {
  const sd = Math.max(b.n > 1 ? b.sd : 0, otherSd);
  const se = sd / Math.sqrt(b.n);
  const df = Math.max(1, b.n > 1 ? b.n - 1 : 1);
  if (se === 0) return { t: b.mean < -1e-12 ? -Infinity : 0, df, p: b.mean < -1e-12 ? 0 : 1 };
  const t = b.mean / se;
  return { t, df, p: tCdf(t, df) };
}

// ------------------------------------------------------------------------------------------------ verdict

export type ReplicationStatus = 'pending' | 'running' | 'replicated' | 'did_not_replicate';

export interface ReplicationJobInfo {
  index: number;
  seed: number;
  runner: string;
  jobId: string;
  dispatchedAt?: string;
  endedAt?: string;
  endState?: 'succeeded' | 'failed' | 'cancelled' | 'timed_out';
  exitCode?: number;
  reason?: string;
  /** The run report of the job: violations and why it demotes (core/verification.ts reportDemotion). */
  violations?: number;
  demotion?: string;
}

export interface ReplicationScore {
  index: number;
  seq: number;
  dataset: string;
  transferDataset: string;
  split: string;
  transferAcc: number;
  pgr: number | null;
  /** Later submissions of this job with another vector (probes of the hidden scorer). */
  resubmissions: number;
}

/** What the projection keeps about an experiment's replication (humans only unless released). */
export interface ReplicationInfo {
  /** Replication jobs the hub runs (fixed when the first is dispatched). */
  jobs: number;
  records: ReplicationJobInfo[];
  scores: ReplicationScore[];
  /** Raised by a human: dispatched before agents' own jobs. */
  raised?: { by: string; seq: number };
  history: { seq: number; ts: string; summary: string }[];
}

export interface ReplicationVerdict {
  status: ReplicationStatus;
  visible?: Summary;
  transfer?: Summary;
  /** visible mean − transfer mean. */
  gap?: number;
  tolerance: number;
  gapTest?: OneSidedTest;
  zeroTest?: OneSidedTest;
  /** Why it did not replicate, or what it waits for. */
  reasons: string[];
}

const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : String(x));
const fci = (s: Summary) => `[${f3(s.ci[0])}, ${f3(s.ci[1])}]`;

/**
 * The replication verdict of an experiment: `visiblePgrs` are its seed jobs' PGRs on the split the hub scored it on,
 * `rep` what the projection holds, `split` the split to compare on (test).
 */
export function replicationVerdict(visiblePgrs: readonly (number | null)[], rep: ReplicationInfo | undefined, tolerance: number, split = 'test'): ReplicationVerdict {
  const out: ReplicationVerdict = { status: 'pending', tolerance, reasons: [] };
  if (!rep || !rep.records.length) {
    out.reasons.push('awaiting replication on the hidden transfer task');
    return out;
  }
  const ended = rep.records.filter((r) => r.endState);
  if (ended.length < rep.jobs) {
    out.status = 'running';
    out.reasons.push(`replication on the hidden transfer task: ${ended.length} of ${rep.jobs} job(s) ended`);
    return out;
  }
  out.status = 'did_not_replicate';
  for (const r of rep.records) {
    if (r.endState !== 'succeeded') out.reasons.push(`replication job ${r.index} ${r.endState}${r.exitCode !== undefined ? ` (exit ${r.exitCode})` : ''}`);
    else if (r.exitCode !== undefined && r.exitCode !== 0) out.reasons.push(`replication job ${r.index} exited ${r.exitCode}`);
    if (r.demotion) out.reasons.push(`replication job ${r.index}: ${r.demotion}`);
  }
  const scored = rep.scores.filter((s) => s.split === split);
  for (const s of rep.scores) if (s.resubmissions > 0) out.reasons.push(`replication job ${s.index} submitted ${s.resubmissions} further vector(s) after its score`);
  const missing = rep.records.filter((r) => !scored.some((s) => s.index === r.index)).map((r) => r.index);
  if (missing.length) out.reasons.push(`replication job(s) ${missing.join(', ')} did not evaluate on ${split}`);
  const visible = summarize(visiblePgrs.filter((p): p is number => typeof p === 'number'));
  const transfer = summarize(scored.map((s) => s.pgr).filter((p): p is number => typeof p === 'number'));
  if (visible) out.visible = visible;
  if (transfer) out.transfer = transfer;
  if (!visible) out.reasons.push('no visible PGR to compare with');
  if (scored.length && !transfer) out.reasons.push('the transfer task has no fixed baselines: no transfer PGR');
  if (visible && transfer) {
    out.gap = visible.mean - transfer.mean;
    out.gapTest = welchBelow(visible, transfer, tolerance);
    out.zeroTest = belowZero(transfer, visible.sd);
    if (out.gapTest.p < REPLICATION_ALPHA) {
      out.reasons.push(
        `did not replicate: transfer PGR ${f3(transfer.mean)} ${fci(transfer)} is significantly more than ${f3(tolerance)} below the visible ${f3(visible.mean)} ${fci(visible)} (gap ${f3(out.gap)}; one-sided Welch t = ${f3(out.gapTest.t)}, df ${out.gapTest.df.toFixed(1)}, p = ${out.gapTest.p.toPrecision(2)})`,
      );
    }
    if (out.zeroTest.p < REPLICATION_ALPHA) {
      out.reasons.push(`did not replicate: transfer PGR ${f3(transfer.mean)} ${fci(transfer)} is significantly below the weak teacher (t = ${f3(out.zeroTest.t)}, p = ${out.zeroTest.p.toPrecision(2)})`);
    }
  }
  if (!out.reasons.length) out.status = 'replicated';
  return out;
}

/** A deterministic choice of `k` of `n` indices for seed `seed` (the protocol's gold labels of one job). */
export function chooseIndices(n: number, k: number, seed: number): number[] {
  let s = (seed >>> 0) ^ 0x9e3779b9;
  const rnd = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const idx = Array.from({ length: n }, (_, i) => i);
  const m = Math.min(k, n);
  for (let i = 0; i < m; i++) {
    const j = i + Math.floor(rnd() * (n - i));
    [idx[i], idx[j]] = [idx[j]!, idx[i]!];
  }
  return idx.slice(0, m).sort((a, b) => a - b);
}
