// Review webview protocol: one experiment under review + the awaiting-review queue for keyboard triage.
import type { ChangedFileView, CommitInfo } from '../hub/api';
import type { Agent, Experiment, ReviewComment } from '../core/model';
import type { Risk, RiskLevel } from '../core/risk';
import { defineNotification, defineRequest, id, int, obj, oneOf, ProtocolError, sha, str } from './protocol';

export const REVIEW_SURFACE = 'review';

export interface QueueItem {
  id: string;
  title: string;
  agentId: string;
  gaming: boolean;
  /** Screening score 0..1, if screened. */
  score?: number;
  gpuHours: number;
  commit: string;
  tree: string;
  /** Risk level (core/risk.ts), when the hub computed it. */
  risk?: 'low' | 'medium' | 'high' | 'critical';
}

export interface FileDiff {
  file: string;
  patch: string;
  truncated: boolean;
}

export interface ReviewState {
  human: string;
  experiment: Experiment;
  agent?: Pick<Agent, 'id' | 'name' | 'direction' | 'budget' | 'used' | 'status'> & { remainingGpuHours: number };
  files: ChangedFileView[];
  /** Rendered inline: diffs of the small text files only (the rest open in the native diff). */
  diffs: FileDiff[];
  comments: ReviewComment[];
  /** The proposal's commits, newest first, from the pinned commit back to (not including) its base. */
  commits?: CommitInfo[];
  /** More commits than were loaded lie between the pin and the base. */
  commitsTruncated?: boolean;
  queue: QueueItem[];
  /** Set when part of the state could not be loaded (the rest is still shown). */
  warnings: string[];
  /** Set when the page reviews a sweep: `experiment` is its representative (first open) member. */
  sweep?: SweepReview;
}

export type Decision = 'approve' | 'veto' | 'requestChanges';
export const DECISIONS: readonly Decision[] = ['approve', 'veto', 'requestChanges'];

export interface DecideParams {
  experimentId: string;
  decision: Decision;
  /** The pin the human saw; the hub refuses a decision on anything else (stale_review). */
  commit: string;
  tree: string;
  reason?: string;
}

export const MAX_REASON = 4000;

export const ReviewStateNote = defineNotification<ReviewState>('review/state');

export const Decide = defineRequest<DecideParams, { state: string }>('review/decide', (p) => {
  const o = obj(p);
  const decision = oneOf(o.decision, 'decision', DECISIONS);
  const reason = o.reason === undefined || o.reason === null ? undefined : str(o.reason, 'reason', MAX_REASON, { allowEmpty: true }).trim();
  if (decision !== 'approve' && !reason) throw new ProtocolError('invalid', `a ${decision === 'veto' ? 'veto' : 'request for changes'} needs a reason`);
  return { experimentId: id(o.experimentId, 'experimentId'), decision, commit: sha(o.commit, 'commit'), tree: sha(o.tree, 'tree'), reason: reason || undefined };
});

export interface BatchItem {
  experimentId: string;
  commit: string;
  tree: string;
}
export interface BatchResult {
  experimentId: string;
  ok: boolean;
  error?: string;
}

export const BatchApprove = defineRequest<{ items: BatchItem[] }, { results: BatchResult[] }>('review/batchApprove', (p) => {
  const o = obj(p);
  if (!Array.isArray(o.items) || o.items.length === 0 || o.items.length > 500) throw new ProtocolError('invalid', 'items must be a list of 1..500 experiments');
  return {
    items: o.items.map((x, i) => {
      const it = obj(x, `items[${i}]`);
      return { experimentId: id(it.experimentId, `items[${i}].experimentId`), commit: sha(it.commit, `items[${i}].commit`), tree: sha(it.tree, `items[${i}].tree`) };
    }),
  };
});

export interface OpenDiffParams {
  experimentId: string;
  file: string;
  line: number;
}
export const OpenDiff = defineRequest<OpenDiffParams, void>('review/openDiff', (p) => {
  const o = obj(p);
  return { experimentId: id(o.experimentId, 'experimentId'), file: str(o.file, 'file', 4096), line: int(o.line, 'line', 0, 10_000_000) };
});

export interface AcceptResultParams {
  experimentId: string;
  reason: string;
  falseAlarms: { kind: string; file: string; line: number; why: string }[];
}
/** Accept a result after seeing it (a flagged proposal's result ranks as verified only then). Human-only at the hub. */
export const AcceptResult = defineRequest<AcceptResultParams, { status: string }>('review/acceptResult', (p) => {
  const o = obj(p);
  const reason = str(o.reason, 'reason', 2000, { allowEmpty: true }).trim();
  if (!reason) throw new ProtocolError('invalid', 'accepting a result needs a reason: say what you checked');
  const fa = o.falseAlarms === undefined ? [] : o.falseAlarms;
  if (!Array.isArray(fa) || fa.length > 200) throw new ProtocolError('invalid', 'falseAlarms must be a list of at most 200 findings');
  return {
    experimentId: id(o.experimentId, 'experimentId'),
    reason,
    falseAlarms: fa.map((x, i) => {
      const f = obj(x, `falseAlarms[${i}]`);
      return { kind: str(f.kind, `falseAlarms[${i}].kind`, 64), file: str(f.file, `falseAlarms[${i}].file`, 4096), line: int(f.line, `falseAlarms[${i}].line`, 0, 10_000_000), why: str(f.why, `falseAlarms[${i}].why`, 2000) };
    }),
  };
});

/** Show another experiment in the same panel (j/k navigation, clicking a queue entry). */
export const ShowExperiment = defineRequest<{ experimentId: string }, void>('review/show', (p) => ({ experimentId: id(obj(p).experimentId, 'experimentId') }));

// ---------------------------------------------------------------- sweeps

/** What the sweep approval rule needs of a member. */
export interface SweepMemberRisk {
  id: string;
  gaming: boolean;
  risk?: Risk;
}

export interface SweepApproval {
  /** Set when the sweep cannot be approved as a sweep (a critical or a screening-flagged member), and why. */
  refused?: string;
  /** Members above low risk (approving the sweep asks for confirmation naming them and why). */
  confirm: { id: string; level: RiskLevel; reasons: string[] }[];
  /** The highest member risk (unassessed counts as medium). */
  highest: RiskLevel;
}

const RANK: Record<RiskLevel, number> = { low: 0, medium: 1, high: 2, critical: 3 };

/** The rule for approving a sweep in one action: never with a critical or a gaming-flagged member (approve
 * those individually); a confirmation when any member is above low risk. Texts are raw: sanitize to show. */
export function sweepApproval(members: readonly SweepMemberRisk[]): SweepApproval {
  const critical = members.filter((m) => m.risk?.level === 'critical').map((m) => m.id);
  const gaming = members.filter((m) => m.gaming).map((m) => m.id);
  const why: string[] = [];
  if (critical.length) why.push(`${critical.join(', ')} ${critical.length === 1 ? 'is' : 'are'} critical risk`);
  if (gaming.length) why.push(`${gaming.join(', ')} ${gaming.length === 1 ? 'is' : 'are'} flagged by screening for possible evaluation gaming`);
  let highest: RiskLevel = 'low';
  const confirm: SweepApproval['confirm'] = [];
  for (const m of members) {
    const level = m.risk?.level ?? 'medium';
    if (RANK[level] > RANK[highest]) highest = level;
    if (level !== 'low') confirm.push({ id: m.id, level, reasons: m.risk ? m.risk.reasons.filter((r) => r.level !== 'low').slice(0, 3).map((r) => r.text) : ['risk not assessed'] });
  }
  return {
    refused: why.length ? `This sweep cannot be approved as a sweep: ${why.join('; ')}. Approve those individually (or veto the sweep).` : undefined,
    confirm,
    highest,
  };
}

/** One row of the sweep table: a member as shown (its own pin), with its varying values. */
export interface SweepMemberView {
  id: string;
  title: string;
  agentId: string;
  state: string;
  commit: string;
  tree: string;
  gaming: boolean;
  risk?: Risk;
  /** Its value of each varying literal (SweepReview.params order); '' when unknown. */
  values: string[];
  /** Still an open member (undecided, in the hub's sweep): decided by the sweep actions. Decided members
   * stay in the table with their state, so nothing of what was reviewed disappears. */
  open: boolean;
}

export interface SweepReview {
  id: string;
  /** Raw (agent-derived) label: sanitize to show. */
  label: string;
  params: string[];
  members: SweepMemberView[];
  /** The hub still groups at least two open members as this sweep. */
  open: boolean;
  /** Why the sweep was reloaded or is no longer open. */
  note?: string;
}

export type SweepDecision = 'approve' | 'veto' | 'request_changes';
export const SWEEP_DECISIONS: readonly SweepDecision[] = ['approve', 'veto', 'request_changes'];

export interface DecideSweepParams {
  sweepId: string;
  decision: SweepDecision;
  /** Each member at the pin shown in the table. */
  members: BatchItem[];
  reason?: string;
}

export const DecideSweep = defineRequest<DecideSweepParams, { decided: string[] }>('review/decideSweep', (p) => {
  const o = obj(p);
  const decision = oneOf(o.decision, 'decision', SWEEP_DECISIONS);
  const reason = o.reason === undefined || o.reason === null ? undefined : str(o.reason, 'reason', MAX_REASON, { allowEmpty: true }).trim();
  if (decision !== 'approve' && !reason) throw new ProtocolError('invalid', `a sweep ${decision === 'veto' ? 'veto' : 'request for changes'} needs a reason`);
  if (!Array.isArray(o.members) || o.members.length < 2 || o.members.length > 200) throw new ProtocolError('invalid', 'members must be a list of 2..200 experiments');
  const members = o.members.map((x, i) => {
    const it = obj(x, `members[${i}]`);
    return { experimentId: id(it.experimentId, `members[${i}].experimentId`), commit: sha(it.commit, `members[${i}].commit`), tree: sha(it.tree, `members[${i}].tree`) };
  });
  if (new Set(members.map((m) => m.experimentId)).size !== members.length) throw new ProtocolError('invalid', 'a sweep names each experiment once');
  return { sweepId: id(o.sweepId, 'sweepId'), decision, members, reason: reason || undefined };
});
