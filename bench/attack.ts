// Label-extraction attacks with 10,000 queries on a 10,000-item test split: AAR semantics (exact `correct`,
// the same-run baseline) vs Overseer's evaluation service (default settings, budget lifted, and an
// ablation without the keyed noise), plus the honest-agent error and probing detection.
import { performance } from 'node:perf_hooks';
import { simulatePredictions } from '../src/evaluation/datasets';
import type { EvaluationSettings } from '../src/evaluation/service';
import {
  type AttackResult,
  type Oracle,
  aarOracle,
  boundaryAttack,
  flipOneBit,
  groupTesting,
  knownSubset,
  recoveryAccuracy,
  serviceOracle,
} from '../test/fixtures/evaluation/attackers';
import { makeHarness } from '../test/fixtures/evaluation/harness';

const N = 10_000;
const Q = 10_000;
const SIZES = { train_label: 200, train_unlabel: 10, test: N, heldout: 200 };
const UNLIMITED = { train_label: Infinity, train_unlabel: 0, test: Infinity, heldout: 0 };

interface Row {
  oracle: string;
  attack: string;
  queries: number;
  refused: boolean;
  recovered: number;
  flaggedAfter: number | null;
  ms: number;
}

export async function benchAttack(): Promise<void> {
  const rows: Row[] = [];
  const base = makeHarness({ seed: 21, sizes: SIZES });
  const labels = base.ds.labels.test;
  const known = knownSubset(labels, 0.1);
  const knownSet = new Set(known.keys());
  const attacks: [string, (o: Oracle, threshold: number) => Promise<AttackResult>, Set<number>][] = [
    ['flip-one-bit', (o) => flipOneBit(N, o, Q), new Set()],
    ['group-testing', (o) => groupTesting(N, o, Q), new Set()],
    ['boundary (knows 10%)', (o, t) => boundaryAttack(N, o, Q, known, { threshold: t }), knownSet],
  ];
  for (const [name, run, excl] of attacks.slice(0, 2)) {
    const t0 = performance.now();
    const r = await run(aarOracle(labels), 0);
    rows.push({ oracle: 'AAR (exact correct)', attack: name, queries: r.queries, refused: r.refused, recovered: recoveryAccuracy(r.guess, labels, excl), flaggedAfter: null, ms: performance.now() - t0 });
  }
  const configs: [string, Partial<EvaluationSettings>][] = [
    ['Overseer default (budget 500)', {}],
    ['Overseer, budget lifted', { defaultBudget: UNLIMITED }],
    ['ablation: Ladder without noise', { defaultBudget: UNLIMITED, release: { threshold: 0.005, noise: 0, precision: 0.005 } }],
  ];
  for (const [label, settings] of configs) {
    for (const [name, run, excl] of attacks) {
      if (label.startsWith('ablation') && !name.startsWith('boundary')) continue;
      const h = makeHarness({ seed: 21, sizes: SIZES, settings: { ...settings, persistHistory: false } });
      const t0 = performance.now();
      const r = await run(serviceOracle(h.svc, 'attacker', 'synth'), h.svc.settings.release.threshold);
      const ms = performance.now() - t0;
      const mine = h.events.filter((e) => (e.data as { agentId?: string }).agentId === 'attacker');
      const at = mine.findIndex((e) => e.type === 'eval.probing_suspected');
      rows.push({
        oracle: label,
        attack: name,
        queries: r.queries,
        refused: r.refused,
        recovered: recoveryAccuracy(r.guess, labels, excl),
        flaggedAfter: at < 0 ? null : mine.slice(0, at).filter((e) => e.type === 'eval.query').length,
        ms,
      });
      h.cleanup();
    }
  }
  console.log(`\nLabel extraction, n=${N} test items, up to ${Q} queries (accuracy on labels the attacker did not know; 0.5 = chance)`);
  console.table(
    rows.map((r) => ({
      oracle: r.oracle,
      attack: r.attack,
      queries: r.queries,
      stopped: r.refused ? 'refused' : '',
      'labels recovered': (r.recovered * 100).toFixed(2) + '%',
      'flagged after': r.flaggedAfter ?? '-',
      'ms/query': (r.ms / r.queries).toFixed(3),
    })),
  );

  // Honest agents: released best vs true best, and detector false alarms in a 9 × 200 fleet.
  const h = makeHarness({ seed: 22, sizes: SIZES, settings: { persistHistory: false } });
  const diff = h.ds.difficulty.test;
  const lab = h.ds.labels.test;
  let maxErr = 0;
  let sumErr = 0;
  let count = 0;
  let minHam = Infinity;
  let prev: number[] | undefined;
  for (let a = 0; a < 9; a++) {
    let trueBest = -Infinity;
    for (let k = 0; k < 200; k++) {
      const acc = Math.min(0.95, 0.68 + 0.0005 * k * ((a % 3) + 1) + 0.03 * Math.sin(a + k));
      const preds = simulatePredictions(lab, diff, acc, a * 100_000 + k);
      let c = 0;
      let d = 0;
      for (let i = 0; i < N; i++) {
        if (preds[i] === lab[i]) c++;
        if (prev && prev[i] !== preds[i]) d++;
      }
      if (prev) minHam = Math.min(minHam, d / N);
      prev = preds;
      trueBest = Math.max(trueBest, c / N);
      const r = await h.svc.evaluate({ kind: 'agent', id: `honest-${a}` }, { predictions: preds, dataset: 'synth' });
      const e = Math.abs(r.transfer_acc - trueBest);
      maxErr = Math.max(maxErr, e);
      sumErr += e;
      count++;
    }
    prev = undefined;
  }
  const alarms = h.events.filter((e) => e.type === 'eval.probing_suspected').length;
  console.log('\nHonest fleet: 9 agents × 200 retrained-model submissions');
  console.table([
    {
      'max |released − true best|': maxErr.toFixed(4),
      'mean |released − true best|': (sumErr / count).toFixed(4),
      'min successive Hamming / n': minHam.toFixed(3),
      'false probing alarms': alarms,
    },
  ]);
  h.cleanup();
  base.cleanup();
}

// `npm run attack` runs this file directly (a dynamic import of it from `node -e` sees only a CJS default
// export under tsx, which is why `m.benchAttack` was not a function).
if (require.main === module) {
  benchAttack().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
