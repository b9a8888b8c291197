// Forum posts in the AAR agent API shapes (snake_case findings), listing, filtering and search. Pure.
import type { ForumComment, ForumPost } from '../core/model';
import type { AarComment, AarFinding, FindingsPage } from './api';
import { AAR_SHARE_KEYS } from './schemas';

/** AAR's fields kept with a finding, each present (null when the agent sent none). */
function aarExtra(p: ForumPost): Pick<AarFinding, (typeof AAR_SHARE_KEYS)[number]> {
  const out: Record<string, unknown> = {};
  for (const k of AAR_SHARE_KEYS) out[k] = p.extra?.[k] ?? null;
  return out as Pick<AarFinding, (typeof AAR_SHARE_KEYS)[number]>;
}

export function toAarComment(c: ForumComment): AarComment {
  return { id: c.id, post_id: c.postId, content: c.content, author: c.author.id, author_kind: c.author.kind, created_at: c.ts, seq: c.seq };
}

export function toAarFinding(p: ForumPost): AarFinding {
  let up = 0;
  let down = 0;
  for (const v of Object.values(p.votes)) v === 'up' ? up++ : down++;
  return {
    id: p.id,
    finding_id: p.id,
    post_id: p.id,
    title: p.title,
    summary: p.summary,
    finding_type: p.findingType,
    idea_name: p.ideaName ?? null,
    run_id: p.runId ?? null,
    commit_id: p.commitId ?? null,
    pgr: p.metrics.pgr ?? null,
    transfer_acc: p.metrics.transferAcc ?? null,
    num_seeds: p.metrics.numSeeds ?? null,
    worked: p.metrics.worked ?? null,
    config: p.config ?? null,
    ...aarExtra(p),
    content: p.summary,
    author: p.author.id,
    author_kind: p.author.kind,
    agent_id: p.author.kind === 'agent' ? p.author.id : null,
    score: p.score,
    upvotes: up,
    downvotes: down,
    num_comments: p.comments.length,
    created_at: p.ts,
    seq: p.seq,
    self_reported: p.humanVerdict?.verdict !== 'verified',
    human_verdict: p.humanVerdict?.verdict ?? null,
    human_verdict_note: p.humanVerdict?.note ?? null,
  };
}

function words(s: string): string[] {
  return s
    .toLowerCase()
    .split(/[^\p{L}\p{N}_]+/u)
    .filter((w) => w.length > 1);
}

/** Relevance of a post to a free-text query: matched query words, title matches weigh double. 0 = no match. */
export function relevance(p: ForumPost, query: string): number {
  const q = words(query);
  if (!q.length) return 1;
  const title = new Set(words(`${p.title} ${p.ideaName ?? ''}`));
  const body = new Set(words(`${p.summary} ${p.findingType} ${p.runId ?? ''}`));
  let s = 0;
  for (const w of q) {
    if (title.has(w)) s += 2;
    else if (body.has(w)) s += 1;
    else if ([...title, ...body].some((t) => t.startsWith(w))) s += 0.5;
  }
  return s;
}

export function listFindings(
  threads: ForumPost[],
  q: { query?: string; finding_type?: string; dataset?: string; idea_name?: string; idea_uid?: string; worked?: string; limit?: number; offset?: number },
): FindingsPage {
  let posts = threads;
  if (q.finding_type) posts = posts.filter((p) => p.findingType === q.finding_type);
  if (q.dataset) posts = posts.filter((p) => p.extra?.dataset === q.dataset);
  if (q.idea_uid) posts = posts.filter((p) => p.extra?.idea_uid === q.idea_uid);
  if (q.idea_name) posts = posts.filter((p) => p.ideaName === q.idea_name);
  if (q.worked !== undefined) {
    const w = ['true', '1', 'yes'].includes(q.worked);
    posts = posts.filter((p) => (p.metrics.worked ?? false) === w);
  }
  if (q.query?.trim()) {
    const scored = posts.map((p) => ({ p, s: relevance(p, q.query!) })).filter((x) => x.s > 0);
    posts = scored.map((x) => x.p);
  }
  const limit = q.limit ?? 50;
  const offset = q.offset ?? 0;
  return { findings: posts.slice(offset, offset + limit).map(toAarFinding), total: posts.length, limit, offset };
}

export function searchFindings(threads: ForumPost[], query: string, limit = 20): FindingsPage {
  const scored = threads
    .map((p) => ({ p, s: relevance(p, query) }))
    .filter((x) => x.s > 0)
    .sort((a, b) => b.s - a.s || b.p.score - a.p.score || b.p.seq - a.p.seq);
  return { findings: scored.slice(0, limit).map((x) => toAarFinding(x.p)), total: scored.length, limit, offset: 0 };
}

/** AAR's snapshot search over findings that name a commit: `key:value` tokens (idea_uid, run_id, idea_name,
 * commit_id) filter exactly, other words must appear in the title or idea name. Newest first. */
export function searchSnapshots(threads: ForumPost[], query: string, limit = 100): { commits: AarFinding[]; total: number } {
  let posts = threads.filter((p) => !!p.commitId);
  for (const tok of query.split(/\s+/).filter(Boolean)) {
    const i = tok.indexOf(':');
    if (i > 0) {
      const [k, v] = [tok.slice(0, i), tok.slice(i + 1)];
      if (k === 'idea_uid') posts = posts.filter((p) => p.extra?.idea_uid === v);
      else if (k === 'run_id') posts = posts.filter((p) => p.runId === v);
      else if (k === 'idea_name') posts = posts.filter((p) => p.ideaName === v);
      else if (k === 'commit_id') posts = posts.filter((p) => p.commitId === v);
    } else {
      const w = tok.toLowerCase();
      posts = posts.filter((p) => `${p.title}\n${p.ideaName ?? ''}`.toLowerCase().includes(w));
    }
  }
  const commits = posts.slice(0, limit).map(toAarFinding);
  return { commits, total: commits.length };
}
