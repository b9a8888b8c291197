// Over real HTTP: the hub exposes the fleet's diversity measurements (GET /api/diversity) and final held-out
// evaluations (POST /api/evaluation/final → eval.final, listed by GET /api/evaluation/finals) to humans only.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { SYSTEM } from '../../../src/core/model';
import { generateSyntheticDataset, simulatePredictions, type SyntheticDataset } from '../../../src/evaluation/datasets';
import { HubError } from '../../../src/hub/client';
import { type HubFixture, startHubFixture } from '../../support/hubFixture';

const DATASET = 'syn-final';

async function status(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 200;
  } catch (err) {
    if (err instanceof HubError) return err.status;
    throw err;
  }
}

describe('hub: diversity and final evaluation', function () {
  this.timeout(60_000);
  let fx: HubFixture;
  let ds: SyntheticDataset;

  before(async () => {
    fx = await startHubFixture({ agents: 3 });
    ds = generateSyntheticDataset({
      dataRoot: path.join(fx.dir, 'datasets'),
      labelsRoot: path.join(fx.dir, 'labels'),
      name: DATASET,
      seed: 7,
      sizes: { train_label: 20, train_unlabel: 20, test: 60, heldout: 80 },
    });
  });
  after(async () => {
    await fx?.close();
  });

  it('GET /api/diversity returns the latest measurement and the history, to humans only', async () => {
    const empty = await fx.human.diversity();
    assert.deepEqual(empty, { latest: null, history: [] });
    const data = (mean: number, converged: boolean) => ({
      meanSimilarity: mean,
      currentMeanSimilarity: mean + 0.1,
      converged,
      agents: 3,
      documents: 10,
      threshold: 0.5,
      topPairs: [{ a: 'aar-1', b: 'aar-2', similarity: 0.77 }],
      flags: ['aar-1 and aar-2 <b>overlap</b>'],
    });
    const e1 = await fx.service.append('diversity.measured', SYSTEM, { data: data(0.2, false) });
    const e2 = await fx.service.append('diversity.measured', SYSTEM, { data: data(0.55, true) });
    const d = await fx.human.diversity();
    assert.equal(d.latest?.seq, e2.seq);
    assert.equal(d.latest?.meanSimilarity, 0.55);
    assert.equal(d.latest?.converged, true);
    assert.deepEqual(d.latest?.topPairs, [{ a: 'aar-1', b: 'aar-2', similarity: 0.77 }]);
    assert.deepEqual(d.latest?.flags, ['aar-1 and aar-2 <b>overlap</b>']);
    assert.deepEqual(d.history.map((h) => [h.seq, h.meanSimilarity, h.converged]), [
      [e1.seq, 0.2, false],
      [e2.seq, 0.55, true],
    ]);
    assert.equal(await status(fx.agent('aar-1').diversity()), 403);
  });

  it('a human runs the final evaluation through HubClient: eval.final is recorded and listed; agents get 403', async () => {
    // A finished experiment whose run left its held-out predictions in results.json.
    const commit = await fx.commit('aar-1', { 'train.py': 'print("final")\n' });
    const x = await fx.agent('aar-1').propose({ commit, command: 'python train.py', title: 'final candidate', rationale: 'r', resources: { gpus: 0, gpuHours: 1, timeLimitMinutes: 5 }, taskMode: 'normal' });
    await fx.human.approve(x.id, { commit: x.commit, tree: x.tree });
    const labels = ds.labels.heldout;
    const preds = simulatePredictions(labels, ds.difficulty.heldout, 0.8, 3);
    await fx.service.markDispatched(x.id, { runner: 'local', jobId: 'job-1', commit: x.commit, tree: x.tree });
    await fx.service.markFinished(x.id, { state: 'succeeded', exitCode: 0, artifacts: { results: { heldout_predictions: preds } } });

    // Agents may not run it, whatever they send.
    assert.equal(await status(fx.agent('aar-1').evaluationFinal({ dataset: DATASET, split: 'heldout', experiment_id: x.id })), 403);
    assert.equal(await status(fx.agent('aar-2').evaluationFinal({ dataset: DATASET, split: 'heldout', predictions: preds })), 403);
    assert.equal(fx.service.state.finals.length, 0);
    // Clear 4xx for bad references.
    assert.equal(await status(fx.human.evaluationFinal({ dataset: DATASET, split: 'heldout', experiment_id: 'x-404' })), 404);

    const before = fx.service.ledger.lastSeq;
    const r = await fx.human.evaluationFinal({ dataset: DATASET, split: 'heldout', experiment_id: x.id });
    let correct = 0;
    for (let i = 0; i < labels.length; i++) if (preds[i] === labels[i]) correct++;
    assert.equal(r.transfer_acc, correct / labels.length, 'predictions came from the run, scored exactly');
    assert.equal(r.total, labels.length);
    assert.ok(Array.isArray(r.transfer_acc_ci));

    const events = await fx.service.ledger.readAfter(before);
    const finalEv = events.find((e) => e.type === 'eval.final');
    assert.ok(finalEv, 'an eval.final event was appended');
    assert.deepEqual(finalEv.actor, { kind: 'human', id: fx.humanId });

    // Explicit predictions work too (no experiment).
    const flipped = preds.map((p) => 1 - p);
    const r2 = await fx.human.evaluationFinal({ dataset: DATASET, split: 'heldout', predictions: flipped });
    assert.equal(r2.transfer_acc, (labels.length - correct) / labels.length);

    const { finals } = await fx.human.evaluationFinals();
    assert.equal(finals.length, 2);
    assert.equal(finals[0]!.experimentId, undefined, 'newest first');
    assert.equal(finals[1]!.experimentId, x.id);
    assert.equal(finals[1]!.transferAcc, r.transfer_acc);
    assert.deepEqual(finals[1]!.transferAccCi, r.transfer_acc_ci);
    assert.equal(finals[1]!.pgr, r.pgr);
    assert.equal(finals[1]!.by.id, fx.humanId);
    assert.equal(finals[1]!.seq, finalEv.seq);
    assert.equal(fx.service.state.finals.length, 2);
    assert.equal(await status(fx.agent('aar-1').evaluationFinals()), 403);
  });

  it('refuses a final evaluation of a run without held-out predictions with a clear 400', async () => {
    const commit = await fx.commit('aar-2', { 'train.py': 'print("nopreds")\n' });
    const x = await fx.agent('aar-2').propose({ commit, command: 'python train.py', title: 'no preds', rationale: 'r', resources: { gpus: 0, gpuHours: 1, timeLimitMinutes: 5 }, taskMode: 'normal' });
    await fx.human.approve(x.id, { commit: x.commit, tree: x.tree });
    await fx.service.markDispatched(x.id, { runner: 'local', jobId: 'job-2', commit: x.commit, tree: x.tree });
    await fx.service.markFinished(x.id, { state: 'succeeded', exitCode: 0, artifacts: { results: { ok: true } } });
    const n = fx.service.state.finals.length;
    await assert.rejects(fx.human.evaluationFinal({ dataset: DATASET, experiment_id: x.id }), (err: unknown) => {
      assert.ok(err instanceof HubError);
      assert.equal(err.status, 400);
      assert.equal(err.code, 'predictions_missing');
      assert.match(err.message, /heldout_predictions/);
      return true;
    });
    assert.equal(fx.service.state.finals.length, n, 'nothing recorded');
  });
});
