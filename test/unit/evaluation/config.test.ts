import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EvaluationConfigError, loadEvaluationConfig, parseEvaluationConfig } from '../../../src/evaluation/config';
import { DEFAULT_EVAL_SETTINGS } from '../../../src/evaluation/service';

describe('fleet.json evaluation section', () => {
  it('defaults: probing suspends; an absent section changes nothing', () => {
    assert.equal(DEFAULT_EVAL_SETTINGS.freezeOnProbing, true);
    assert.deepEqual(parseEvaluationConfig(undefined), {});
  });

  it('maps the fields it knows', () => {
    assert.deepEqual(parseEvaluationConfig({ freezeOnProbing: false, runEvalLimit: 3, testBudget: 50 }), {
      freezeOnProbing: false,
      runEvalLimit: 3,
      defaultBudget: { test: 50 },
    });
  });

  it('bad input: errors name the field; unknown keys are refused, not ignored', () => {
    for (const [raw, re] of [
      [{ freezeOnProbing: 'no' }, /evaluation\.freezeOnProbing: .*boolean/],
      [{ runEvalLimit: -1 }, /evaluation\.runEvalLimit/],
      [{ testBudget: 1.5 }, /evaluation\.testBudget/],
      [{ freezOnProbing: true }, /freezOnProbing/],
      [[], /evaluation/],
    ] as const) {
      assert.throws(() => parseEvaluationConfig(raw), (e: unknown) => e instanceof EvaluationConfigError && re.test(e.message), JSON.stringify(raw));
    }
  });

  it('reads <fleet>/fleet.json; a missing file means defaults, broken JSON a clear error', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-evcfg-'));
    try {
      assert.deepEqual(loadEvaluationConfig(dir), {});
      fs.writeFileSync(path.join(dir, 'fleet.json'), JSON.stringify({ name: 'f', runners: [], evaluation: { freezeOnProbing: false } }));
      assert.deepEqual(loadEvaluationConfig(dir), { freezeOnProbing: false });
      fs.writeFileSync(path.join(dir, 'fleet.json'), '{"evaluation": ');
      assert.throws(() => loadEvaluationConfig(dir), /not valid JSON/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
