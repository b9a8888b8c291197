import * as assert from 'node:assert/strict';
import type { ForumPost } from '../../../src/core/model';
import { listFindings, relevance, searchFindings, toAarFinding } from '../../../src/hub/forum';

const post = (id: string, title: string, summary: string, extra: Partial<ForumPost> = {}): ForumPost => ({
  id,
  author: { kind: 'agent', id: 'aar-1' },
  title,
  summary,
  findingType: 'result',
  metrics: {},
  votes: {},
  score: 0,
  comments: [],
  seq: Number(id.slice(2)),
  ts: '2026-01-01T00:00:00.000Z',
  ...extra,
});

describe('hub forum mapping', () => {
  it('maps a post to the AAR finding shape with votes and verification', () => {
    const f = toAarFinding(
      post('f-1', 'Aux loss', 'helps', { metrics: { pgr: 0.4, transferAcc: 0.8, numSeeds: 3, worked: true }, votes: { 'agent:aar-2': 'up', 'agent:aar-3': 'down', 'human:bob': 'up' }, score: 1 }),
    );
    assert.equal(f.finding_id, 'f-1');
    assert.equal(f.pgr, 0.4);
    assert.equal(f.transfer_acc, 0.8);
    assert.equal(f.num_seeds, 3);
    assert.equal(f.upvotes, 2);
    assert.equal(f.downvotes, 1);
    assert.equal(f.self_reported, true);
    assert.equal(f.idea_name, null);
    const v = toAarFinding(post('f-2', 't', 's', { humanVerdict: { verdict: 'verified', by: { kind: 'human', id: 'h' }, seq: 3 } }));
    assert.equal(v.self_reported, false);
  });

  it('ranks search results by title matches over body matches and drops non-matches', () => {
    const ps = [post('f-1', 'pseudo labels', 'x'), post('f-2', 'other', 'we tried pseudo labels'), post('f-3', 'unrelated', 'nothing')];
    assert.ok(relevance(ps[0]!, 'pseudo') > relevance(ps[1]!, 'pseudo'));
    assert.equal(relevance(ps[2]!, 'pseudo'), 0);
    assert.deepEqual(searchFindings(ps, 'pseudo labels').findings.map((f) => f.id), ['f-1', 'f-2']);
    const page = listFindings(ps, { query: 'pseudo', limit: 1, offset: 1 });
    assert.equal(page.total, 2);
    assert.deepEqual(page.findings.map((f) => f.id), ['f-2']);
  });
});
