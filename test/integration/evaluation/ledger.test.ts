// The service against the real hash-chained ledger: events pass the real schemas, live echoes through
// onAppended are not double-counted, and a reopened ledger rebuilds the same state.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AnyEvent } from '../../../src/core/events';
import { Ledger } from '../../../src/core/ledger';
import { generateSyntheticDataset, simulatePredictions } from '../../../src/evaluation/datasets';
import { type EvalError, EvaluationService } from '../../../src/evaluation/service';

describe('evaluation service on the real ledger', function () {
  this.timeout(60_000);
  it('logs, echoes once, and rebuilds after reopen', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-evl-'));
    try {
      const dataRoot = path.join(dir, 'data');
      const labelsRoot = path.join(dir, 'labels');
      const ds = generateSyntheticDataset({ dataRoot, labelsRoot, name: 'synth', seed: 3, sizes: { test: 500 } });
      const ledger = await Ledger.open(path.join(dir, 'fleet'), { noSync: true });
      const svc = new EvaluationService({ dataRoot, labelsRoot, append: (t, a, d) => ledger.append(t, a, d) });
      ledger.onAppended((e: AnyEvent) => svc.ingest(e));
      await svc.setQueryBudget({ kind: 'human', id: 'alice' }, 'a1', 'test', 50);
      const base = simulatePredictions(ds.labels.test, ds.difficulty.test, 0.8, 1);
      let refused = 0;
      for (let i = 0; i < 8; i++) {
        const q = base.slice();
        if (i) q[i] = 1 - q[i];
        await svc.evaluate({ kind: 'agent', id: 'a1' }, { predictions: q, dataset: 'synth' }).catch((err: EvalError) => {
          assert.equal(err.code, 'evaluation_suspended');
          refused++;
        });
      }
      await ledger.flush();
      const before = svc.status('a1');
      // The 5th near-duplicate (6th query) raises the alert, which suspends the agent: 2 refused, uncharged.
      assert.equal(refused, 2);
      assert.equal(before.budgets.test.used, 6);
      assert.ok(before.suspended);
      await ledger.close();
      const svc2 = new EvaluationService({ dataRoot, labelsRoot, append: async () => undefined });
      const reopened = await Ledger.open(path.join(dir, 'fleet'), { noSync: true, onLoad: (e) => svc2.ingest(e) });
      assert.deepEqual(svc2.status('a1'), before);
      assert.equal(before.probing[0].flagged, true);
      const types = (await reopened.readAfter(0)).map((e) => e.type);
      assert.equal(types.filter((t) => t === 'eval.query').length, 6);
      assert.equal(types.filter((t) => t === 'eval.probing_suspected').length, 1);
      await reopened.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
