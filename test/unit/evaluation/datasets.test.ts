import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateSyntheticDataset, listDatasets, loadDataset, simulatePredictions } from '../../../src/evaluation/datasets';

describe('datasets', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-ds-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('synthetic generator is deterministic, keeps labels out of items and out of the data root (except train_label)', () => {
    const a = generateSyntheticDataset({ dataRoot: path.join(dir, 'd1'), labelsRoot: path.join(dir, 'l1'), name: 'syn', seed: 5 });
    const b = generateSyntheticDataset({ dataRoot: path.join(dir, 'd2'), labelsRoot: path.join(dir, 'l2'), name: 'syn', seed: 5 });
    assert.deepEqual(a.baselines, b.baselines);
    assert.deepEqual(a.labels.test, b.labels.test);
    assert.equal(fs.readFileSync(path.join(dir, 'd1/syn/test/items.jsonl'), 'utf8'), fs.readFileSync(path.join(dir, 'd2/syn/test/items.jsonl'), 'utf8'));
    const item = JSON.parse(fs.readFileSync(path.join(dir, 'd1/syn/test/items.jsonl'), 'utf8').split('\n')[0]);
    assert.ok(!('label' in item));
    const files = fs.readdirSync(path.join(dir, 'd1'), { recursive: true }).map(String);
    assert.deepEqual(files.filter((f) => f.endsWith('labels.jsonl')), [path.join('syn', 'train_label', 'labels.jsonl')]);
    const ones = a.labels.test.reduce((x, y) => x + y, 0) / a.labels.test.length;
    assert.ok(ones > 0.4 && ones < 0.6, `balanced labels (${ones})`);
    const t = a.baselines.pairs[0].splits.test;
    assert.ok(t && t.strong_acc - t.weak_acc > 0.1, JSON.stringify(t));
    assert.ok(t && t.weak_acc > 0.55 && t.strong_acc < 0.99);
    assert.deepEqual(listDatasets(path.join(dir, 'd1')), ['syn']);
    const loaded = loadDataset(path.join(dir, 'd1'), path.join(dir, 'l1'), 'syn');
    assert.equal(loaded.splits.test?.n, 1000);
    assert.deepEqual(loaded.splits.test?.labels, a.labels.test);
    assert.equal(loaded.meta.numClasses, 2);
  });

  it('simulated models hit their target accuracy and share hard items', () => {
    const s = generateSyntheticDataset({ dataRoot: path.join(dir, 'd'), labelsRoot: path.join(dir, 'l'), name: 's', seed: 1, sizes: { test: 5000 } });
    const acc = (p: number[]) => p.filter((v, i) => v === s.labels.test[i]).length / p.length;
    const p1 = simulatePredictions(s.labels.test, s.difficulty.test, 0.8, 1);
    const p2 = simulatePredictions(s.labels.test, s.difficulty.test, 0.8, 2);
    assert.ok(Math.abs(acc(p1) - 0.8) < 0.02);
    const disagree = p1.filter((v, i) => v !== p2[i]).length / p1.length;
    assert.ok(disagree > 0.05 && disagree < 0.32, `disagreement ${disagree}`);
  });

  it('rejects labels that do not align with items', () => {
    generateSyntheticDataset({ dataRoot: path.join(dir, 'd'), labelsRoot: path.join(dir, 'l'), name: 's', seed: 1, sizes: { test: 10 } });
    fs.appendFileSync(path.join(dir, 'l/s/test.labels.jsonl'), '{"id":"x","label":1}\n');
    assert.throws(() => loadDataset(path.join(dir, 'd'), path.join(dir, 'l'), 's'), /11 labels for 10 items/);
  });
});
