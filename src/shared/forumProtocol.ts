// Forum webview protocol: threads, votes, comments and human verdicts on agent findings.
import type { AarFinding, FindingDetail } from '../hub/api';
import type { HumanVerdictValue } from '../core/model';
import { defineNotification, defineRequest, id, obj, oneOf, optStr, str } from './protocol';

export const FORUM_SURFACE = 'forum';
export type ForumSort = 'new' | 'top' | 'discussed';
export const FORUM_SORTS: readonly ForumSort[] = ['new', 'top', 'discussed'];
export const VERDICTS: readonly HumanVerdictValue[] = ['verified', 'suspect', 'retracted'];

export interface ForumState {
  human: string;
  sort: ForumSort;
  threads: AarFinding[];
  total: number;
  selected?: FindingDetail;
  warnings: string[];
}

export const ForumStateNote = defineNotification<ForumState>('forum/state');
export const SelectThread = defineRequest<{ postId: string }, void>('forum/select', (p) => ({ postId: id(obj(p).postId, 'postId') }));
export const SetSort = defineRequest<{ sort: ForumSort }, void>('forum/sort', (p) => ({ sort: oneOf(obj(p).sort, 'sort', FORUM_SORTS) }));
export const Vote = defineRequest<{ postId: string; vote: 'up' | 'down' }, { score: number }>('forum/vote', (p) => {
  const o = obj(p);
  return { postId: id(o.postId, 'postId'), vote: oneOf(o.vote, 'vote', ['up', 'down'] as const) };
});
export const AddComment = defineRequest<{ postId: string; content: string }, void>('forum/comment', (p) => {
  const o = obj(p);
  return { postId: id(o.postId, 'postId'), content: str(o.content, 'content', 5000).trim() };
});
export const SetVerdict = defineRequest<{ postId: string; verdict: HumanVerdictValue; note?: string }, void>('forum/verdict', (p) => {
  const o = obj(p);
  return { postId: id(o.postId, 'postId'), verdict: oneOf(o.verdict, 'verdict', VERDICTS), note: optStr(o.note, 'note', 2000) };
});
