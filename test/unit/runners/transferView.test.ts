import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateSyntheticDataset } from '../../../src/evaluation/datasets';
import { TransferViewError, buildTransferView, transferDataRoot, transferLabelsRoot } from '../../../src/runners/transferView';

describe('runners/transferView: what a replication job receives of the hidden dataset', () => {
  let fleet: string;
  beforeEach(() => {
    fleet = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-tview-'));
    generateSyntheticDataset({ dataRoot: path.join(fleet, 'datasets'), labelsRoot: path.join(fleet, 'labels'), name: 'vis', seed: 1, sizes: { train_label: 50, train_unlabel: 40, test: 30, heldout: 20 } });
    generateSyntheticDataset({ dataRoot: transferDataRoot(fleet), labelsRoot: transferLabelsRoot(fleet), name: 'hid', seed: 2, sizes: { train_label: 40, train_unlabel: 44, test: 33, heldout: 22 } });
    fs.writeFileSync(path.join(fleet, 'datasets', 'vis', 'README.md'), '# the visible dataset\n');
  });
  afterEach(() => fs.rmSync(fleet, { recursive: true, force: true }));

  const lines = (f: string) => fs.readFileSync(f, 'utf8').trim().split('\n');

  it("the hidden items, the visible metadata, the hidden baselines under the visible name, only the protocol's gold labels", () => {
    const runDir = path.join(fleet, 'jobs', 'exp-1');
    const v = buildTransferView({ fleetDir: fleet, runDir, datasets: { vis: 'hid' }, goldLabels: 12, seed: 5 });
    assert.equal(v.binds.length, 1);
    const out = v.binds[0]!.src;
    assert.equal(v.binds[0]!.dest, path.join(fleet, 'datasets', 'vis'));
    assert.ok(out.startsWith(runDir + path.sep));
    assert.deepEqual(fs.readFileSync(path.join(out, 'dataset.json')), fs.readFileSync(path.join(fleet, 'datasets', 'vis', 'dataset.json')));
    const b = JSON.parse(fs.readFileSync(path.join(out, 'baselines.json'), 'utf8')) as { dataset: string; pairs: unknown[] };
    assert.equal(b.dataset, 'vis');
    assert.deepEqual(b.pairs, (JSON.parse(fs.readFileSync(path.join(transferDataRoot(fleet), 'hid', 'baselines.json'), 'utf8')) as { pairs: unknown[] }).pairs);
    assert.equal(lines(path.join(out, 'test', 'items.jsonl')).length, 33);
    assert.equal(lines(path.join(out, 'heldout', 'items.jsonl')).length, 22);
    assert.equal(lines(path.join(out, 'train_label', 'items.jsonl')).length, 12);
    const gold = lines(path.join(out, 'train_label', 'labels.jsonl')).map((l) => JSON.parse(l) as { id: string });
    const items = lines(path.join(out, 'train_label', 'items.jsonl')).map((l) => JSON.parse(l) as { id: string });
    assert.deepEqual(gold.map((g) => g.id), items.map((i) => i.id));
    assert.ok(!fs.existsSync(path.join(out, 'test', 'labels.jsonl')), 'no test labels in the view');
    assert.equal(fs.readFileSync(path.join(out, 'README.md'), 'utf8'), '# the visible dataset\n');
    // the labels view (decoys are made from it) holds the hidden ids
    assert.equal(lines(path.join(v.labelsView, 'vis', 'test.labels.jsonl')).length, 33);
    // another seed, other gold labels
    const w = buildTransferView({ fleetDir: fleet, runDir: path.join(fleet, 'jobs', 'exp-1+seed-1'), datasets: { vis: 'hid' }, goldLabels: 12, seed: 6 });
    assert.notDeepEqual(lines(path.join(w.binds[0]!.src, 'train_label', 'items.jsonl')), lines(path.join(out, 'train_label', 'items.jsonl')));
  });

  it('a missing hidden dataset is an error naming it', () => {
    assert.throws(() => buildTransferView({ fleetDir: fleet, runDir: path.join(fleet, 'jobs', 'x'), datasets: { vis: 'nope' }, goldLabels: 1, seed: 1 }), (e: unknown) => e instanceof TransferViewError && /nope/.test((e as Error).message));
  });
});
