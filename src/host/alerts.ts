// What interrupts the human: notifications only for what needs a human now (issue 15's attention surfaces), never
// for an ordinary proposal. Pure (no vscode) so it tests under plain mocha; src/host/alertsHost.ts shows them.
//
// An alert comes from one live ledger event:
//   - a critical screening finding on a proposal            (experiment.screened, a finding of severity critical)
//   - a probing alert on an agent's evaluation queries       (eval.probing_suspected)
//   - a run whose report names violations                    (run.report with violations > 0)
//   - an agent stopped by its budget or by the system        (agent.paused not by a human; or budget in the reason)
//   - an agent episode opened: its proposals are held       (episode.opened, not by this human)
// (Sampled automatic approvals are alerted by the policy surface, with Confirm / Flag.)
// The gate keeps the human's attention: one alert per subject and kind in a window (a second finding on the same
// proposal is not news), and at most `burst` toasts per window; the rest are counted into one summary toast.
import type { AnyEvent } from '../core/events';
import { plain, plainName } from './text';

export type AlertKind = 'critical_finding' | 'probing' | 'run_violation' | 'agent_stopped' | 'episode';

export interface Alert {
  kind: AlertKind;
  /** Dedupe key: kind + subject. */
  key: string;
  level: 'error' | 'warning';
  /** One line, agent text sanitized. */
  text: string;
  experimentId?: string;
  agentId?: string;
  episodeId?: string;
}

export interface AlertContext {
  /** The human this window acts as: their own pauses are not news to them. */
  human: string;
  /** An experiment's title and agent, when the window knows it. */
  experiment(id: string): { title: string; agentId: string } | undefined;
}

export const ALERT_KIND_LABEL: Record<AlertKind, string> = {
  critical_finding: 'critical screening finding',
  probing: 'probing alert',
  run_violation: 'run-report violation',
  agent_stopped: 'agent stopped',
  episode: 'agent episode',
};

const subject = (ctx: AlertContext, id: string) => {
  const x = ctx.experiment(id);
  return x ? `${id} ("${plainName(x.title, 'title', 80)}" by ${plain(x.agentId, 64)})` : id;
};

/** The alert an event raises, or undefined for everything that can wait for the queue. */
export function alertFor(e: AnyEvent, ctx: AlertContext): Alert | undefined {
  switch (e.type) {
    case 'experiment.screened': {
      const crit = e.data.report.findings.filter((f) => f.severity === 'critical');
      if (!crit.length) return undefined;
      const f = crit[0]!;
      const more = crit.length > 1 ? ` (+${crit.length - 1} more critical)` : '';
      return {
        kind: 'critical_finding',
        key: `critical_finding:${e.data.experimentId}`,
        level: 'error',
        text: `Critical screening finding in ${subject(ctx, e.data.experimentId)}: ${plain(f.kind, 60)} at ${plain(f.file, 120)}:${f.line} — ${plain(f.explanation, 200)}${more}`,
        experimentId: e.data.experimentId,
        agentId: ctx.experiment(e.data.experimentId)?.agentId,
      };
    }
    case 'eval.probing_suspected':
      return {
        kind: 'probing',
        key: `probing:${e.data.agentId}`,
        level: 'error',
        text: `Probing suspected: ${plain(e.data.agentId, 64)}'s evaluation queries on ${plain(e.data.dataset, 60)}/${plain(e.data.split, 30)} look like label extraction${e.data.suspended ? '; its evaluation is suspended until a human resumes it' : ''}.`,
        agentId: e.data.agentId,
      };
    case 'run.report':
      if (e.data.violations <= 0) return undefined;
      return {
        kind: 'run_violation',
        key: `run_violation:${e.data.experimentId}`,
        level: 'warning',
        text: `The run of ${subject(ctx, e.data.experimentId)} tried ${e.data.violations} thing${e.data.violations === 1 ? '' : 's'} its rules forbid: ${plain(e.data.summary.replace(/^\s*\d+ violations?(?:\(s\))?\s*:\s*/i, ''), 240)} (its score is unverified).`,
        experimentId: e.data.experimentId,
        agentId: ctx.experiment(e.data.experimentId)?.agentId,
      };
    case 'episode.opened':
      // an agent's proposals are held until one decision about the agent (core/episodes.ts)
      if (e.actor.kind === 'human' && e.actor.id === ctx.human) return undefined;
      return {
        kind: 'episode',
        key: `episode:${e.data.episodeId}`,
        level: 'warning',
        text: `${plain(e.data.agentId, 64)}'s proposals are held for one decision about the agent: ${plain(e.data.reason, 240)}`,
        agentId: e.data.agentId,
        episodeId: e.data.episodeId,
      };
    case 'agent.paused': {
      const byThisHuman = e.actor.kind === 'human' && e.actor.id === ctx.human;
      const budget = /budget/i.test(e.data.reason);
      if (byThisHuman || (e.actor.kind === 'human' && !budget)) return undefined;
      return {
        kind: 'agent_stopped',
        key: `agent_stopped:${e.data.agentId}`,
        level: 'warning',
        text: `${plain(e.data.agentId, 64)} was paused${e.actor.kind === 'human' ? ` by ${plain(e.actor.id, 64)}` : ''}: ${plain(e.data.reason, 240)}`,
        agentId: e.data.agentId,
      };
    }
    default:
      return undefined;
  }
}

export interface GateOptions {
  /** Window for dedupe and the burst limit (ms). Default 10 minutes / 1 minute. */
  dedupeMs?: number;
  burstWindowMs?: number;
  /** Toasts per burst window. Default 3. */
  burst?: number;
}

/** Decides which alerts become toasts now; the rest are counted for one summary. */
export class AlertGate {
  private readonly seen = new Map<string, number>();
  private shown: number[] = [];
  private held: Alert[] = [];
  private readonly dedupeMs: number;
  private readonly burstWindowMs: number;
  private readonly burst: number;

  constructor(o: GateOptions = {}) {
    this.dedupeMs = o.dedupeMs ?? 600_000;
    this.burstWindowMs = o.burstWindowMs ?? 60_000;
    this.burst = o.burst ?? 3;
  }

  /** 'show' (toast it now), 'duplicate' (same subject and kind recently: dropped) or 'held' (counted for the summary). */
  offer(a: Alert, now: number): 'show' | 'duplicate' | 'held' {
    const last = this.seen.get(a.key);
    if (last !== undefined && now - last < this.dedupeMs) return 'duplicate';
    this.seen.set(a.key, now);
    if (this.seen.size > 5000) for (const [k, t] of this.seen) if (now - t >= this.dedupeMs) this.seen.delete(k);
    this.shown = this.shown.filter((t) => now - t < this.burstWindowMs);
    if (this.shown.length < this.burst) {
      this.shown.push(now);
      return 'show';
    }
    this.held.push(a);
    return 'held';
  }

  /** The held alerts as one summary line (and forget them), once the burst window allows another toast. */
  flush(now: number): { text: string; alerts: Alert[]; level: 'error' | 'warning' } | undefined {
    if (!this.held.length) return undefined;
    this.shown = this.shown.filter((t) => now - t < this.burstWindowMs);
    if (this.shown.length >= this.burst) return undefined;
    this.shown.push(now);
    const alerts = this.held;
    this.held = [];
    const counts = new Map<AlertKind, number>();
    for (const a of alerts) counts.set(a.kind, (counts.get(a.kind) ?? 0) + 1);
    const parts = [...counts].map(([k, n]) => `${n} ${ALERT_KIND_LABEL[k]}${n === 1 ? '' : 's'}`);
    return { text: `${alerts.length} more thing${alerts.length === 1 ? '' : 's'} need${alerts.length === 1 ? 's' : ''} you: ${parts.join(', ')}.`, alerts, level: alerts.some((a) => a.level === 'error') ? 'error' : 'warning' };
  }

  get pending(): number {
    return this.held.length;
  }
}
