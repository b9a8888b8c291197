// The hub applies the approval policy a human set (core/policy.ts) to each screened proposal: risk first
// (hub/attention.ts), then the hard limits, then the rules in order. Off until a `policy.set` event exists.
import type { AnyEvent } from '../core/events';
import type { Experiment } from '../core/model';
import { evaluatePolicy, type PolicyFacts, type PolicyOutcome } from '../core/policy';
import { riskOf } from './attention';
import type { HubContext } from './ops';
import { agentRecord } from '../core/episodes';

export async function policyFacts(ctx: HubContext, x: Experiment): Promise<PolicyFacts | undefined> {
  const st = ctx.service.state;
  const agent = st.agent(x.agentId);
  if (!agent) return undefined;
  const risk = await riskOf(ctx, x);
  return { risk, agent, record: agentRecord(st, x.agentId), held: st.episodes.policyHold(x), probation: st.episodes.probation.get(x.agentId)?.expr };
}

/** What the current policy would do with a proposal (used by the engine, the API and the bench). */
export async function wouldApprove(ctx: HubContext, x: Experiment): Promise<PolicyOutcome> {
  const st = ctx.service.state;
  const f = await policyFacts(ctx, x);
  if (!f) return { approve: false, why: 'unknown agent' };
  return evaluatePolicy(st.policy, st.disabledRules, x, f);
}

export interface PolicyEngine {
  idle(): Promise<void>;
  stop(): void;
}

export function startPolicyEngine(ctx: HubContext, onWarning?: (m: string) => void): PolicyEngine {
  const pending = new Set<Promise<unknown>>();
  const consider = (id: string) => {
    const p = (async () => {
      const st = ctx.service.state;
      const x = st.experiment(id);
      if (!st.policy || !x || x.state !== 'awaiting_review') return;
      const f = await policyFacts(ctx, x);
      if (!f) return;
      const out = evaluatePolicy(st.policy, st.disabledRules, x, f);
      if (out.approve) await ctx.service.autoApprove(id, out, f);
    })().catch((err: Error) => onWarning?.(`approval policy on ${id}: ${err.message}`));
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };
  const off = ctx.service.ledger.onDurable((e: AnyEvent) => {
    if (e.type === 'experiment.screened') consider(e.data.experimentId);
    else if (e.type === 'episode.resolved') {
      for (const x of ctx.service.state.experimentsOf(e.data.agentId)) if (x.state === 'awaiting_review') consider(x.id);
    } else if (e.type === 'policy.set' || e.type === 'policy.rule_enabled') {
      for (const x of ctx.service.state.experiments.values()) if (x.state === 'awaiting_review') consider(x.id);
    }
  });
  return {
    async idle() {
      while (pending.size) await Promise.allSettled([...pending]);
    },
    stop: off,
  };
}
