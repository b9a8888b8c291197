import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { simulatePredictions } from '../../../src/evaluation/datasets';
import { ladderStep, roundTo } from '../../../src/evaluation/release';
import { EvalError } from '../../../src/evaluation/service';
import { type Harness, makeHarness } from '../../fixtures/evaluation/harness';

const SIZES = { train_label: 200, train_unlabel: 50, test: 400, heldout: 300 };
const agent = (id: string) => ({ kind: 'agent' as const, id });
const human = { kind: 'human' as const, id: 'alice' };

async function rejects(p: Promise<unknown>, status: number, code: string, msg?: RegExp): Promise<EvalError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof EvalError, String(err));
    assert.equal(err.status, status, err.message);
    assert.equal(err.code, code, err.message);
    if (msg) assert.match(err.message, msg);
    return err;
  }
  assert.fail(`expected ${status} ${code}`);
}

describe('EvaluationService', () => {
  let h: Harness;
  beforeEach(() => {
    h = makeHarness({ seed: 1, sizes: SIZES });
  });
  afterEach(() => h.cleanup());
  const preds = (acc: number, seed: number, split: 'test' | 'heldout' | 'train_label' = 'test') =>
    simulatePredictions(h.ds.labels[split], h.ds.difficulty[split], acc, seed);

  it('returns the AAR fields, logs an eval.query with the prediction hash (never the vector), no label_distribution', async () => {
    const r = await h.svc.evaluate(agent('a1'), { predictions: preds(0.8, 1), dataset: 'synth', split: 'test' });
    for (const k of ['transfer_acc', 'pgr', 'correct', 'total', 'fixed_weak_acc', 'fixed_strong_acc']) assert.ok(k in r, k);
    assert.equal(r.total, 400);
    assert.ok(!('label_distribution' in r));
    assert.equal(r.correct, Math.round(r.transfer_acc * 400));
    assert.equal(roundTo(r.transfer_acc, 0.005), r.transfer_acc, 'released on the precision grid');
    const ev = h.events.filter((e) => e.type === 'eval.query');
    assert.equal(ev.length, 1);
    const d = ev[0].data as { predHash: string; n: number; released: Record<string, unknown> };
    assert.match(d.predHash, /^[0-9a-f]{64}$/);
    assert.equal(d.n, 400);
    assert.ok(!JSON.stringify(d).includes('predictions'));
    assert.equal(r.pgr, d.released.pgr);
  });

  it('bad input: clear 4xx errors that reveal nothing beyond the items file', async () => {
    const p = preds(0.8, 2);
    const ev = (body: unknown, who = agent('a1')) => h.svc.evaluate(who, body);
    await rejects(ev({ predictions: 'x', dataset: 'synth' }), 400, 'invalid_request');
    await rejects(ev({ dataset: 'synth' }), 400, 'invalid_request');
    const e = await rejects(ev({ predictions: p.slice(1), dataset: 'synth' }), 400, 'length_mismatch', /expected 400 predictions/);
    assert.doesNotMatch(e.message, /label/i);
    await rejects(ev({ predictions: p.slice(0, 10), dataset: 'synth', split: 'heldout' }), 403, 'heldout_forbidden');
    await rejects(ev({ predictions: [...p.slice(1), 0.5], dataset: 'synth' }), 400, 'invalid_predictions', /\[399\].*integer/);
    await rejects(ev({ predictions: [...p.slice(1), '1'], dataset: 'synth' }), 400, 'invalid_predictions');
    await rejects(ev({ predictions: [...p.slice(1), 2], dataset: 'synth' }), 400, 'invalid_predictions', /0 or 1/);
    await rejects(ev({ predictions: [...p.slice(1), -1], dataset: 'synth' }), 400, 'invalid_predictions');
    await rejects(ev({ predictions: p, dataset: 'nope' }), 404, 'unknown_dataset');
    await rejects(ev({ predictions: p, dataset: '../labels' }), 404, 'unknown_dataset');
    await rejects(ev({ predictions: p, dataset: 'synth', split: 'validation' }), 400, 'unknown_split');
    await rejects(ev({ predictions: new Array(50).fill(0), dataset: 'synth', split: 'train_unlabel' }), 403, 'split_not_scored');
    assert.equal(h.events.length, 0, 'rejected requests are not charged or logged as queries');
    // Models without fixed baselines are scored with pgr null, as AAR's server answers.
    const unk = await ev({ predictions: p, dataset: 'synth', weak_model: 'gpt-2' });
    assert.equal(unk.pgr, null);
    assert.equal(unk.fixed_weak_acc, null);
  });

  it('budgets per agent and split; exhausted → 429; human sets budgets', async () => {
    await h.svc.setQueryBudget(human, 'a1', 'test', 3);
    await rejects(h.svc.setQueryBudget(agent('a1'), 'a1', 'test', 100), 403, 'human_only');
    for (let k = 0; k < 3; k++) {
      const r = await h.svc.evaluate(agent('a1'), { predictions: preds(0.8, 10 + k), dataset: 'synth' });
      assert.equal(r.budget.remaining, 2 - k);
    }
    await rejects(h.svc.evaluate(agent('a1'), { predictions: preds(0.8, 20), dataset: 'synth' }), 429, 'budget_exhausted');
    assert.deepEqual(h.svc.status('a1').budgets.test, { used: 3, limit: 3, remaining: 0 });
    // Another agent is unaffected (default 500); train_label is unbudgeted and exact.
    assert.equal((await h.svc.evaluate(agent('a2'), { predictions: preds(0.8, 21), dataset: 'synth' })).budget.remaining, 499);
    const tl = preds(0.8, 22, 'train_label');
    const r = await h.svc.evaluate(agent('a1'), { predictions: tl, dataset: 'synth', split: 'train_label' });
    const exact = tl.filter((v, i) => v === h.ds.labels.train_label[i]).length;
    assert.equal(r.correct, exact);
    assert.equal(r.release.mode, 'exact');
    // Raising the budget reopens the split.
    await h.svc.setQueryBudget(human, 'a1', 'test', 4);
    await h.svc.evaluate(agent('a1'), { predictions: preds(0.8, 23), dataset: 'synth' });
    // agent.registered evalQueries is the per-split default for that agent.
    h.emit('agent.registered', { kind: 'human', id: 'alice' }, {
      agentId: 'a3', name: 'a3', direction: 'x', repoPath: '/tmp/x', budget: { gpuHours: 1, usd: 1, evalQueries: 1 },
    });
    await h.svc.evaluate(agent('a3'), { predictions: preds(0.8, 24), dataset: 'synth' });
    await rejects(h.svc.evaluate(agent('a3'), { predictions: preds(0.8, 25), dataset: 'synth' }), 429, 'budget_exhausted');
  });

  it('Ladder release: repeats the best unless beaten by the threshold; never leaks single flips', async () => {
    const p = preds(0.75, 30);
    const first = await h.svc.evaluate(agent('a1'), { predictions: p, dataset: 'synth' });
    assert.equal(first.release.new_best, true);
    const worse = await h.svc.evaluate(agent('a1'), { predictions: preds(0.6, 31), dataset: 'synth' });
    assert.equal(worse.release.new_best, false);
    assert.equal(worse.transfer_acc, first.transfer_acc);
    // Four flips: one short of the probing alert (5), which would suspend the agent.
    for (let i = 0; i < 4; i++) {
      const q = p.slice();
      q[i] = 1 - q[i];
      const r = await h.svc.evaluate(agent('a1'), { predictions: q, dataset: 'synth' });
      assert.equal(r.correct, first.correct);
    }
    const better = await h.svc.evaluate(agent('a1'), { predictions: preds(0.9, 32), dataset: 'synth' });
    assert.equal(better.release.new_best, true);
    assert.ok(better.transfer_acc > first.transfer_acc + 0.05);
    // Pure step: deterministic, threshold and noise respected.
    const s = { threshold: 0.01, noise: 0.01, precision: 0.005 };
    assert.equal(ladderStep({ best: 0.7, releases: 1 }, 0.7049, 0.49, s).improved, false);
    assert.equal(ladderStep({ best: 0.7, releases: 1 }, 0.7151, 0.0, s).improved, true);
    assert.equal(ladderStep({ best: 0.7, releases: 1 }, 0.7149, -0.5, s).improved, false);
    assert.equal(ladderStep({ best: 0.7, releases: 1 }, 0.7149, 0.3, s).improved, true, 'noise can release near the boundary');
    assert.equal(ladderStep({ best: 0.7, releases: 1 }, 0.7151, 0.0, s).released, 0.715);
    assert.equal(ladderStep({ best: null, releases: 0 }, 0.123, -0.5, s).released, 0.125);
  });

  it('humans get exact numbers; heldout is scored only for humans, logged as eval.final with CIs', async () => {
    const p = preds(0.8, 40, 'heldout');
    const exact = p.filter((v, i) => v === h.ds.labels.heldout[i]).length;
    const r = await h.svc.finalEvaluation(human, { dataset: 'synth', predictions: p, experimentId: 'exp-1' });
    assert.equal(r.correct, exact);
    assert.ok(r.transfer_acc_ci[0] <= r.transfer_acc && r.transfer_acc <= r.transfer_acc_ci[1]);
    assert.ok(r.pgr_ci && r.pgr_ci[0] <= (r.pgr as number));
    assert.equal(h.events.at(-1)?.type, 'eval.final');
    await rejects(h.svc.finalEvaluation(agent('a1'), { dataset: 'synth', predictions: p }), 403, 'human_only');
    const viaApi = await h.svc.evaluate(human, { predictions: p, dataset: 'synth', split: 'heldout' });
    assert.equal(viaApi.correct, exact);
  });

  it('rebuilds budgets, Ladder bests and detection state from the ledger after a restart', async () => {
    const base = preds(0.8, 50);
    await h.svc.setQueryBudget(human, 'a1', 'test', 10);
    const first = await h.svc.evaluate(agent('a1'), { predictions: base, dataset: 'synth' });
    for (let i = 0; i < 3; i++) {
      const q = base.slice();
      q[i] = 1 - q[i];
      await h.svc.evaluate(agent('a1'), { predictions: q, dataset: 'synth' });
    }
    assert.equal(h.svc.status('a1').probing[0].nearDuplicates, 3);
    const svc2 = h.restart();
    const st = svc2.status('a1');
    assert.deepEqual(st.budgets.test, { used: 4, limit: 10, remaining: 6 });
    assert.deepEqual(st.best, [{ dataset: 'synth', split: 'test', transfer_acc: first.transfer_acc }]);
    assert.equal(st.probing[0].nearDuplicates, 3, 'prediction history persisted under the labels root');
    assert.equal(svc2.historyMisses, 0);
    // Two more near-duplicates after restart complete the trigger (5) and raise exactly one alert.
    for (let i = 3; i < 5; i++) {
      const q = base.slice();
      q[i] = 1 - q[i];
      const r = await svc2.evaluate(agent('a1'), { predictions: q, dataset: 'synth' });
      assert.equal(r.transfer_acc, first.transfer_acc, 'same Ladder state as before the restart');
    }
    assert.equal(h.events.filter((e) => e.type === 'eval.probing_suspected').length, 1);
    assert.ok(fs.existsSync(path.join(h.labelsRoot, '.overseer-eval', 'predictions.jsonl')));
    assert.ok(!fs.readdirSync(h.dataRoot, { recursive: true }).some((f) => String(f).includes('overseer-eval')));
  });

  it('a probing alert suspends all evaluation of the agent until a human resumes it (a budget does not)', async () => {
    const base = preds(0.8, 60);
    let refused: EvalError | undefined;
    let accepted = 0;
    for (let i = 0; i < 10 && !refused; i++) {
      const q = base.slice();
      q[i] = 1 - q[i];
      try {
        await h.svc.evaluate(agent('a1'), { predictions: q, dataset: 'synth' });
        accepted++;
      } catch (err) {
        refused = err as EvalError;
      }
    }
    assert.ok(refused, 'the prober was refused');
    assert.equal(refused.status, 403);
    assert.equal(refused.code, 'evaluation_suspended');
    assert.match(refused.message, /probing suspected on synth\/test/);
    const alert = h.events.find((e) => e.type === 'eval.probing_suspected')!;
    assert.equal((alert.data as { suspended?: boolean }).suspended, true);
    assert.equal(h.events.filter((e) => e.type === 'eval.query').length, accepted, 'refused queries are not logged');
    // Every split and dataset is refused, the agent's others too; another agent is not affected.
    await rejects(h.svc.evaluate(agent('a1'), { predictions: preds(0.8, 61, 'train_label'), dataset: 'synth', split: 'train_label' }), 403, 'evaluation_suspended');
    await h.svc.evaluate(agent('a2'), { predictions: base, dataset: 'synth' });
    const st = h.svc.status('a1');
    assert.equal(st.suspended?.reason, 'probing_suspected');
    assert.equal(st.suspended?.seq, alert.seq);
    assert.equal(st.probing[0].frozen, true);
    // A budget is not a resumption; an agent cannot resume; resuming what is not suspended is a clear 409.
    await h.svc.setQueryBudget(human, 'a1', 'test', 100);
    await rejects(h.svc.evaluate(agent('a1'), { predictions: base, dataset: 'synth' }), 403, 'evaluation_suspended');
    await rejects(h.svc.resumeEvaluation(agent('a1'), 'a1'), 403, 'human_only');
    await rejects(h.svc.resumeEvaluation(human, 'a2'), 409, 'not_suspended');
    await rejects(h.svc.resumeEvaluation(human, '../a1'), 400, 'invalid_agent');
    const after = await h.svc.resumeEvaluation(human, 'a1', '  reviewed: a flip sweep, warned  ');
    assert.equal(after.suspended, null);
    assert.deepEqual({ ...after.lastResumed, seq: 0, at: '' }, { by: 'alice', seq: 0, at: '', note: 'reviewed: a flip sweep, warned' });
    assert.equal(h.events.at(-1)!.type, 'eval.resumed');
    await h.svc.evaluate(agent('a1'), { predictions: base, dataset: 'synth' });
    // Renewed probing after the resumption raises a new alert and suspends again.
    for (let i = 20; i < 30 && !h.svc.status('a1').suspended; i++) {
      const q = base.slice();
      q[i] = 1 - q[i];
      await h.svc.evaluate(agent('a1'), { predictions: q, dataset: 'synth' });
    }
    assert.equal(h.events.filter((e) => e.type === 'eval.probing_suspected').length, 2);
    assert.ok(h.svc.status('a1').suspended);
    // The fold: a restarted service has the same view, then a resumption, then none.
    assert.deepEqual(h.restart().status('a1'), h.svc.status('a1'));
  });

  it('freezeOnProbing false: the alert is recorded but suspends nothing, also after a restart with it on', async () => {
    const f = makeHarness({ seed: 1, sizes: SIZES, settings: { freezeOnProbing: false } });
    try {
      const base = simulatePredictions(f.ds.labels.test, f.ds.difficulty.test, 0.8, 60);
      for (let i = 0; i < 10; i++) {
        const q = base.slice();
        q[i] = 1 - q[i];
        await f.svc.evaluate(agent('a1'), { predictions: q, dataset: 'synth' });
      }
      const alert = f.events.find((e) => e.type === 'eval.probing_suspected');
      assert.equal((alert?.data as { suspended?: boolean }).suspended, false);
      assert.equal(f.svc.status('a1').suspended, null);
      assert.equal(f.restart({ freezeOnProbing: true }).status('a1').suspended, null, 'replay follows the ledger, not the setting');
    } finally {
      f.cleanup();
    }
  });

  it('a failed ledger append releases nothing and charges nothing', async () => {
    const svc = h.restart();
    (svc as unknown as { append: unknown }).append = async () => {
      throw new Error('disk full');
    };
    await rejects(svc.evaluate(agent('a1'), { predictions: preds(0.8, 70), dataset: 'synth' }), 503, 'ledger_unavailable');
    assert.equal(svc.status('a1').budgets.test.used, 0);
    assert.deepEqual(svc.status('a1').best, []);
  });
});
