// Evaluation service cost per query vs the AAR baseline (plain exact scoring) in the same run, and the
// measured coverage of the bootstrap CIs.
import { performance } from 'node:perf_hooks';
import { simulatePredictions } from '../src/evaluation/datasets';
import { bootstrapAccuracy, bootstrapPgrItems, mulberry32 } from '../src/evaluation/stats';
import { aarOracle } from '../test/fixtures/evaluation/attackers';
import { makeHarness } from '../test/fixtures/evaluation/harness';

export async function benchEvaluation(): Promise<void> {
  const rows: Record<string, string | number>[] = [];
  for (const n of [1_000, 10_000, 100_000]) {
    const h = makeHarness({ seed: 5, sizes: { train_label: 10, train_unlabel: 10, test: n, heldout: 10 }, settings: { persistHistory: true } });
    const labels = h.ds.labels.test;
    const q = n >= 100_000 ? 50 : 300;
    const subs = Array.from({ length: q }, (_, k) => simulatePredictions(labels, h.ds.difficulty.test, 0.8, k));
    const aar = aarOracle(labels);
    let t0 = performance.now();
    for (const p of subs) await aar(p);
    const base = (performance.now() - t0) / q;
    t0 = performance.now();
    for (let k = 0; k < q; k++) await h.svc.evaluate({ kind: 'agent', id: `a${k % 9}` }, { predictions: subs[k], dataset: 'synth' });
    const ours = (performance.now() - t0) / q;
    rows.push({ items: n, queries: q, 'AAR ms/query': base.toFixed(3), 'Overseer ms/query': ours.toFixed(3), ratio: (ours / base).toFixed(1) + '×' });
    h.cleanup();
  }
  console.log('\nEvaluation latency (Overseer includes validation, hashing, Ladder, Hamming detection, history file and ledger append into memory)');
  console.table(rows);

  let accCovered = 0;
  let pgrCovered = 0;
  const trials = 200;
  for (let t = 0; t < trials; t++) {
    const rng = mulberry32(77 + t);
    const n = 500;
    const tr = Array.from({ length: n }, () => (rng() < 0.75 ? 1 : 0));
    const a = bootstrapAccuracy(tr, { seed: t, iterations: 1000 });
    if (a.lo <= 0.75 && 0.75 <= a.hi) accCovered++;
    const p = bootstrapPgrItems({ transferCorrect: tr, weakAcc: 0.6, strongAcc: 0.9 }, { seed: t, iterations: 1000 });
    if (p.lo <= 0.5 && 0.5 <= p.hi) pgrCovered++;
  }
  console.log('\nBootstrap 95% CI coverage over 200 synthetic trials (n=500, acc 0.75, fixed baselines 0.6/0.9)');
  console.table([{ accuracy: `${((100 * accCovered) / trials).toFixed(1)}%`, pgr: `${((100 * pgrCovered) / trials).toFixed(1)}%` }]);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  benchEvaluation().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
