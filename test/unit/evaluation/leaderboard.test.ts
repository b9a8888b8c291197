import * as assert from 'node:assert/strict';
import { simulatePredictions } from '../../../src/evaluation/datasets';
import { type EvalRecord, buildLeaderboard } from '../../../src/evaluation/leaderboard';
import { EvalError } from '../../../src/evaluation/service';
import { makeHarness } from '../../fixtures/evaluation/harness';

const SHA_A = 'a'.repeat(40);
const SHA_B = 'b'.repeat(40);
const H = { kind: 'human' as const, id: 'alice' };

describe('verified leaderboard', () => {
  it('pure: only approved-run evaluations are verified; self-reports and unbound evals are not', () => {
    const rec = (o: Partial<EvalRecord>): EvalRecord => ({
      seq: 1, ts: '2025-01-01T00:00:00Z', agentId: 'a1', actorKind: 'agent', dataset: 'd', split: 'test',
      weakModel: 'w', strongModel: 's', transferAcc: 0.8, pgr: 0.5, mode: 'run', newBest: true, predHash: `h${o.seq ?? 1}`, ...o,
    });
    const out = buildLeaderboard({
      records: [
        rec({ experimentId: 'e1', runId: 's0', pgr: 0.5, seq: 1 }),
        rec({ experimentId: 'e1', runId: 's1', pgr: 0.6, seq: 2 }),
        rec({ experimentId: 'e1', runId: 's2', pgr: 0.55, seq: 3 }),
        rec({ experimentId: 'e2', runId: 's0', pgr: 0.9, seq: 4, agentId: 'a2' }),
        rec({ experimentId: 'e3', runId: 's0', pgr: 0.99, seq: 5 }), // not approved
        rec({ mode: 'ladder', pgr: 0.7, seq: 6, agentId: 'a3' }),
        rec({ dataset: 'other', experimentId: 'e1', pgr: 0.1, seq: 7 }),
      ],
      selfReports: [{ postId: 'p1', agentId: 'a4', title: 'huge', pgr: 1.3, transferAcc: 0.99, numSeeds: 5, seq: 8, ts: '2025-01-01T00:00:00Z' }],
      isApprovedRun: (id) => id === 'e1' || id === 'e2',
      baselines: { weak_model: 'w', strong_model: 's', weak_acc: 0.6, strong_acc: 0.9 },
      query: { dataset: 'd', weak_model: 'w', strong_model: 's' },
    });
    assert.equal(out.total, out.experiments.length);
    assert.deepEqual(out.experiments.map((e) => [e.source, e.experiment_id ?? e.post_id ?? e.agent_id, e.rank]), [
      ['verified_eval', 'e1', 1], // 3 seeds beats the preliminary single-seed e2
      ['verified_eval', 'e2', 2],
      ['self_reported', 'p1', null],
      ['unbound_eval', 'a3', null],
    ]);
    const e1 = out.experiments[0];
    assert.equal(e1.num_seeds, 3);
    assert.equal(e1.preliminary, false);
    assert.equal(e1.pgr, 0.55);
    assert.ok(e1.pgr_ci && e1.pgr_ci[0] <= 0.55 && e1.pgr_ci[1] >= 0.55);
    assert.equal(out.experiments[1].preliminary, true);
    assert.equal(out.experiments[2].verified, false);
    assert.equal(out.fixed_baselines?.weak_acc, 0.6);
  });

  it('service: evaluations bound by the hub to an approved, dispatched run become verified entries', async () => {
    const h = makeHarness({ seed: 2, sizes: { train_label: 50, train_unlabel: 10, test: 300, heldout: 50 }, settings: { runEvalLimit: 3 } });
    try {
      const propose = (experimentId: string, agentId: string) =>
        h.emit('experiment.proposed', { kind: 'agent', id: agentId }, {
          experimentId, agentId, title: 't', rationale: 'r', command: 'python run.py',
          resources: { gpus: 1, gpuHours: 1, timeLimitMinutes: 60 }, taskMode: 'normal', commit: SHA_A, tree: SHA_B,
        });
      propose('exp-1', 'a1');
      h.emit('experiment.approved', H, { experimentId: 'exp-1', commit: SHA_A, tree: SHA_B });
      h.emit('experiment.dispatched', { kind: 'system', id: 'overseer' }, { experimentId: 'exp-1', runner: 'local', jobId: 'j1', commit: SHA_A, tree: SHA_B });
      propose('exp-2', 'a1'); // proposed, never approved
      const labels = h.ds.labels.test;
      const diff = h.ds.difficulty.test;
      for (let s = 0; s < 3; s++) {
        const r = await h.svc.evaluate({ kind: 'agent', id: 'a1' }, { predictions: simulatePredictions(labels, diff, 0.8, s), dataset: 'synth', run_id: `seed${s}` }, { experimentId: 'exp-1', runId: `seed${s}` });
        assert.equal(r.release.mode, 'run');
      }
      await assert.rejects(
        h.svc.evaluate({ kind: 'agent', id: 'a1' }, { predictions: simulatePredictions(labels, diff, 0.8, 9), dataset: 'synth' }, { experimentId: 'exp-1' }),
        (e: unknown) => e instanceof EvalError && e.status === 429 && e.code === 'run_eval_limit',
      );
      // Another agent cannot ride on a1's approved experiment; an unapproved experiment is unbound.
      const other = await h.svc.evaluate({ kind: 'agent', id: 'a2' }, { predictions: simulatePredictions(labels, diff, 0.9, 5), dataset: 'synth' }, { experimentId: 'exp-1' });
      assert.equal(other.release.mode, 'ladder');
      const unapproved = await h.svc.evaluate({ kind: 'agent', id: 'a1' }, { predictions: simulatePredictions(labels, diff, 0.9, 6), dataset: 'synth' }, { experimentId: 'exp-2' });
      assert.equal(unapproved.release.mode, 'ladder');
      h.emit('forum.posted', { kind: 'agent', id: 'a2' }, { postId: 'post-1', title: 'I got PGR 1.2', summary: 's', findingType: 'result', metrics: { pgr: 1.2, numSeeds: 3 } });
      const lb = h.svc.leaderboard({ dataset: 'synth' });
      const verified = lb.experiments.filter((e) => e.verified);
      assert.equal(verified.length, 1);
      assert.equal(verified[0].experiment_id, 'exp-1');
      assert.equal(verified[0].num_seeds, 3);
      assert.deepEqual(verified[0].run_ids, ['seed0', 'seed1', 'seed2']);
      assert.ok(verified[0].eval_seqs?.every((s) => s > 0), 'records carry their ledger seq');
      const self = lb.experiments.find((e) => e.source === 'self_reported');
      assert.equal(self?.verified, false);
      assert.equal(self?.pgr, 1.2);
      assert.ok(lb.fixed_baselines && lb.fixed_baselines.strong_acc > lb.fixed_baselines.weak_acc);
      // Caller-supplied predicate overrides the service's own view.
      assert.equal(h.svc.leaderboard({ dataset: 'synth' }, () => false).experiments.filter((e) => e.verified).length, 0);
    } finally {
      h.cleanup();
    }
  });

  it('pure: seed jobs — the mean is over the jobs the approval fixed; a missing one is incomplete; identical vectors count once', () => {
    const rec = (o: Partial<EvalRecord>): EvalRecord => ({
      seq: 1, ts: '2025-01-01T00:00:00Z', agentId: 'a1', actorKind: 'agent', dataset: 'd', split: 'test',
      transferAcc: 0.8, pgr: 0.5, mode: 'run', newBest: true, predHash: `h${o.seq}`, ...o,
    });
    const out = buildLeaderboard({
      records: [
        // e1: three seed jobs, three vectors; job 0's later (repeated) records do not add seeds
        rec({ experimentId: 'e1', job: 0, seed: 11, transferAcc: 0.7, pgr: 0.4, seq: 1 }),
        rec({ experimentId: 'e1', job: 0, seed: 11, transferAcc: 0.7, pgr: 0.4, seq: 2, runId: 'other', newBest: false }),
        rec({ experimentId: 'e1', job: 1, seed: 22, transferAcc: 0.8, pgr: 0.5, seq: 3 }),
        rec({ experimentId: 'e1', job: 2, seed: 33, transferAcc: 0.9, pgr: 0.6, seq: 4 }),
        // e2: three seed jobs, one vector
        rec({ experimentId: 'e2', job: 0, seq: 5, predHash: 'same' }),
        rec({ experimentId: 'e2', job: 1, seq: 6, predHash: 'same' }),
        rec({ experimentId: 'e2', job: 2, seq: 7, predHash: 'same' }),
        // e3: job 2 of 3 never evaluated
        rec({ experimentId: 'e3', job: 0, pgr: 0.95, seq: 8 }),
        rec({ experimentId: 'e3', job: 1, pgr: 0.97, seq: 9 }),
      ],
      selfReports: [],
      isApprovedRun: () => true,
      seedJobsOf: () => 3,
      baselines: null,
      query: { dataset: 'd' },
    });
    const by = (id: string) => out.experiments.find((e) => e.experiment_id === id)!;
    const e1 = by('e1');
    assert.deepEqual([e1.verified, e1.status, e1.seed_jobs, e1.seed_jobs_evaluated, e1.num_seeds, e1.duplicate_seeds, e1.transfer_acc, e1.pgr], [true, undefined, 3, 3, 3, 0, 0.8, 0.5]);
    assert.deepEqual(e1.seeds, [11, 22, 33]);
    const e2 = by('e2');
    assert.deepEqual([e2.verified, e2.num_seeds, e2.duplicate_seeds, e2.preliminary, e2.transfer_acc_ci ?? null], [true, 1, 2, true, null]);
    const e3 = by('e3');
    assert.deepEqual([e3.verified, e3.rank, e3.status, e3.seed_jobs_evaluated], [false, null, 'incomplete', 2]);
    assert.match(e3.unverified_reason!, /incomplete: 2 of 3 seed jobs evaluated/);
    // the highest PGR is incomplete: it is not ranked above the complete entries
    assert.deepEqual(out.experiments.filter((e) => e.rank !== null).map((e) => e.experiment_id), ['e1', 'e2']);
  });
});
