// Explained risk of a proposal: a level and the reasons for it, in words. Pure: the inputs are the
// experiment (its screening findings and capability summary), facts about its diff the hub computed from
// git, the task rules' protected paths, the agent's budget and its record. Computed on read, never stored:
// the ledger events it is derived from are the source of truth.
import type { Experiment, Severity } from './model';

export type RiskLevel = 'low' | 'medium' | 'high' | 'critical';
export const RISK_LEVELS: readonly RiskLevel[] = ['low', 'medium', 'high', 'critical'];
export const riskRank = (l: RiskLevel): number => RISK_LEVELS.indexOf(l);

export interface RiskReason {
  level: RiskLevel;
  text: string;
}

export interface Risk {
  level: RiskLevel;
  /** Reasons, most severe first (then in the fixed order they are assessed: stable for equal inputs). */
  reasons: RiskReason[];
}

/** Facts about the change from git (absent when the hub could not read the repository). */
export interface DiffFacts {
  /** Files the change touches against its base. */
  files: string[];
  /** Added plus deleted lines against its base. */
  lines: number;
  /** The agent's last approved commit before this proposal, and whether the change from it is values only. */
  sinceApproved?: { commit: string; valuesOnly: boolean; lines: number };
  /** Files matching the task rules' protected paths. */
  protectedTouched: string[];
}

export interface AgentRecord {
  vetoes: number;
  /** Probing alerts not lifted by a human (`eval.probing_suspected` after the last `eval.resumed`). */
  openAlerts: number;
  /** Runs whose run report names violations. */
  runViolations: number;
}

export interface RiskInput {
  facts?: DiffFacts;
  record: AgentRecord;
  budget?: { gpuHours: number; remainingGpuHours: number };
}

const SEVERITY_RISK: Record<Severity, RiskLevel | undefined> = { info: undefined, low: 'low', medium: 'medium', high: 'high', critical: 'critical' };
/** Diff sizes (added + deleted lines) above which a change is medium / high risk by size alone. */
export const LARGE_DIFF = 300;
export const HUGE_DIFF = 1500;

const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;

export function assessRisk(x: Experiment, input: RiskInput): Risk {
  const reasons: RiskReason[] = [];
  const add = (level: RiskLevel, text: string) => reasons.push({ level, text });

  // 1. screening
  const sc = x.screening;
  if (!sc) add('medium', 'not screened yet');
  else {
    if (sc.gaming) add('high', `screening flags evaluation gaming (score ${sc.score.toFixed(2)})`);
    const bySev = new Map<Severity, string[]>();
    for (const f of sc.findings) {
      if (f.kind === 'capability') continue;
      const l = bySev.get(f.severity) ?? [];
      l.push(f.kind);
      bySev.set(f.severity, l);
    }
    for (const s of ['critical', 'high', 'medium', 'low'] as const) {
      const kinds = bySev.get(s);
      if (!kinds) continue;
      const uniq = [...new Set(kinds)].sort();
      add(SEVERITY_RISK[s]!, `${plural(kinds.length, `${s} finding`)}: ${uniq.join(', ')}`);
    }
    // 2. capabilities the change adds (network, programs, files beyond the repository, evaluation calls)
    const caps = sc.findings.filter((f) => f.kind === 'capability');
    if (caps.length) {
      const what = [...new Set(caps.map((f) => /^Adds ([^:]+)/.exec(f.explanation)?.[1] ?? 'capability'))].sort();
      add('medium', `adds ${what.join(', ')} (${plural(caps.length, 'site')})`);
    }
  }

  // 3. protected paths, 4. size and novelty
  const fx = input.facts;
  if (fx) {
    if (fx.protectedTouched.length) add('high', `touches protected path${fx.protectedTouched.length === 1 ? '' : 's'}: ${fx.protectedTouched.slice(0, 5).join(', ')}`);
    // Size is novelty: what a human has not approved yet. Against the agent's last approved commit when there is
    // one (a long-lived branch does not grow "large" from work already reviewed), else against the base.
    const since = fx.sinceApproved;
    const novel = since ? since.lines : fx.lines;
    const what = since ? `since approved commit ${since.commit.slice(0, 12)}` : `(no approved commit of this agent before; ${plural(fx.files.length, 'file')})`;
    if (since?.valuesOnly) add('low', `re-run of approved commit ${since.commit.slice(0, 12)} with only value changes`);
    else if (novel > HUGE_DIFF) add('high', `very large change: ${plural(novel, 'line')} ${what}`);
    else if (novel > LARGE_DIFF) add('medium', `large change: ${plural(novel, 'line')} ${what}`);
    else if (!since) add('low', `new code (no approved commit of this agent before): ${plural(fx.lines, 'line')} in ${plural(fx.files.length, 'file')}`);
    else add('low', `${plural(since.lines, 'line')} of new logic since approved commit ${since.commit.slice(0, 12)}`);
  }

  // 5. cost against budget
  const b = input.budget;
  const cost = x.resources.gpuHours;
  if (b) {
    if (cost > b.remainingGpuHours) add('high', `asks ${cost} GPU-h, more than the ${round(b.remainingGpuHours)} GPU-h left in the budget`);
    else if (b.gpuHours > 0 && cost > 0.25 * b.gpuHours) add('medium', `asks ${cost} GPU-h, ${Math.round((100 * cost) / b.gpuHours)} % of the agent's budget`);
  }

  // 6. the agent's record
  const r = input.record;
  if (r.openAlerts > 0) add('high', `agent has ${plural(r.openAlerts, 'open probing alert')}`);
  if (r.runViolations > 0) add(r.runViolations >= 3 ? 'high' : 'medium', `agent's runs reported violations (${plural(r.runViolations, 'run')})`);
  if (r.vetoes >= 3) add('medium', `agent has ${plural(r.vetoes, 'vetoed proposal')}`);
  else if (r.vetoes > 0) add('low', `agent has ${plural(r.vetoes, 'vetoed proposal')}`);

  let level: RiskLevel = 'low';
  for (const q of reasons) if (riskRank(q.level) > riskRank(level)) level = q.level;
  // stable: most severe first, ties in assessment order
  const ordered = reasons.map((q, i) => ({ q, i })).sort((a, c) => riskRank(c.q.level) - riskRank(a.q.level) || a.i - c.i).map((e) => e.q);
  return { level, reasons: ordered };
}

const round = (n: number) => Math.round(n * 100) / 100;

/** Triage order of undecided proposals: highest risk first, then oldest. */
export function byRiskThenAge(a: { risk?: Risk; proposedSeq: number }, b: { risk?: Risk; proposedSeq: number }): number {
  return riskRank(b.risk?.level ?? 'medium') - riskRank(a.risk?.level ?? 'medium') || a.proposedSeq - b.proposedSeq;
}

export const RISK_BADGE: Record<RiskLevel, string> = { low: 'LOW', medium: 'MED', high: 'HIGH', critical: 'CRIT' };
