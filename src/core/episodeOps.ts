// Agent episodes, the commands (design: core/episodes.ts). The engine opens an episode in the same synchronous
// step as its trigger is sequenced; the human's decisions check and append without awaiting in between, so a
// decision about an episode and any other decision can never both pass on stale state.
import type { AnyEvent } from './events';
import type { FleetState } from './fleet';
import type { Ledger } from './ledger';
import { DomainError, UNDECIDED } from './lifecycle';
import type { Actor } from './model';
import { SYSTEM } from './model';
import { checkRules } from './policy';
import { triggerOf, type Episode, type EpisodeAction } from './episodes';
import type { FleetService } from './service';

/** Open an episode whenever a trigger is sequenced for an agent without an open one (not for retired agents).
 * The opening is appended in a microtask right after the trigger's append returns (an append from inside an
 * append listener would be written before the event that caused it): before any I/O completes, so before any
 * durable listener (the policy engine, the dispatcher) sees the trigger. */
export function startEpisodeEngine(ledger: Ledger, state: FleetState, warn: (m: string) => void): () => void {
  return ledger.onAppended((e: AnyEvent) => {
    const t = triggerOf(e, (i) => state.experiment(i));
    if (!t) return;
    queueMicrotask(() => {
      if (!state.agent(t.agentId) || state.episodes.openOf(t.agentId) || state.episodes.retired.has(t.agentId)) return;
      ledger
        .append('episode.opened', SYSTEM, { episodeId: state.episodes.nextId(), agentId: t.agentId, trigger: t.trigger, experimentId: t.experimentId, reason: t.reason })
        .catch((err: Error) => warn(`opening an episode for ${t.agentId} failed: ${err.message}`));
    });
  });
}

function requireHuman(actor: Actor, what: string): void {
  if (actor.kind !== 'human') throw new DomainError('forbidden', `only a human may ${what}; ${actor.kind} ${actor.id} may not`);
}

function openEpisode(svc: FleetService, episodeId: string): Episode {
  const ep = svc.state.episodes.episodes.get(episodeId);
  if (!ep) throw new DomainError('not_found', `no episode ${JSON.stringify(episodeId)}`);
  if (ep.resolution) throw new DomainError('conflict', `episode ${ep.id} was already resolved (${ep.resolution.action} by ${ep.resolution.by}, seq ${ep.resolution.seq}); first decision wins`);
  return ep;
}

/** A human holds an agent's work for review (`overseer agent pause`): an episode with trigger "human". */
export async function pauseIntoEpisode(svc: FleetService, actor: Actor, agentId: string, reason: string): Promise<Episode> {
  requireHuman(actor, 'open an episode');
  if (!svc.state.agent(agentId)) throw new DomainError('not_found', `no agent ${JSON.stringify(agentId)}`);
  if (!reason.trim()) throw new DomainError('invalid', 'a pause needs a reason');
  if (svc.state.episodes.retired.has(agentId)) throw new DomainError('conflict', `agent ${agentId} was retired`);
  const open = svc.state.episodes.openOf(agentId);
  if (open) throw new DomainError('conflict', `agent ${agentId} already has the open episode ${open.id}`);
  const episodeId = svc.state.episodes.nextId();
  await svc.ledger.append('episode.opened', actor, { episodeId, agentId, trigger: 'human', reason: `paused by ${actor.id}: ${reason.trim()}`.slice(0, 2000) });
  return svc.state.episodes.episodes.get(episodeId)!;
}

/** A human releases one held proposal: it leaves the episode and is decided on its own, at its own pin. */
export async function releaseHeld(svc: FleetService, actor: Actor, episodeId: string, experimentId: string): Promise<Episode> {
  requireHuman(actor, 'release a held proposal');
  const ep = openEpisode(svc, episodeId);
  const x = svc.state.experiment(experimentId);
  if (!x || x.agentId !== ep.agentId) throw new DomainError('not_found', `episode ${ep.id} holds no proposal ${JSON.stringify(experimentId)}`);
  if (!svc.state.episodes.isHeld(x)) throw new DomainError('conflict', `${x.id} is not held (${x.state})`);
  await svc.ledger.append('episode.released', actor, { episodeId, experimentId });
  return ep;
}

export interface ResolveInput {
  action: EpisodeAction;
  note: string;
  /** For `probation`: the CEL condition every later automatic approval of this agent must also meet. */
  probation?: string;
}

/** The human's one decision about an episode. Every step is its own ledger event, by the deciding human. */
export async function resolveEpisode(svc: FleetService, actor: Actor, episodeId: string, input: ResolveInput): Promise<Episode> {
  requireHuman(actor, 'decide an episode');
  const note = input.note?.trim() ?? '';
  if (!note) throw new DomainError('invalid', 'an episode decision needs a note (it goes to the agent)');
  if (input.action === 'probation') {
    if (!input.probation?.trim()) throw new DomainError('invalid', 'probation needs a condition (a CEL expression over the policy variables)');
    const errors = checkRules([{ name: 'probation', expr: input.probation }]);
    if (errors.length) throw new DomainError('invalid', `invalid probation condition: ${errors.join('; ')}`);
  } else if (input.probation !== undefined) throw new DomainError('invalid', 'a probation condition goes with the probation action only');
  const st = svc.state;
  const ep = openEpisode(svc, episodeId);
  const held = st.experimentsOf(ep.agentId).filter((x) => st.episodes.isHeld(x));
  const why = `episode ${ep.id}: ${note}`.slice(0, 4000);
  // synchronous from here: every append is sequenced before any other command can run
  const appends: Promise<unknown>[] = [];
  if (input.action === 'resume' || input.action === 'probation') {
    for (const x of held) if (x.screening?.gaming && UNDECIDED.includes(x.state)) appends.push(svc.ledger.append('experiment.vetoed', actor, { experimentId: x.id, commit: x.commit, tree: x.tree, reason: why }));
    if ((st.openProbingAlerts.get(ep.agentId) ?? 0) > 0) appends.push(svc.ledger.append('eval.resumed', actor, { agentId: ep.agentId, note: why.slice(0, 2000) }));
  } else if (input.action === 'retire') {
    for (const x of held) appends.push(svc.ledger.append('experiment.vetoed', actor, { experimentId: x.id, commit: x.commit, tree: x.tree, reason: `agent retired (${why})`.slice(0, 4000) }));
    if (st.agent(ep.agentId)?.status !== 'paused') appends.push(svc.ledger.append('agent.paused', actor, { agentId: ep.agentId, reason: `retired: ${note}`.slice(0, 2000) }));
  }
  appends.push(svc.ledger.append('episode.resolved', actor, { episodeId, agentId: ep.agentId, action: input.action, note: note.slice(0, 2000), probation: input.action === 'probation' ? input.probation!.trim() : undefined }));
  await Promise.all(appends);
  return st.episodes.episodes.get(episodeId)!;
}
