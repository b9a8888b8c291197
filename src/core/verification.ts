// What a score of an experiment is worth to a reader who never saw the code. Pure.
//
// A verified number is a claim the hub makes; it must survive a reviewer who approves carelessly, so approval to
// run is not acceptance of the result (Gerrit keeps "verified" and "code-review" apart for the same reason):
//   verified             the run was confined, its report is empty, every job ended 0, no probing alert was raised
//                        while it ran or on its submissions, nothing the agent claimed contradicts it, and, when its
//                        proposal needed it, a human accepted the result after seeing it;
//   incomplete           the run is still going, or fewer of its seed jobs evaluated than the approval fixed;
//   awaiting_acceptance  clean, but its proposal carried gaming or critical findings, or its approval overrode the
//                        policy's hard limits: a human must accept the result having seen it (`experiment.result_accepted`);
//   unverified           demoted, with the reasons (a demotion is final: acceptance cannot lift it).
import type { Experiment, ForumPost, RunReportInfo } from './model';

export type VerificationStatus = 'verified' | 'incomplete' | 'awaiting_acceptance' | 'unverified';

export interface Verification {
  status: VerificationStatus;
  /** Why it is not verified (empty when verified). Agent-written text never appears here. */
  reasons: string[];
}

/** A self-reported PGR this far above the hub's (and outside its interval) contradicts it. */
export const CONTRADICTION_TOLERANCE = 0.05;

const RUN_LIVE = new Set(['approved', 'dispatched', 'running']);
const RUN_FAILED = new Set(['failed', 'cancelled', 'timed_out']);

/** Audit-hook notes of what the run's rules allow (a program started or ctypes used in a normal task): evidence a
 * reviewer may read, not an anomaly. Every other note (a limit hit, a blocked attempt, a malformed audit channel, a
 * supervisor that did not report, the proxy unreachable) demotes like a violation. */
const PERMITTED_NOTES = new Set(['program_started', 'dynamic_code', 'ctypes']);

/** Why a run report demotes: any violation, any note of an anomaly, or a run that was not confined. */
export function reportDemotion(rep: RunReportInfo | undefined): string | undefined {
  if (!rep) return undefined;
  if (rep.sandbox === 'none') return 'run was not confined (runner "sandbox": "none")';
  if (rep.violations > 0) return `run report: ${rep.summary}`;
  const items = (rep.report as { items?: unknown }).items;
  const notes = Array.isArray(items)
    ? (items as Array<{ kind?: unknown; source?: unknown; blocked?: unknown }>).filter((it) => it.blocked === true || it.source !== 'audit' || !PERMITTED_NOTES.has(String(it.kind)))
    : [];
  if (notes.length) return `run report: ${[...new Set(notes.map((n) => String(n.kind)))].join(', ')}`;
  return undefined;
}

/** Why the way the run ended demotes its scores (a non-zero exit, a timeout, a failure, a cancel). */
export function endDemotion(x: Experiment): string | undefined {
  const r = x.run;
  if (!r) return undefined;
  if (r.endState && r.endState !== 'succeeded') {
    const code = r.exitCode !== undefined ? ` (exit ${r.exitCode})` : '';
    return r.endState === 'timed_out' ? 'run timed out' : r.endState === 'cancelled' ? 'run was cancelled' : `run failed${code}`;
  }
  if (r.exitCode !== undefined && r.exitCode !== 0) return `run exited ${r.exitCode}`;
  return undefined;
}

/** Does a forum post speak of this experiment (its id, its job, or its pinned commit)? */
export function postIsAbout(p: ForumPost, x: Experiment): boolean {
  if (p.author.kind !== 'agent' || p.author.id !== x.agentId) return false;
  if (p.runId && (p.runId === x.id || (x.run && p.runId === x.run.jobId))) return true;
  const c = (p.commitId ?? '').toLowerCase();
  return c.length >= 7 && /^[0-9a-f]+$/.test(c) && x.commit.startsWith(c);
}

/** A claim of the agent that the hub's own score contradicts (the claim is higher, beyond tolerance and the CI). */
export function contradiction(x: Experiment, posts: Iterable<ForumPost>): string | undefined {
  const s = x.score;
  if (!s || s.pgr === null) return undefined;
  const ci = Array.isArray(s.pgrCi) && s.pgrCi.length === 2 && typeof s.pgrCi[1] === 'number' ? (s.pgrCi[1] as number) : s.pgr;
  for (const p of posts) {
    if (!postIsAbout(p, x)) continue;
    const claimed = p.metrics.pgr;
    if (typeof claimed !== 'number' || !Number.isFinite(claimed)) continue;
    if (claimed > Math.max(ci, s.pgr + CONTRADICTION_TOLERANCE) + 1e-9) {
      return `self-reported PGR ${claimed.toFixed(3)} (post ${p.id}) contradicts the hub's ${s.pgr.toFixed(3)}`;
    }
  }
  return undefined;
}

/** Why a result's own evaluations demote it: seed jobs that submitted one vector (the result does not vary with the
 * hub's seed, so its interval over seeds means nothing), or seed jobs that kept submitting after their score. Used
 * for recorded scores here and for leaderboard entries (evaluation/leaderboard.ts). */
export function seedEvidenceDemotions(duplicateSeeds: number, resubmittedVectors: number): string[] {
  const why: string[] = [];
  if (duplicateSeeds > 0) why.push(`${duplicateSeeds} seed job(s) submitted a prediction vector identical to another seed job's: the result does not vary with the hub's seed`);
  if (resubmittedVectors > 0) why.push(`seed jobs submitted ${resubmittedVectors} further prediction vector(s) after their score: one score per seed job and split, later vectors probe the scorer`);
  return why;
}

/** Every reason the scores of x are demoted, in a stable order. */
export function demotions(x: Experiment, posts: Iterable<ForumPost> = []): string[] {
  const out: string[] = [];
  // every seed job's report counts (the experiment's own is its worst job's)
  const reports = [x.run?.report, ...(x.run?.jobs ?? []).map((j) => j.report)];
  for (const r of reports) {
    const why = reportDemotion(r);
    if (why && !out.includes(why)) out.push(why);
  }
  const end = endDemotion(x);
  if (end) out.push(end);
  for (const d of x.demotions ?? []) out.push(d.reason);
  const sc = x.score as { duplicateSeeds?: unknown; resubmittedVectors?: unknown } | undefined;
  out.push(...seedEvidenceDemotions(typeof sc?.duplicateSeeds === 'number' ? sc.duplicateSeeds : 0, typeof sc?.resubmittedVectors === 'number' ? sc.resubmittedVectors : 0));
  const c = contradiction(x, posts);
  if (c) out.push(c);
  return out;
}

/** The status of x's result. `posts` are the forum posts to check claims against (the agent's own). */
export function verificationOf(x: Experiment, posts: Iterable<ForumPost> = []): Verification {
  const demoted = demotions(x, posts);
  if (demoted.length) return { status: 'unverified', reasons: demoted };
  if (RUN_LIVE.has(x.state) || !x.run?.endState) return { status: 'incomplete', reasons: [x.run ? 'run still in progress' : 'not run yet'] };
  if (RUN_FAILED.has(x.state)) return { status: 'unverified', reasons: [`run ${x.state}`] };
  // a seed job the approval fixed did not evaluate (hub/integrations.ts records it with the score)
  if (x.score?.incomplete === true) return { status: 'incomplete', reasons: [typeof x.score.incompleteReason === 'string' ? x.score.incompleteReason : 'not every seed job evaluated'] };
  if (x.acceptanceRequired?.length && !x.acceptance) {
    return { status: 'awaiting_acceptance', reasons: x.acceptanceRequired.map((r) => `needs a human to accept the result: ${r}`) };
  }
  return { status: 'verified', reasons: [] };
}

/** The one-line reason shown beside an unverified / awaiting / incomplete score. */
export function verificationReason(v: Verification): string | undefined {
  return v.status === 'verified' ? undefined : v.reasons.join('; ');
}
