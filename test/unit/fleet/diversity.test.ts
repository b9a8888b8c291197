import * as assert from 'node:assert/strict';
import { FleetState } from '../../../src/core/fleet';
import { computeDiversity, cosine, diversityEventData, measureDiversity, terms, tokenize, type DiversityDoc } from '../../../src/fleet/diversity';
import { eventSchemas } from '../../../src/core/events';

const doc = (agentId: string, seq: number, text: string): DiversityDoc => ({ agentId, seq, ts: new Date(seq * 1000).toISOString(), kind: 'post', text });

const TOPICS = [
  'confidence auxiliary loss student hardened predictions warmup',
  'bootstrapping intermediate medium model relabel hops',
  'noise robust generalized cross entropy symmetric loss',
  'selective training reliable subset coverage filtering',
  'linear probing frozen backbone adapters layerwise decay',
];

describe('fleet/diversity', () => {
  it('tokenizes without stop words and numbers, and adds bigrams', () => {
    assert.deepEqual(tokenize('The weak labels of 2 models'), ['weak', 'label', 'model']);
    assert.ok(terms('weak labels here').includes('weak label'));
  });

  it('cosine is 1 for identical vectors and 0 for disjoint ones', () => {
    const a = new Map([['x', 1], ['y', 2]]);
    assert.equal(cosine(a, a), 1);
    assert.equal(cosine(a, new Map([['z', 3]])), 0);
  });

  it('diverse agents are not flagged; converging agents are, in the window where they converge', () => {
    const docs: DiversityDoc[] = [];
    let seq = 1;
    for (let round = 0; round < 2; round++) for (let i = 0; i < 5; i++) docs.push(doc(`a${i}`, seq++, `${TOPICS[i]} round ${round}`));
    const diverse = measureDiversity(docs, { windowDocs: 10 });
    assert.equal(diverse.current!.converged, false);
    assert.ok(diverse.current!.meanSimilarity! < 0.2);
    // Later, everyone writes about majority voting.
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 5; i++) docs.push(doc(`a${i}`, seq++, `majority vote ensemble of weak teachers labels agreement v${i}`));
    }
    const r = measureDiversity(docs, { windowDocs: 10 });
    assert.equal(r.windows.length, 2);
    assert.equal(r.windows[0]!.converged, false);
    assert.equal(r.windows[1]!.converged, true, JSON.stringify(r.windows[1]));
    assert.ok(r.windows[1]!.meanSimilarity! > r.windows[0]!.meanSimilarity! + 0.3);
    assert.ok(r.flags.some((f) => /converging/.test(f)));
    assert.ok(r.overall.pairs.length === 10);
  });

  it('computeDiversity reads proposals and agent posts from fleet state; the event data fits the schema', () => {
    const s = new FleetState();
    const ts = new Date().toISOString();
    const actor = { kind: 'agent' as const, id: 'a1' };
    let seq = 0;
    const ev = (type: string, data: unknown, a = actor) => s.apply({ seq: ++seq, ts, type, actor: a, data, prev: '', hash: '' } as never);
    ev('agent.registered', { agentId: 'a1', name: 'a1', direction: 'd', repoPath: '/x', budget: { gpuHours: 1, usd: 1, evalQueries: 1 } }, { kind: 'system', id: 's' } as never);
    ev('forum.posted', { postId: 'f-1', title: 'noise robust loss', summary: TOPICS[2], findingType: 'result', metrics: {} });
    ev('forum.posted', { postId: 'f-2', title: 'probing', summary: TOPICS[4], findingType: 'result', metrics: {} }, { kind: 'agent', id: 'a2' });
    ev('forum.posted', { postId: 'f-3', title: 'human note', summary: 'ignored', findingType: 'note', metrics: {} }, { kind: 'human', id: 'h' } as never);
    const r = computeDiversity(s);
    assert.equal(r.documents, 2);
    assert.deepEqual(r.agents.map((a) => a.agentId), ['a1', 'a2']);
    assert.equal(r.atSeq, seq);
    const data = diversityEventData(r);
    assert.ok(eventSchemas['diversity.measured'].safeParse({ data }).success);
    assert.ok(JSON.stringify(data).length < 5000);
  });
});
