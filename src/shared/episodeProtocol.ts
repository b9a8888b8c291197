// Episode webview protocol: one agent episode's evidence on one page (vetoes, alerts, findings, runs, held
// proposals) and the human's one decision about the agent (core/episodes.ts). Every string in the state that an
// agent could have written (titles, reasons, findings, summaries) is rendered as text.
import type { EpisodeView } from '../hub/api';
import { defineNotification, defineRequest, id, obj, oneOf, optStr, str } from './protocol';

export const EPISODE_SURFACE = 'episode';
export const EPISODE_DECISIONS = ['resume', 'probation', 'review', 'retire'] as const;
export type EpisodeDecision = (typeof EPISODE_DECISIONS)[number];

export interface EpisodeState {
  human: string;
  view: EpisodeView;
}

export const EpisodeStateNote = defineNotification<EpisodeState>('episode/state');
export const ResolveEpisode = defineRequest<{ action: EpisodeDecision; note: string; probation?: string }, void>('episode/resolve', (p) => {
  const o = obj(p);
  const action = oneOf(o.action, 'action', EPISODE_DECISIONS);
  const note = str(o.note, 'note', 2000).trim();
  if (!note) throw new Error('a decision needs a note (it goes to the agent)');
  const probation = optStr(o.probation, 'probation', 4000)?.trim();
  if (action === 'probation' && !probation) throw new Error('probation needs a condition');
  return { action, note, ...(action === 'probation' ? { probation } : {}) };
});
export const ReleaseHeld = defineRequest<{ experimentId: string }, void>('episode/release', (p) => ({ experimentId: id(obj(p).experimentId, 'experimentId') }));
export const OpenReview = defineRequest<{ experimentId: string }, void>('episode/openReview', (p) => ({ experimentId: id(obj(p).experimentId, 'experimentId') }));
