import * as assert from 'node:assert/strict';
import {
  bootstrapAccuracy,
  bootstrapPgrItems,
  mulberry32,
  pairedItemTest,
  permutationTest,
  pgr,
  summarizeSeeds,
} from '../../../src/evaluation/stats';

describe('stats', function () {
  this.timeout(20_000);

  it('PGR', () => {
    assert.ok(Math.abs((pgr(0.8, 0.6, 1.0) as number) - 0.5) < 1e-12);
    assert.equal(pgr(0.6, 0.6, 0.9), 0);
    assert.ok(Math.abs((pgr(0.9, 0.6, 0.9) as number) - 1) < 1e-12);
    assert.ok((pgr(0.5, 0.6, 0.9) as number) < 0, 'below weak is negative');
    assert.equal(pgr(0.7, 0.8, 0.8), null, 'no gap → null, never Infinity');
  });

  it('bootstrap is deterministic for a seed', () => {
    const rng = mulberry32(3);
    const v = Array.from({ length: 300 }, () => (rng() < 0.7 ? 1 : 0));
    assert.deepEqual(bootstrapAccuracy(v, { seed: 9 }), bootstrapAccuracy(v, { seed: 9 }));
    assert.notDeepEqual(bootstrapAccuracy(v, { seed: 9 }), bootstrapAccuracy(v, { seed: 10 }));
  });

  it('95% bootstrap CI over items covers the true accuracy in 90–99% of 200 trials', () => {
    const p = 0.72;
    const n = 300;
    let covered = 0;
    for (let t = 0; t < 200; t++) {
      const rng = mulberry32(1000 + t);
      const v = Array.from({ length: n }, () => (rng() < p ? 1 : 0));
      const ci = bootstrapAccuracy(v, { seed: t, iterations: 1000 });
      if (ci.lo <= p && p <= ci.hi) covered++;
    }
    assert.ok(covered >= 180 && covered <= 198, `coverage ${covered}/200`);
  });

  it('95% bootstrap CI of PGR (paired, over items) covers the true PGR in 90–99% of 200 trials', () => {
    const [pw, pt, ps] = [0.6, 0.75, 0.9];
    const truth = (pt - pw) / (ps - pw);
    let covered = 0;
    for (let t = 0; t < 200; t++) {
      const rng = mulberry32(5000 + t);
      const n = 400;
      const w = new Uint8Array(n);
      const tr = new Uint8Array(n);
      const s = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        w[i] = rng() < pw ? 1 : 0;
        tr[i] = rng() < pt ? 1 : 0;
        s[i] = rng() < ps ? 1 : 0;
      }
      const ci = bootstrapPgrItems({ transferCorrect: tr, weakCorrect: w, strongCorrect: s }, { seed: t, iterations: 1000 });
      if (ci.lo <= truth && truth <= ci.hi) covered++;
    }
    assert.ok(covered >= 180 && covered <= 198, `coverage ${covered}/200`);
  });

  it('PGR CI with fixed baselines only varies the transfer accuracy', () => {
    const v = Array.from({ length: 200 }, (_, i) => (i % 4 === 0 ? 0 : 1));
    const ci = bootstrapPgrItems({ transferCorrect: v, weakAcc: 0.6, strongAcc: 0.9 }, { seed: 1 });
    assert.ok(Math.abs(ci.estimate - 0.5) < 1e-12);
    assert.ok(ci.lo < 0.5 && ci.hi > 0.5);
  });

  it('seed summaries: CI over seeds and preliminary below 3 seeds', () => {
    const two = summarizeSeeds([0.4, 0.5]);
    assert.equal(two.preliminary, true);
    assert.ok(two.ci);
    const three = summarizeSeeds([0.4, 0.5, 0.45]);
    assert.equal(three.preliminary, false);
    assert.ok(Math.abs(three.mean - 0.45) < 1e-12);
    assert.ok((three.ci as { lo: number }).lo >= 0.4 && (three.ci as { hi: number }).hi <= 0.5);
    assert.equal(summarizeSeeds([0.3]).ci, undefined);
    assert.equal(summarizeSeeds([0.3], { minSeeds: 1 }).preliminary, false);
  });

  it('paired item test detects a real improvement and not a null one', () => {
    const rng = mulberry32(42);
    const n = 1000;
    const base = Array.from({ length: n }, () => (rng() < 0.7 ? 1 : 0));
    const better = base.map((b) => (b === 0 && rng() < 0.2 ? 1 : b));
    const same = base.map((b) => (rng() < 0.1 ? 1 - b : b));
    const r1 = pairedItemTest(better, base, { seed: 1 });
    assert.ok(r1.diff > 0.04 && r1.pValue < 0.01, JSON.stringify(r1));
    assert.ok((r1.ci as { lo: number }).lo > 0);
    const r2 = pairedItemTest(same, base, { seed: 1 });
    assert.ok(r2.pValue > 0.05, JSON.stringify(r2));
  });

  it('permutation test over seeds (exact for small groups)', () => {
    const r = permutationTest([0.6, 0.62, 0.64], [0.4, 0.42, 0.41]);
    assert.equal(r.iterations, 20);
    assert.ok(Math.abs(r.pValue - 1 / 20) < 1e-12, 'the observed split is the most extreme of C(6,3)=20');
    const r2 = permutationTest([0.5, 0.4, 0.45], [0.44, 0.46, 0.43]);
    assert.ok(r2.pValue > 0.2);
  });
});
