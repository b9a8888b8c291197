// Approval policies: rules a human writes in CEL (`@bufbuild/cel`, a conformance-tested implementation), set
// through a ledger event, evaluated by the hub on each screened proposal. Off until a human sets one. Hard
// limits no rule can lift: never high or critical risk, never a screening finding of medium or above, never
// a proposal flagged as gaming or not yet screened, never an agent that is paused.
import { createHash } from 'node:crypto';
import { parse, run } from '@bufbuild/cel';
import type { Agent, Experiment } from './model';
import type { Risk } from './risk';

export interface PolicyRule {
  name: string;
  expr: string;
}

export interface Policy {
  version: number;
  /** The human who set this version. */
  setBy: string;
  seq: number;
  ts: string;
  rules: PolicyRule[];
  /** Share of automatic approvals sampled into the post-hoc audit queue. */
  auditShare: number;
  note?: string;
}

export const DEFAULT_AUDIT_SHARE = 0.1;

/** The demo's policy (README "Triage and policies"). */
export const DEMO_POLICY: { rules: PolicyRule[]; auditShare: number } = {
  rules: [{ name: 'low-risk-small', expr: 'risk == "low" && gpu_hours <= 1.0 && agent.open_alerts == 0' }],
  auditShare: DEFAULT_AUDIT_SHARE,
};

/** Parse-check every rule; the messages name the rule. */
export function checkRules(rules: PolicyRule[]): string[] {
  const errors: string[] = [];
  const names = new Set<string>();
  for (const r of rules) {
    if (names.has(r.name)) errors.push(`rule ${JSON.stringify(r.name)} is named twice`);
    names.add(r.name);
    try {
      parse(r.expr);
    } catch (err) {
      errors.push(`rule ${JSON.stringify(r.name)}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  return errors;
}

export interface PolicyFacts {
  risk: Risk;
  agent: Agent;
  record: { vetoes: number; openAlerts: number; runViolations: number };
  /** Why an agent episode stops any rule (core/episodes.ts policyHold). */
  held?: string;
  /** The agent's probation condition (a human's episode resolution): an approval must meet it too. */
  probation?: string;
}

/** The variables a rule sees. Numbers of counts are CEL ints; hours are doubles. */
export function activation(x: Experiment, f: PolicyFacts): Record<string, unknown> {
  const findings = (x.screening?.findings ?? []).filter((q) => q.kind !== 'capability');
  const caps = (x.screening?.findings ?? []).filter((q) => q.kind === 'capability').map((q) => /^Adds ([^:]+)/.exec(q.explanation)?.[1] ?? 'capability');
  return {
    risk: f.risk.level,
    gpu_hours: x.resources.gpuHours,
    gpus: BigInt(x.resources.gpus),
    time_limit_minutes: BigInt(x.resources.timeLimitMinutes),
    task_mode: x.taskMode,
    findings: BigInt(findings.length),
    capabilities: [...new Set(caps)],
    title: x.title,
    command: x.command,
    agent: new Map<string, unknown>([
      ['id', x.agentId],
      ['open_alerts', BigInt(f.record.openAlerts)],
      ['vetoes', BigInt(f.record.vetoes)],
      ['run_violations', BigInt(f.record.runViolations)],
      ['remaining_gpu_hours', f.agent.budget.gpuHours - f.agent.used.gpuHours],
    ]),
  };
}

/** Why no rule may approve this proposal, whatever it says (undefined: rules may decide). */
export function hardLimit(x: Experiment, f: PolicyFacts): string | undefined {
  if (!x.screening) return 'not screened';
  if (x.screening.gaming) return 'screening flagged evaluation gaming';
  const bad = x.screening.findings.find((q) => q.severity === 'medium' || q.severity === 'high' || q.severity === 'critical');
  if (bad) return `screening finding of ${bad.severity} severity (${bad.kind})`;
  if (f.risk.level === 'high' || f.risk.level === 'critical') return `${f.risk.level} risk`;
  if (f.agent.status === 'paused') return 'agent is paused';
  if (f.held) return f.held;
  return undefined;
}

export type PolicyOutcome = { approve: true; rule: string } | { approve: false; why: string };

/** The first enabled rule that evaluates to exactly `true` approves; errors and non-booleans never do. */
export function evaluatePolicy(p: Policy | undefined, disabled: { has(rule: string): boolean }, x: Experiment, f: PolicyFacts): PolicyOutcome {
  if (!p || !p.rules.length) return { approve: false, why: 'no policy' };
  const limit = hardLimit(x, f);
  if (limit) return { approve: false, why: limit };
  const act = activation(x, f);
  for (const r of p.rules) {
    if (disabled.has(r.name)) continue;
    let v: unknown;
    try {
      v = run(r.expr, act as never);
    } catch {
      continue;
    }
    if (v === true) {
      if (f.probation !== undefined) {
        let ok: unknown;
        try {
          ok = run(f.probation, act as never);
        } catch {
          ok = false;
        }
        if (ok !== true) return { approve: false, why: 'probation condition not met' };
      }
      return { approve: true, rule: r.name };
    }
  }
  return { approve: false, why: 'no rule matched' };
}

/** Deterministic sampling of an automatic approval into the audit queue (reproducible from the ledger). */
export function sampled(experimentId: string, version: number, share: number): boolean {
  if (share <= 0) return false;
  if (share >= 1) return true;
  const h = createHash('sha256').update(`${experimentId}\u0000${version}`).digest();
  return h.readUInt32BE(0) / 0x1_0000_0000 < share;
}
