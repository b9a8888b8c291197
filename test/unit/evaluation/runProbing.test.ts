// Run-bound evaluation against label extraction, in process (the real service and event schemas over an
// in-memory ledger): one score per (run, dataset, split) through the agent's cross-run net, and probing
// alerts that suspend the agent. The same attacks over real HTTP: test/integration/evaluation/runProbing.test.ts.
import * as assert from 'node:assert/strict';
import { simulatePredictions } from '../../../src/evaluation/datasets';
import { DEFAULT_RUN_RELEASE, type NetPoint, netRelease, packPredictions, packedCorrect, runReleaseError } from '../../../src/evaluation/release';
import { EvalError, type EvaluationSettings } from '../../../src/evaluation/service';
import { type Oracle, knownSubset } from '../../fixtures/evaluation/attackers';
import { type Harness, makeHarness } from '../../fixtures/evaluation/harness';
import { type NewRun, type RunAttackResult, runBoundary, runFlips, targetedAccuracy } from '../../fixtures/evaluation/runAttackers';

const N = 400; // the test split size of the measured attack (issue 12)
const SIZES = { train_label: 100, train_unlabel: 10, test: N, heldout: 100 };
const SHA_A = 'a'.repeat(40);
const SHA_B = 'b'.repeat(40);
const HUMAN = { kind: 'human' as const, id: 'alice' };
const SYS = { kind: 'system' as const, id: 'overseer' };
const UNLIMITED: Partial<EvaluationSettings> = { defaultBudget: { train_label: Infinity, train_unlabel: 0, test: Infinity, heldout: 0 } };

/** Record that a human approved experiment `experimentId` of `agentId` and the hub dispatched it as `jobId`. */
function dispatch(h: Harness, agentId: string, experimentId: string, jobId: string): void {
  h.emit('experiment.proposed', { kind: 'agent', id: agentId }, {
    experimentId, agentId, title: 't', rationale: 'r', command: 'python run.py',
    resources: { gpus: 0, gpuHours: 1, timeLimitMinutes: 10 }, taskMode: 'normal', commit: SHA_A, tree: SHA_B,
  });
  h.emit('experiment.approved', HUMAN, { experimentId, commit: SHA_A, tree: SHA_B });
  h.emit('experiment.dispatched', SYS, { experimentId, runner: 'local', jobId, commit: SHA_A, tree: SHA_B });
}

/** Each call: a fresh approved, dispatched experiment of `agentId`; its oracle evaluates in that run's context. */
function runs(h: Harness, agentId: string): NewRun {
  let k = 0;
  return async (): Promise<Oracle | null> => {
    const experimentId = `${agentId}-x${++k}`;
    const jobId = `job-${k}`;
    dispatch(h, agentId, experimentId, jobId);
    return async (preds) => {
      try {
        const r = await h.svc.evaluate({ kind: 'agent', id: agentId }, { predictions: preds, dataset: 'synth', split: 'test' }, { experimentId, runId: jobId });
        assert.equal(r.release.mode, 'run');
        return { correct: r.correct, transferAcc: r.transfer_acc, newBest: r.release.new_best };
      } catch (err) {
        if (err instanceof EvalError && (err.status === 403 || err.status === 429)) return null;
        throw err;
      }
    };
  };
}

function report(name: string, r: RunAttackResult, labels: Uint8Array, exclude = new Set<number>()): { targeted: number; all: number } {
  const t = targetedAccuracy(r.guess, labels, r.targeted);
  const all = targetedAccuracy(r.guess, labels, [...Array(labels.length).keys()].filter((i) => !exclude.has(i))).accuracy;
  process.stdout.write(
    `      [run-bound ${name}] ${r.runs} runs, ${r.queries} queries${r.refused ? ' (then refused)' : ''}: ` +
      `${(100 * t.accuracy).toFixed(1)}% of ${t.items} targeted items (${t.guessed} guessed), ${(100 * all).toFixed(1)}% of all unknown\n`,
  );
  return { targeted: t.accuracy, all };
}

describe('run-bound release (pure)', () => {
  it('repeats the first point within the radius, creates a point beyond it, and never moves on one flip', () => {
    const s = DEFAULT_RUN_RELEASE;
    const pts: NetPoint[] = [{ acc: 0.7, released: 0.7 }];
    // n = 400: radius max(0.005, 4/400) = 0.01, noise max(0.005, 4/400) = 0.01
    assert.deepEqual(netRelease(pts, 0.7 + 4 / N, N, 0, s), { released: 0.7, index: 0 });
    assert.equal(netRelease(pts, 0.7 + 5 / N, N, 0, s).index, -1);
    assert.equal(netRelease(pts, 0.7 + 5 / N, N, -0.3, s).index, 0, 'noise can keep a 5-item change on the point');
    assert.deepEqual(netRelease(pts, 0.7 + 6 / N, N, 0, s), { released: 0.715, index: -1 });
    for (const u of [-0.5, -0.2, 0, 0.2, 0.4999]) {
      for (const d of [-2, -1, 1, 2]) assert.equal(netRelease(pts, 0.7 + d / N, N, u, s).index, 0, `${d} items, u=${u}`);
    }
    // Creation order, not nearness: a value within both radii repeats the older point.
    const two: NetPoint[] = [{ acc: 0.7, released: 0.7 }, { acc: 0.715, released: 0.715 }];
    assert.equal(netRelease(two, 0.709, N, 0, s).released, 0.7);
    assert.equal(netRelease(two, 0.7125, N, 0, s).released, 0.715);
    // Large n: the absolute radius and noise apply.
    assert.equal(netRelease(pts, 0.7049, 10_000, 0, s).index, 0);
    assert.equal(netRelease(pts, 0.7076, 10_000, 0.2499, s).index, -1);
    assert.equal(runReleaseError(N, s), 0.01 + 0.005 + 0.0025);
    assert.equal(runReleaseError(10_000, s), 0.01);
  });

  it('packedCorrect scores a packed vector like the plain one (binary and 5 classes)', () => {
    for (const k of [2, 5]) {
      const labels = Array.from({ length: 77 }, (_, i) => (i * 7) % k);
      const preds = Array.from({ length: 77 }, (_, i) => ((i * 13) % 11) % k);
      const plain = preds.filter((p, i) => p === labels[i]).length;
      assert.ok(plain > 0 && plain < 77, `${plain}`);
      assert.equal(packedCorrect(packPredictions(preds, k), labels, k), plain);
    }
    assert.ok(Number.isNaN(packedCorrect(packPredictions([1, 0, 1], 2), Array(40).fill(1), 2)), 'wrong length is NaN');
  });
});

describe('run-bound evaluation: label extraction', function () {
  this.timeout(60_000);

  it("the issue's attack (one run, 10 queries, 9 single flips) learns nothing: the run's score is fixed", async () => {
    const h = makeHarness({ seed: 11, sizes: SIZES, settings: { ...UNLIMITED, freezeOnProbing: false } });
    try {
      const r = await runFlips(N, runs(h, 'atk'), { runs: 1, perRun: 10, group: 1 });
      report('one run, single flips', r, h.ds.labels.test);
      assert.equal(r.queries, 10);
      assert.equal(r.targeted.size, 9);
      assert.equal(targetedAccuracy(r.guess, h.ds.labels.test, r.targeted).guessed, 0, 'every later query repeated the first score');
      const released = h.events.filter((e) => e.type === 'eval.query').map((e) => (e.data as { released: { transfer_acc: number } }).released.transfer_acc);
      assert.equal(released.length, 10);
      assert.equal(new Set(released).size, 1);
    } finally {
      h.cleanup();
    }
  });

  for (const [name, group, perRun] of [
    ['single flips, one per run', 1, 1],
    ['single flips, 10 per run', 1, 10],
    ['pair flips, one per run', 2, 1],
    ['group flips (4), one per run', 4, 1],
    ['group flips (8), 5 per run', 8, 5],
    ['group flips (16), one per run', 16, 1],
  ] as const) {
    it(`${name}, 20 approved runs, suspension off: ≤ 55% of unknown items${group <= 2 ? ' and of the targeted ones' : ''}`, async () => {
      const h = makeHarness({ seed: 11, sizes: SIZES, settings: { ...UNLIMITED, freezeOnProbing: false } });
      try {
        const r = await runFlips(N, runs(h, 'atk'), { runs: 20, perRun, group });
        const m = report(name, r, h.ds.labels.test);
        assert.equal(r.refused, false);
        assert.equal(r.runs, 20);
        assert.ok(r.targeted.size >= Math.min(N, 19 * perRun * group), `${r.targeted.size} targeted`);
        // Single flips never move a run's score; a group's majority shows only when its count leaves the point.
        if (group === 1) assert.equal(targetedAccuracy(r.guess, h.ds.labels.test, r.targeted).guessed, 0);
        assert.ok(m.targeted <= (group <= 2 ? 0.55 : 0.6), `${name}: ${m.targeted} of the targeted items`);
        assert.ok(m.all <= 0.55, `${name}: ${m.all} of all unknown items`);
      } finally {
        h.cleanup();
      }
    });
  }

  it('group flips (16) over 60 approved runs, suspension off: the majority of each group leaks (measured, ≤ 60%)', async () => {
    const h = makeHarness({ seed: 11, sizes: SIZES, settings: { ...UNLIMITED, freezeOnProbing: false } });
    try {
      const r = await runFlips(N, runs(h, 'atk'), { runs: 60, perRun: 1, group: 16 });
      const m = report('group flips (16), 60 runs', r, h.ds.labels.test);
      assert.equal(r.targeted.size, N);
      assert.ok(m.all <= 0.6, `${m.all}`);
    } finally {
      h.cleanup();
    }
  });

  it('boundary attacker with 10% known labels, 60 runs, suspension off: one probed item per run (measured, ≤ 60% of unknown)', async () => {
    const h = makeHarness({ seed: 11, sizes: SIZES, settings: { ...UNLIMITED, freezeOnProbing: false } });
    try {
      const known = knownSubset(h.ds.labels.test, 0.1);
      const r = await runBoundary(N, runs(h, 'atk'), known, { runs: 60, radiusItems: DEFAULT_RUN_RELEASE.radiusItems });
      const m = report('boundary, 10% known, no suspension', r, h.ds.labels.test, new Set(known.keys()));
      assert.ok(r.targeted.size >= 30, `calibrated and probed ${r.targeted.size} items`);
      // At most one probed item per approved run: bounded by the runs humans approve, not by queries.
      assert.ok(r.targeted.size < r.runs);
      assert.ok(m.all <= 0.6, `all unknown: ${m.all}`);
      assert.ok(m.targeted < 0.9, `targeted: ${m.targeted}`);
    } finally {
      h.cleanup();
    }
  });

  it('default settings: every attacker is suspended within 7 runs and learns ≤ 55% of unknown items', async () => {
    const h = makeHarness({ seed: 11, sizes: SIZES, settings: UNLIMITED });
    try {
      const labels = h.ds.labels.test;
      const attacks: [string, (nr: NewRun) => Promise<RunAttackResult>][] = [
        ['single flips', (nr) => runFlips(N, nr, { runs: 60, perRun: 10, group: 1 })],
        ['group flips (8)', (nr) => runFlips(N, nr, { runs: 60, perRun: 5, group: 8 })],
        ['boundary', (nr) => runBoundary(N, nr, knownSubset(labels, 0.1), { runs: 60, radiusItems: DEFAULT_RUN_RELEASE.radiusItems })],
      ];
      for (const [name, attack] of attacks) {
        const id = `atk-${name.replace(/\W+/g, '')}`;
        const r = await attack(runs(h, id));
        const m = report(`${name}, defaults`, r, labels);
        assert.equal(r.refused, true, `${name} was suspended`);
        assert.ok(r.runs <= 7, `${name}: ${r.runs} runs before suspension`);
        assert.ok(h.svc.status(id).suspended, `${name}: status shows the suspension`);
        assert.ok(m.all <= 0.55);
        if (name !== 'boundary') assert.ok(m.targeted <= 0.55, `${name}: ${m.targeted}`);
      }
    } finally {
      h.cleanup();
    }
  });
});

describe('run-bound evaluation: honest runs', function () {
  this.timeout(60_000);

  it("each run's verified score is within the bound of its own accuracy, is what the leaderboard shows, and survives a restart", async () => {
    const h = makeHarness({ seed: 5, sizes: SIZES, settings: UNLIMITED });
    try {
      const labels = h.ds.labels.test;
      const diff = h.ds.difficulty.test;
      const nr = runs(h, 'honest');
      const bound = runReleaseError(N, h.svc.settings.runRelease);
      let maxErr = 0;
      let own = 0;
      const released: number[] = [];
      for (let k = 0; k < 30; k++) {
        const oracle = (await nr())!;
        const preds = simulatePredictions(labels, diff, 0.62 + (0.3 * ((k * 7) % 30)) / 30, 500 + k);
        let c = 0;
        for (let i = 0; i < N; i++) if (preds[i] === labels[i]) c++;
        const a = (await oracle(preds))!;
        const err = Math.abs(a.transferAcc - c / N);
        maxErr = Math.max(maxErr, err);
        if (err <= 0.0025 + 1e-9) own++;
        released.push(a.transferAcc);
        // A later evaluation in the same run (other predictions) repeats the run's score.
        const again = (await oracle(simulatePredictions(labels, diff, 0.95, 900 + k)))!;
        assert.equal(again.transferAcc, a.transferAcc);
        assert.equal(again.newBest, false);
      }
      process.stdout.write(`      [honest runs] max |released − own accuracy| = ${maxErr.toFixed(4)} (bound ${bound}); ${own}/30 got their own rounded accuracy\n`);
      assert.ok(maxErr <= bound + 1e-9, `max error ${maxErr} > ${bound}`);
      assert.ok(own >= 15, `${own} of 30 runs got their own rounded accuracy`);
      assert.equal(h.svc.status('honest').suspended, null, 'no false alarm');
      const lb = h.svc.leaderboard({ dataset: 'synth' });
      for (let k = 0; k < 30; k++) {
        const e = lb.experiments.find((x) => x.experiment_id === `honest-x${k + 1}`);
        assert.ok(e?.verified, `run ${k + 1} verified`);
        assert.equal(e.transfer_acc, released[k]);
      }
      // Replay: a service restarted from the ledger rebuilds the same net; new runs get the same releases.
      dispatch(h, 'honest', 'honest-x31', 'job-31');
      const svc1 = h.svc;
      const svc2 = h.restart();
      assert.equal(svc2.historyMisses, 0);
      for (const k of [0, 1, 2, 3]) {
        const body = { predictions: simulatePredictions(labels, diff, 0.6 + k * 0.1, 4242 + k), dataset: 'synth' };
        const ctx = { experimentId: 'honest-x31', runId: `job-31-${k}` };
        const x2 = await svc2.evaluate({ kind: 'agent', id: 'honest' }, body, ctx);
        const x1 = await svc1.evaluate({ kind: 'agent', id: 'honest' }, body, ctx);
        assert.equal(x2.transfer_acc, x1.transfer_acc, `seed ${k}`);
      }
    } finally {
      h.cleanup();
    }
  });
});
