// Experiment lifecycle: the state machine and who may move it. Pure.
import type { Actor, ExperimentState } from './model';

/** Allowed transitions. The key is the event type that causes the move. */
export const TRANSITIONS: Record<string, { from: readonly ExperimentState[]; to: ExperimentState; who: readonly Actor['kind'][] }> = {
  'experiment.screening_started': { from: ['proposed'], to: 'screening', who: ['system'] },
  'experiment.screened': { from: ['proposed', 'screening'], to: 'awaiting_review', who: ['system'] },
  'experiment.approved': { from: ['proposed', 'screening', 'awaiting_review'], to: 'approved', who: ['human'] },
  'experiment.vetoed': { from: ['proposed', 'screening', 'awaiting_review'], to: 'vetoed', who: ['human'] },
  'experiment.changes_requested': {
    from: ['proposed', 'screening', 'awaiting_review'],
    to: 'changes_requested',
    who: ['human'],
  },
  'experiment.dispatched': { from: ['approved'], to: 'dispatched', who: ['system'] },
  'experiment.running': { from: ['dispatched'], to: 'running', who: ['system'] },
  'experiment.finished': { from: ['dispatched', 'running'], to: 'succeeded', who: ['system'] },
  'experiment.scored': { from: ['succeeded'], to: 'scored', who: ['system', 'human'] },
};

export const TERMINAL: readonly ExperimentState[] = ['vetoed', 'superseded', 'failed', 'cancelled', 'timed_out', 'scored'];
export const DECIDED: readonly ExperimentState[] = [
  'approved',
  'vetoed',
  'changes_requested',
  'dispatched',
  'running',
  'succeeded',
  'failed',
  'cancelled',
  'timed_out',
  'scored',
];
export const UNDECIDED: readonly ExperimentState[] = ['proposed', 'screening', 'awaiting_review'];
/** Display order of the queue: what needs a human first, then work in flight, then the finished. */
export const QUEUE_ORDER: readonly ExperimentState[] = [
  'awaiting_review',
  'screening',
  'proposed',
  'approved',
  'dispatched',
  'running',
  'changes_requested',
  'succeeded',
  'scored',
  'failed',
  'timed_out',
  'cancelled',
  'vetoed',
  'superseded',
];
export const ACTIVE_RUN: readonly ExperimentState[] = ['dispatched', 'running'];

/** Error codes map to HTTP statuses in the hub. */
export type DomainErrorCode =
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'invalid'
  | 'stale_review'
  | 'budget_exceeded'
  | 'paused'
  | 'too_many_open_proposals'
  /** The proposal is held by an open agent episode (core/episodes.ts). */
  | 'held';

export const HTTP_STATUS: Record<DomainErrorCode, number> = {
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  invalid: 400,
  stale_review: 409,
  budget_exceeded: 402,
  paused: 423,
  too_many_open_proposals: 429,
  held: 423,
};

export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'DomainError';
  }
  get status(): number {
    return HTTP_STATUS[this.code];
  }
}

/** The verb of a transition in messages ("cannot approve an experiment that is superseded"). */
const VERB: Record<string, string> = {
  'experiment.screening_started': 'start screening',
  'experiment.screened': 'screen',
  'experiment.approved': 'approve',
  'experiment.vetoed': 'veto',
  'experiment.changes_requested': 'request changes on',
  'experiment.dispatched': 'dispatch',
  'experiment.running': 'start',
  'experiment.finished': 'finish',
  'experiment.scored': 'score',
};

export function canTransition(type: string, from: ExperimentState, actor: Actor): true | DomainError {
  const t = TRANSITIONS[type];
  if (!t) return new DomainError('invalid', `unknown transition ${type}`);
  if (!t.who.includes(actor.kind)) {
    const verb = VERB[type] ?? type.split('.')[1];
    return new DomainError('forbidden', `${actor.kind} ${actor.id} may not perform ${verb}; only ${t.who.join('/')} principals may`);
  }
  if (!t.from.includes(from)) {
    return new DomainError('conflict', `cannot ${VERB[type] ?? type.split('.')[1]} an experiment that is ${from}`);
  }
  return true;
}
