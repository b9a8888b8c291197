// Replays the request/response shapes an AAR agent uses (raw JSON over HTTP, as its Python client sends
// them) and checks the fields such an agent reads.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { generateSyntheticDataset, simulatePredictions } from '../../../src/evaluation/datasets';
import { startHubFixture, type HubFixture } from '../../support/hubFixture';

describe('AAR agent API compatibility', function () {
  let fx: HubFixture;
  let ds: ReturnType<typeof generateSyntheticDataset>;
  before(async () => {
    fx = await startHubFixture({ agents: 2 });
    ds = generateSyntheticDataset({
      dataRoot: path.join(fx.dir, 'datasets'),
      labelsRoot: path.join(fx.dir, 'labels'),
      name: 'synth',
      seed: 7,
      sizes: { train_label: 50, train_unlabel: 100, test: 200, heldout: 100 },
    });
  });
  after(async () => {
    await fx?.close();
  });

  async function call(agent: string, method: string, url: string, body?: unknown): Promise<{ status: number; json: any }> {
    const res = await fetch(`${fx.url}${url}`, {
      method,
      headers: { authorization: `Bearer ${fx.agentTokens[agent]}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, json: await res.json() };
  }

  it('shares a finding with metrics and reads it back in every listing', async () => {
    const commit = await fx.commit('aar-1', { 'method.py': 'def method(): return 1\n' }, 'confidence-weighted loss');
    const share = await call('aar-1', 'POST', '/api/findings/share', {
      summary: 'Confidence-weighted auxiliary loss lifts PGR on synth.\nDetails follow.',
      title: 'Aux loss helps',
      finding_type: 'result',
      idea_name: 'aux-conf-loss',
      run_id: 'run-17',
      pgr: 0.41,
      transfer_acc: 0.83,
      num_seeds: 3,
      worked: true,
      commit_id: commit,
      config: { alpha: 0.75 },
    });
    assert.equal(share.status, 200);
    assert.equal(typeof share.json.message, 'string');
    assert.equal(typeof share.json.finding_id, 'string');
    assert.equal(share.json.post_id, share.json.finding_id);
    const f = share.json.finding;
    for (const [k, v] of Object.entries({ title: 'Aux loss helps', finding_type: 'result', idea_name: 'aux-conf-loss', run_id: 'run-17', pgr: 0.41, transfer_acc: 0.83, num_seeds: 3, worked: true, commit_id: commit, author: 'aar-1' })) {
      assert.deepEqual(f[k], v, k);
    }
    assert.deepEqual(f.config, { alpha: 0.75 });
    assert.equal(f.self_reported, true);

    const id = share.json.finding_id as string;
    const all = await call('aar-2', 'GET', '/api/findings/all');
    assert.ok(all.json.findings.some((x: any) => x.id === id && x.pgr === 0.41));
    const listed = await call('aar-2', 'GET', '/api/findings?query=auxiliary&finding_type=result&sort=top&limit=10&offset=0');
    assert.equal(listed.status, 200);
    assert.ok(listed.json.findings.some((x: any) => x.id === id));
    assert.equal(typeof listed.json.total, 'number');
    const none = await call('aar-2', 'GET', '/api/findings?query=zzzunrelated');
    assert.equal(none.json.findings.length, 0);
    const found = await call('aar-2', 'POST', '/api/findings/search', { query: 'aux loss', limit: 5 });
    assert.equal(found.json.findings[0].id, id);

    const vote = await call('aar-2', 'POST', `/api/findings/${id}/vote`, { vote: 'up' });
    assert.equal(vote.status, 200);
    assert.equal(vote.json.score, 1);
    const self = await call('aar-1', 'POST', `/api/findings/${id}/vote`, { vote: 'up' });
    assert.equal(self.status, 403);
    const c = await call('aar-2', 'POST', `/api/findings/${id}/comments`, { content: 'Replicated with seed 4?' });
    assert.equal(c.status, 200);
    assert.equal(c.json.comment.content, 'Replicated with seed 4?');
    const cs = await call('aar-1', 'GET', `/api/findings/${id}/comments`);
    assert.deepEqual(cs.json.comments.map((x: any) => [x.author, x.content]), [['aar-2', 'Replicated with seed 4?']]);
    const one = await call('aar-1', 'GET', `/api/findings/${id}`);
    assert.equal(one.json.num_comments, 1);
    assert.equal(one.json.upvotes, 1);

    // The shared commit's snapshot is readable by other agents; an unshared commit is not.
    const snap = await call('aar-2', 'GET', `/api/snapshots/${commit}`);
    assert.equal(snap.status, 200);
    assert.equal(snap.json.commit_id, commit);
    assert.equal(snap.json.files.find((x: any) => x.path === 'method.py').content, 'def method(): return 1\n');
    const secret = await fx.commit('aar-1', { 'secret.py': 'x = 2\n' });
    assert.equal((await call('aar-2', 'GET', `/api/snapshots/${secret}`)).status, 404);
    assert.equal((await call('aar-1', 'GET', `/api/snapshots/${secret}`)).status, 200);

    // A human verdict marks the metrics as verified and notifies the author.
    const v = await fx.human.findingVerdict(id, 'verified', 'reproduced');
    assert.equal(v.human_verdict, 'verified');
    assert.equal(v.self_reported, false);
    assert.ok((await fx.agent('aar-1').inbox()).items.some((i) => i.kind === 'forum_verdict' && i.postId === id));
    assert.equal((await call('aar-1', 'POST', `/api/findings/${id}/verdict`, { verdict: 'verified' })).status, 403);
  });

  it('evaluates predictions with the AAR response fields and refuses train_unlabel', async () => {
    const preds = simulatePredictions(ds.labels.test, ds.difficulty.test, 0.8, 3);
    const r = await call('aar-1', 'POST', '/api/evaluate-predictions', { predictions: preds, dataset: 'synth', split: 'test' });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    for (const k of ['transfer_acc', 'pgr', 'correct', 'total', 'fixed_weak_acc', 'fixed_strong_acc']) assert.ok(k in r.json, k);
    assert.equal(r.json.total, 200);
    assert.ok(r.json.transfer_acc > 0.5 && r.json.transfer_acc <= 1);
    assert.equal(typeof r.json.fixed_weak_acc, 'number');
    const bad = await call('aar-1', 'POST', '/api/evaluate-predictions', { predictions: preds.slice(0, 100), dataset: 'synth', split: 'train_unlabel' });
    assert.ok(bad.status >= 400 && bad.status < 500, String(bad.status));
    assert.ok(bad.json.error?.message);
    const wrongLen = await call('aar-1', 'POST', '/api/evaluate-predictions', { predictions: [1, 0], dataset: 'synth', split: 'test' });
    assert.ok(wrongLen.status >= 400 && wrongLen.status < 500);
    const unknown = await call('aar-1', 'POST', '/api/evaluate-predictions', { predictions: [1], dataset: 'nope', split: 'test' });
    assert.ok(unknown.status >= 400 && unknown.status < 500);
    // Every query is logged with a hash, never the vector.
    await fx.hub.idle();
    const q = (await fx.service.ledger.readAfter(0)).filter((e) => e.type === 'eval.query');
    assert.ok(q.length >= 1);
    assert.ok(!JSON.stringify(q).includes(JSON.stringify(preds)));
  });

  it('serves the leaderboard in the AAR shape', async () => {
    const r = await call('aar-2', 'GET', '/api/leaderboard?dataset=synth&weak_model=synthetic-weak&strong_model=synthetic-strong');
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.ok(Array.isArray(r.json.experiments));
    assert.equal(typeof r.json.total, 'number');
    assert.equal(r.json.fixed_baselines.weak_model, 'synthetic-weak');
    assert.equal(typeof r.json.fixed_baselines.weak_acc, 'number');
    assert.equal(typeof r.json.fixed_baselines.strong_acc, 'number');
    // The self-reported finding shows up, marked unverified.
    const row = r.json.experiments.find((e: any) => e.agent_id === 'aar-1');
    if (row) assert.equal(row.verified, false);
    const status = await fx.human.evaluationStatus();
    assert.ok(Array.isArray((status as any).agents));
  });
});
