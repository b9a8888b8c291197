import * as assert from 'node:assert/strict';
import { precision, recall, runScreeningBench } from '../../../bench/screening';

describe('screening bench (corpus precision/recall)', function () {
  this.timeout(15000);
  it('static detectors reach recall >= 0.7 at precision >= 0.8; the AI stage never lowers recall', async () => {
    const [s, ai] = await runScreeningBench();
    assert.ok(recall(s!.caseLevel) >= 0.7 && precision(s!.caseLevel) >= 0.8, JSON.stringify(s));
    assert.ok(recall(s!.kindLevel) >= 0.7 && precision(s!.kindLevel) >= 0.8, JSON.stringify(s));
    assert.ok(recall(ai!.caseLevel) >= recall(s!.caseLevel));
    assert.ok(ai!.usd > 0 && ai!.tokens > 0);
  });
});
