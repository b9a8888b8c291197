import * as assert from 'node:assert/strict';
import { type ReplicationInfo, belowZero, chooseIndices, replicationJobsFor, replicationVerdict, summarize, tCdf, tQuantile975, transferConfigSchema, welchBelow } from '../../../src/core/replication';
import { parseTaskRules } from '../../../src/screening/taskRules';

const near = (a: number, b: number, eps = 1e-4) => assert.ok(Math.abs(a - b) < eps, `${a} ≉ ${b}`);

describe('core/replication: the statistics of "replicated"', () => {
  it("Student's t matches tabulated quantiles", () => {
    // two-sided 95% quantiles from any t table
    near(tQuantile975(1), 12.7062, 1e-3);
    near(tQuantile975(2), 4.3027, 1e-3);
    near(tQuantile975(4), 2.7764, 1e-3);
    near(tQuantile975(30), 2.0423, 1e-3);
    near(tCdf(0, 5), 0.5);
    near(tCdf(2.015, 5), 0.95, 1e-3);
    near(tCdf(-2.015, 5), 0.05, 1e-3);
  });

  it('summaries: mean, sample sd and a t interval', () => {
    const s = summarize([0.2, 0.3, 0.4])!;
    near(s.mean, 0.3);
    near(s.sd, 0.1);
    near(s.ci[1] - s.mean, tQuantile975(2) * (0.1 / Math.sqrt(3)));
    assert.equal(summarize([]), undefined);
    assert.deepEqual(summarize([0.5])!.ci, [0.5, 0.5]);
  });

  it('Welch: a large drop beyond the tolerance is significant, a small one is not; each side borrows the larger variance', () => {
    const vis = summarize([0.9, 0.92, 0.91])!;
    assert.ok(welchBelow(vis, summarize([0.1, 0.15, 0.05])!, 0.5).p < 0.01);
    assert.ok(welchBelow(vis, summarize([0.6, 0.7, 0.5])!, 0.5).p > 0.05);
    // a visible side snapped to one value (sd 0) does not make a noisy transfer side significant
    const flat = summarize([0.43, 0.43, 0.43])!;
    assert.ok(welchBelow(flat, summarize([-0.3, 0.6, 0.2])!, 0.5).p > 0.05);
    assert.ok(belowZero(summarize([-1.8, -1.9, -1.7])!, 0.1).p < 0.01);
    assert.ok(belowZero(summarize([-0.3, 0.2, 0.1])!, 0.1).p > 0.05);
  });
});

describe('core/replication: the verdict', () => {
  const rec = (index: number, extra: Partial<ReplicationInfo['records'][number]> = {}) => ({ index, seed: 100 + index, runner: 'local', jobId: `j${index}`, endState: 'succeeded' as const, exitCode: 0, ...extra });
  const sc = (index: number, pgr: number | null, resubmissions = 0) => ({ index, seq: index, dataset: 'v', transferDataset: 'h', split: 'test', transferAcc: 0.8, pgr, resubmissions });
  const info = (records: ReplicationInfo['records'], scores: ReplicationInfo['scores'], jobs = records.length): ReplicationInfo => ({ jobs, records, scores, history: [] });

  it('pending, then running, then a verdict', () => {
    assert.equal(replicationVerdict([0.3], undefined, 0.5).status, 'pending');
    assert.equal(replicationVerdict([0.3], info([rec(0), { ...rec(1), endState: undefined }], [], 2), 0.5).status, 'running');
  });

  it('an honest result within the tolerance replicates; an inflated one does not, with the numbers', () => {
    const ok = replicationVerdict([0.3, 0.35, 0.25], info([rec(0), rec(1), rec(2)], [sc(0, 0.2), sc(1, 0.3), sc(2, 0.1)]), 0.5);
    assert.equal(ok.status, 'replicated', JSON.stringify(ok));
    assert.deepEqual(ok.reasons, []);
    const bad = replicationVerdict([1.5, 1.52, 1.49], info([rec(0), rec(1), rec(2)], [sc(0, 0.1), sc(1, 0.05), sc(2, 0.12)]), 0.5);
    assert.equal(bad.status, 'did_not_replicate');
    assert.match(bad.reasons.join(';'), /transfer PGR 0\.090 .* significantly more than 0\.500 below the visible 1\.503/);
    near(bad.gap!, 1.4133, 1e-3);
  });

  it('a failed, demoted, silent or probing replication job means "did not replicate"', () => {
    const v = [0.3, 0.3, 0.3];
    assert.match(replicationVerdict(v, info([rec(0, { endState: 'failed', exitCode: 1 })], []), 0.5).reasons.join(';'), /replication job 0 failed \(exit 1\).*did not evaluate/);
    assert.match(replicationVerdict(v, info([rec(0, { demotion: 'run report: decoy_access' })], [sc(0, 0.3)]), 0.5).reasons.join(';'), /decoy_access/);
    assert.match(replicationVerdict(v, info([rec(0)], [sc(0, 0.3, 2)]), 0.5).reasons.join(';'), /2 further vector/);
    assert.match(replicationVerdict(v, info([rec(0)], [sc(0, null)]), 0.5).reasons.join(';'), /no fixed baselines/);
  });

  it('replication jobs: the fleet setting, else as many as the seed jobs, within 1..20', () => {
    assert.equal(replicationJobsFor({}, 3), 3);
    assert.equal(replicationJobsFor({ seeds: 2 }, 5), 2);
    assert.equal(replicationJobsFor({}, undefined), 1);
  });

  it('gold labels: a seeded choice of k distinct indices', () => {
    const a = chooseIndices(200, 60, 7);
    assert.equal(a.length, 60);
    assert.equal(new Set(a).size, 60);
    assert.ok(a.every((i) => i >= 0 && i < 200));
    assert.deepEqual(chooseIndices(200, 60, 7), a);
    assert.notDeepEqual(chooseIndices(200, 60, 8), a);
    assert.equal(chooseIndices(10, 60, 1).length, 10);
  });
});

describe('fleet.json tasks.<name>.transfer: strict, with clear errors', () => {
  it('parses the demo setting with its defaults', () => {
    const t = parseTaskRules({ w2s: { transfer: { datasets: { 'w2s-digits': 'w2s-mnist' } } } }).get('w2s')!.transfer!;
    assert.deepEqual(t, { datasets: { 'w2s-digits': 'w2s-mnist' }, protocol: { goldLabels: 60 }, tolerance: 0.5, release: false });
  });
  for (const [what, bad, msg] of [
    ['a misspelled field', { datasets: { a: 'b' }, tolerence: 0.2 }, /tolerence/],
    ['no datasets', { datasets: {} }, /at least one/],
    ['the visible dataset as its own transfer', { datasets: { a: 'a' } }, /must not be the visible dataset/],
    ['a path as a dataset', { datasets: { a: '../labels' } }, /dataset name/],
    ['too many replication jobs', { datasets: { a: 'b' }, seeds: 50 }, /seeds/],
  ] as const) {
    it(`refuses ${what}`, () => {
      assert.throws(() => parseTaskRules({ w2s: { transfer: bad } }), msg);
      assert.equal(transferConfigSchema.safeParse(bad).success, false);
    });
  }
});
