// Agent webview protocol: one agent's direction, commit timeline, experiments with scores and budget use.
import type { AgentDetail, CommitInfo } from '../hub/api';
import type { Experiment } from '../core/model';
import { defineNotification, defineRequest, id, obj, str } from './protocol';

export const AGENT_SURFACE = 'agent';

export interface AgentState {
  human: string;
  detail: AgentDetail;
  commits: CommitInfo[];
  experiments: Experiment[];
  warnings: string[];
}

export const AgentStateNote = defineNotification<AgentState>('agent/state');
export const OpenReview = defineRequest<{ experimentId: string }, void>('agent/openReview', (p) => ({ experimentId: id(obj(p).experimentId, 'experimentId') }));
export const PauseAgent = defineRequest<{ reason: string }, void>('agent/pause', (p) => ({ reason: str(obj(p).reason, 'reason', 2000).trim() }));
export const ResumeAgent = defineRequest<Record<string, never>, void>('agent/resume', () => ({}));
