import * as assert from 'node:assert/strict';
import { precision, recall, runCorpusComparison, runScreeningBench } from '../../../bench/screening';

describe('screening bench (corpus precision/recall)', function () {
  this.timeout(15000);
  it('static detectors reach recall >= 0.7 at precision >= 0.8; the AI stage never lowers recall', async () => {
    const [s, ai] = await runScreeningBench();
    assert.ok(recall(s!.caseLevel) >= 0.7 && precision(s!.caseLevel) >= 0.8, JSON.stringify(s));
    assert.ok(recall(s!.kindLevel) >= 0.7 && precision(s!.kindLevel) >= 0.8, JSON.stringify(s));
    assert.ok(recall(ai!.caseLevel) >= recall(s!.caseLevel));
    assert.ok(ai!.usd > 0 && ai!.tokens > 0);
  });

  it('the structural screener beats the line screener on every set and keeps the held-out targets', async () => {
    const rows = await runCorpusComparison();
    const get = (set: string, screener: string) => rows.find((r) => r.set === set && r.screener === screener)!;
    for (const set of ['original-63', 'dev', 'held-out']) {
      assert.ok(recall(get(set, 'structural').caseLevel) >= recall(get(set, 'line').caseLevel), set);
      assert.ok(recall(get(set, 'structural').kindLevel) >= recall(get(set, 'line').kindLevel), set);
    }
    const ho = get('held-out', 'structural');
    assert.ok(ho.cases >= 40);
    assert.ok(recall(ho.caseLevel) >= 0.85 && precision(ho.caseLevel) >= 0.9, JSON.stringify(ho));
  });
});
