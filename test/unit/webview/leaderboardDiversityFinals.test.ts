// The leaderboard's "Diversity of ideas" and "Final evaluation" sections: pure models, the sparkline layout,
// the protocol request, and the shared final-evaluation helpers the host command and the hub use.
import assert from 'node:assert/strict';
import type { DiversityResponse, FinalEvaluation } from '../../../src/hub/api';
import type { Experiment } from '../../../src/core/model';
import { diversityView, finalResults } from '../../../src/host/webviews/leaderboardModel';
import { RunFinalEvaluation } from '../../../src/shared/leaderboardProtocol';
import { finalCandidates, finalDatasets, finalSummary, parsePredictions, runPredictions } from '../../../src/shared/leaderboardFinal';
import { sparklineLayout } from '../../../webview/leaderboard/chart';

const HUMAN = { kind: 'human' as const, id: 'alice' };

function exp(id: string, over: Partial<Experiment> = {}): Experiment {
  return {
    id,
    agentId: 'aar-1',
    title: `title of ${id}`,
    rationale: '',
    command: 'python train.py',
    resources: { gpus: 1, gpuHours: 1, timeLimitMinutes: 10 },
    taskMode: 'normal',
    commit: 'a'.repeat(40),
    tree: 'b'.repeat(40),
    state: 'scored',
    proposedSeq: Number(id.replace(/\D/g, '')) || 1,
    proposedAt: '2026-01-01T00:00:00.000Z',
    history: [],
    ...over,
  } as Experiment;
}

const diversity: DiversityResponse = {
  latest: {
    seq: 9,
    ts: '2026-01-01T00:00:09.000Z',
    meanSimilarity: 0.62,
    currentMeanSimilarity: 0.7,
    converged: true,
    threshold: 0.5,
    agents: 3,
    documents: 14,
    topPairs: [
      { a: 'aar-2', b: 'aar-3', similarity: 0.3 },
      { a: 'aar-1', b: '<img src=x onerror=alert(1)>', similarity: 0.9 },
    ],
    flags: ['<script>alert(1)</script> converging'],
  },
  history: [
    { seq: 3, ts: '2026-01-01T00:00:03.000Z', meanSimilarity: 0.2, currentMeanSimilarity: 0.2, converged: false },
    { seq: 9, ts: '2026-01-01T00:00:09.000Z', meanSimilarity: 0.62, currentMeanSimilarity: 0.7, converged: true },
  ],
};

describe('leaderboard diversity and final results', () => {
  it('diversityView carries the latest measurement, pairs most similar first, and the history', () => {
    assert.equal(diversityView(null), null);
    assert.equal(diversityView({ latest: null, history: [] }), null);
    const v = diversityView(diversity)!;
    assert.equal(v.meanSimilarity, 0.62);
    assert.equal(v.converged, true);
    assert.equal(v.threshold, 0.5);
    assert.deepEqual(v.topPairs.map((p) => p.similarity), [0.9, 0.3]);
    // Agent-derived text passes through unchanged as data; the webview renders it as text nodes only.
    assert.equal(v.topPairs[0]!.b, '<img src=x onerror=alert(1)>');
    assert.deepEqual(v.flags, ['<script>alert(1)</script> converging']);
    assert.deepEqual(v.history.map((h) => h.seq), [3, 9]);
  });

  it('finalResults lists eval.final newest first, joined with the experiment it scored', () => {
    const finals: FinalEvaluation[] = [
      { seq: 5, ts: 't5', by: HUMAN, dataset: 'syn', split: 'heldout', experimentId: 'x-1', transferAcc: 0.8, pgr: 0.4, transferAccCi: [0.7, 0.9], pgrCi: [0.2, 0.6], correct: 80, total: 100 },
      { seq: 8, ts: 't8', by: HUMAN, dataset: 'syn', split: 'heldout', transferAcc: 0.6, pgr: null, transferAccCi: null, pgrCi: null, correct: null, total: null },
      { seq: 7, ts: 't7', by: HUMAN, dataset: 'syn', split: 'heldout', experimentId: 'x-gone', transferAcc: 0.5, pgr: 0.1, transferAccCi: null, pgrCi: null, correct: 5, total: 10 },
    ];
    const rows = finalResults(finals, [exp('x-1', { agentId: 'aar-2', title: 'first line\nsecond line' })]);
    assert.deepEqual(rows.map((r) => r.seq), [8, 7, 5]);
    assert.deepEqual([rows[0]!.experimentId, rows[0]!.title, rows[0]!.agentId], [null, null, null]);
    assert.deepEqual([rows[1]!.experimentId, rows[1]!.title], ['x-gone', null]);
    assert.deepEqual([rows[2]!.title, rows[2]!.agentId, rows[2]!.by, rows[2]!.pgrCi], ['first line', 'aar-2', 'alice', [0.2, 0.6]]);
  });

  it('sparklineLayout maps similarity on a fixed 0..1 scale, skips gaps, marks the threshold', () => {
    const L = sparklineLayout(
      [
        { seq: 1, value: 0, converged: false },
        { seq: 2, value: null, converged: false },
        { seq: 3, value: 1, converged: true },
        { seq: 4, value: 7, converged: true },
      ],
      104,
      28,
      0.5,
    );
    assert.equal(L.dots.length, 3);
    assert.deepEqual(L.dots.map((d) => d.seq), [1, 3, 4]);
    assert.deepEqual(L.dots.map((d) => d.x), [4, 68, 100]);
    assert.equal(L.dots[0]!.y, 24, 'similarity 0 at the bottom');
    assert.equal(L.dots[1]!.y, 4, 'similarity 1 at the top');
    assert.equal(L.dots[2]!.y, 4, 'out-of-range values are clamped');
    assert.equal(L.thresholdY, 14);
    assert.equal(L.points, '4,24 68,4 100,4');
    assert.equal(sparklineLayout([{ seq: 1, value: 0.5, converged: false }], 100, 20).dots[0]!.x, 50);
    assert.equal(sparklineLayout([], 100, 20).points, '');
    assert.equal(sparklineLayout([], 100, 20).thresholdY, null);
  });

  it('RunFinalEvaluation accepts an optional experiment id and refuses bad ones', () => {
    assert.deepEqual(RunFinalEvaluation.validate({}), {});
    assert.deepEqual(RunFinalEvaluation.validate(undefined), {});
    assert.deepEqual(RunFinalEvaluation.validate({ experimentId: 'x-1' }), { experimentId: 'x-1' });
    assert.throws(() => RunFinalEvaluation.validate({ experimentId: '../x' }));
    assert.throws(() => RunFinalEvaluation.validate({ experimentId: 5 }));
  });
});

describe('final evaluation helpers', () => {
  it('finalCandidates keeps scored and succeeded runs, best PGR first, then newest', () => {
    const xs = [
      exp('x-1', { score: { dataset: 'syn', split: 'test', transferAcc: 0.7, pgr: 0.2, verified: true } as Experiment['score'] }),
      exp('x-2', { state: 'succeeded' }),
      exp('x-3', { state: 'failed' }),
      exp('x-4', { score: { dataset: 'other', split: 'test', transferAcc: 0.8, pgr: 0.5, verified: true } as Experiment['score'] }),
      exp('x-5', { state: 'awaiting_review' }),
      exp('x-6', { state: 'succeeded' }),
    ];
    assert.deepEqual(finalCandidates(xs).map((x) => x.id), ['x-4', 'x-1', 'x-6', 'x-2']);
    assert.deepEqual(finalDatasets(xs[0], xs), ['syn', 'other']);
    assert.deepEqual(finalDatasets(xs[1], xs), ['syn', 'other']);
    assert.deepEqual(finalDatasets(undefined, []), []);
  });

  it('runPredictions reads <split>_predictions or predictions[split] from results.json, integers only', () => {
    const withResults = (results: unknown) => ({ run: { runner: 'local', jobId: 'j', commit: 'a', tree: 'b', dispatchedAt: '', artifacts: { results } } }) as Pick<Experiment, 'run'>;
    assert.deepEqual(runPredictions(withResults({ heldout_predictions: [0, 1, 1] })), [0, 1, 1]);
    assert.deepEqual(runPredictions(withResults({ predictions: { heldout: [1, 0] } })), [1, 0]);
    assert.deepEqual(runPredictions(withResults({ test_predictions: [1] }), 'test'), [1]);
    assert.equal(runPredictions(withResults({ heldout_predictions: [0.5, 1] })), undefined);
    assert.equal(runPredictions(withResults({ heldout_predictions: [] })), undefined);
    assert.equal(runPredictions(withResults({ predictions: [0, 1] })), undefined, 'a bare array does not say which split');
    assert.equal(runPredictions(withResults('nope')), undefined);
    assert.equal(runPredictions({}), undefined);
  });

  it('parsePredictions accepts an integer array or {predictions}, with clear errors otherwise', () => {
    assert.deepEqual(parsePredictions('[0,1,2]'), [0, 1, 2]);
    assert.deepEqual(parsePredictions('{"predictions":[1,0]}'), [1, 0]);
    assert.throws(() => parsePredictions('[0,'), /not valid JSON/);
    assert.throws(() => parsePredictions('[0.5]'), /integer class predictions/);
    assert.throws(() => parsePredictions('[]'), /non-empty/);
    assert.throws(() => parsePredictions('{"preds":[1]}'), /JSON array/);
  });

  it('finalSummary shows transfer_acc, PGR and their CIs when present', () => {
    assert.equal(
      finalSummary({ transfer_acc: 0.8123, transfer_acc_ci: [0.79, 0.833], pgr: 0.42, pgr_ci: [0.31, 0.53], total: 1000 }),
      'transfer_acc 0.812 [0.790, 0.833], PGR 0.420 [0.310, 0.530] (n = 1000)',
    );
    assert.equal(finalSummary({ transfer_acc: 0.5, pgr: null, pgr_ci: null }), 'transfer_acc 0.500, PGR n/a');
  });
});
