// FleetState keeps the latest diversity measurement, a bounded history, and final (held-out) evaluations;
// all of it survives snapshots, and a snapshot written before these projections forces a full replay.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AnyEvent } from '../../../src/core/events';
import { DIVERSITY_HISTORY_MAX, FleetState } from '../../../src/core/fleet';
import { SYSTEM } from '../../../src/core/model';
import { FleetService, SNAPSHOT_FILE } from '../../../src/core/service';
import { HUMAN, tmpDir } from '../../support/tmp';

let seq = 0;
function ev(type: AnyEvent['type'], data: unknown, actor: AnyEvent['actor'] = SYSTEM): AnyEvent {
  seq++;
  return { seq, ts: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(), type, actor, data, prev: '', hash: String(seq).padStart(64, '0') } as AnyEvent;
}

const measurement = (mean: number | null, converged = false, extra: Record<string, unknown> = {}) => ({
  data: {
    version: 1,
    method: 'tfidf-cosine',
    meanSimilarity: mean,
    currentMeanSimilarity: mean === null ? null : mean + 0.05,
    converged,
    agents: 3,
    documents: 12,
    threshold: 0.5,
    topPairs: [{ a: 'aar-1', b: 'aar-2', similarity: 0.81 }, { a: 'aar-2', b: 'aar-3', similarity: 0.4 }],
    flags: ['aar-1 and aar-2 are working on near-duplicate ideas (0.81)'],
    ...extra,
  },
});

describe('FleetState diversity and final evaluations', () => {
  beforeEach(() => {
    seq = 0;
  });

  it('keeps the latest diversity measurement and a bounded history, oldest first', () => {
    const f = new FleetState();
    assert.equal(f.diversity, undefined);
    const n = DIVERSITY_HISTORY_MAX + 7;
    for (let i = 0; i < n; i++) f.apply(ev('diversity.measured', measurement(i / n, i === n - 1)));
    assert.equal(f.diversityHistory.length, DIVERSITY_HISTORY_MAX);
    assert.equal(f.diversityHistory[0]!.seq, 8, 'the oldest points are dropped first');
    assert.equal(f.diversityHistory.at(-1)!.seq, n);
    assert.ok(f.diversityHistory.every((p, i, a) => i === 0 || p.seq > a[i - 1]!.seq));
    const d = f.diversity!;
    assert.equal(d.seq, n);
    assert.equal(d.meanSimilarity, (n - 1) / n);
    assert.equal(d.converged, true);
    assert.equal(d.threshold, 0.5);
    assert.deepEqual(d.topPairs[0], { a: 'aar-1', b: 'aar-2', similarity: 0.81 });
    assert.match(d.flags[0]!, /near-duplicate/);
    assert.equal(f.diversityHistory.at(-1)!.converged, true);
    assert.equal(f.diversityHistory.at(-2)!.converged, false);
  });

  it('keeps only well-typed, bounded fields of the free-form diversity record', () => {
    const f = new FleetState();
    f.apply(
      ev('diversity.measured', {
        data: {
          meanSimilarity: 'high',
          converged: 'yes',
          agents: Infinity,
          topPairs: [null, 'x', { a: 'z'.repeat(500), b: 7, similarity: 'NaN' }, ...Array.from({ length: 10 }, () => ({ a: 'p', b: 'q', similarity: 0.1 }))],
          flags: ['ok', 42, 'y'.repeat(5000), ...Array.from({ length: 20 }, (_, i) => `f${i}`)],
        },
      }),
    );
    const d = f.diversity!;
    assert.equal(d.meanSimilarity, null);
    assert.equal(d.converged, false);
    assert.equal(d.agents, 0);
    assert.equal(d.topPairs.length, 5);
    assert.deepEqual(d.topPairs[0], { a: 'z'.repeat(64), b: '', similarity: 0 });
    assert.equal(d.flags.length, 10);
    assert.equal(d.flags[0], 'ok');
    assert.equal(d.flags[1]!.length, 300);
  });

  it('lists final evaluations with their numbers and CIs', () => {
    const f = new FleetState();
    f.apply(
      ev(
        'eval.final',
        { dataset: 'syn', split: 'heldout', experimentId: 'x-1', result: { transfer_acc: 0.8, pgr: 0.42, transfer_acc_ci: [0.75, 0.85], pgr_ci: [0.3, 0.55], correct: 80, total: 100 } },
        HUMAN,
      ),
    );
    f.apply(ev('eval.final', { dataset: 'syn', split: 'heldout', result: { transfer_acc: 0.7, pgr: null, pgr_ci: null } }, HUMAN));
    assert.equal(f.finals.length, 2);
    const [a, b] = f.finals;
    assert.deepEqual(
      { ...a, ts: undefined },
      { seq: 1, ts: undefined, by: HUMAN, dataset: 'syn', split: 'heldout', experimentId: 'x-1', transferAcc: 0.8, pgr: 0.42, transferAccCi: [0.75, 0.85], pgrCi: [0.3, 0.55], correct: 80, total: 100 },
    );
    assert.equal(b!.experimentId, undefined);
    assert.equal(b!.pgr, null);
    assert.equal(b!.pgrCi, null);
    assert.equal(b!.total, null);
    assert.ok(f.auditTrail().some((e) => e.type === 'eval.final'), 'eval.final stays in the audit trail');
  });

  it('round-trips diversity and finals through toJSON/fromJSON', () => {
    const f = new FleetState();
    f.apply(ev('fleet.created', { name: 'x' }, HUMAN));
    for (let i = 0; i < 4; i++) f.apply(ev('diversity.measured', measurement(0.1 * i)));
    f.apply(ev('eval.final', { dataset: 'syn', split: 'heldout', result: { transfer_acc: 0.9, pgr: 0.5 } }, HUMAN));
    const json = JSON.parse(JSON.stringify(f.toJSON()));
    const copy = FleetState.fromJSON(json);
    assert.deepEqual(JSON.parse(JSON.stringify(copy.toJSON())), json);
    assert.equal(copy.diversityHistory.length, 4);
    assert.equal(copy.diversity!.seq, f.diversity!.seq);
    assert.equal(copy.finals[0]!.transferAcc, 0.9);
    // It keeps folding after a restore.
    copy.apply(ev('diversity.measured', measurement(0.9, true)));
    assert.equal(copy.diversityHistory.length, 5);
    assert.equal(copy.diversity!.converged, true);
  });

  it('replays the ledger when the snapshot predates these projections', async () => {
    const t = tmpDir();
    try {
      let svc = await FleetService.open(t.dir, { noSync: true });
      await svc.createFleet(HUMAN, 'snap');
      await svc.append('diversity.measured', SYSTEM, measurement(0.3));
      await svc.append('eval.final', HUMAN, { dataset: 'syn', split: 'heldout', result: { transfer_acc: 0.6, pgr: 0.2 } });
      await svc.close();
      const file = path.join(t.dir, SNAPSHOT_FILE);
      const snap = JSON.parse(fs.readFileSync(file, 'utf8'));
      assert.equal(snap.state.finals.length, 1, 'the snapshot carries the finals');
      delete snap.state.diversity;
      delete snap.state.diversityHistory;
      delete snap.state.finals;
      fs.writeFileSync(file, JSON.stringify(snap));
      const warnings: string[] = [];
      svc = await FleetService.open(t.dir, { noSync: true, onWarning: (m) => warnings.push(m) });
      try {
        assert.ok(warnings.some((w) => /snapshot ignored/.test(w)), warnings.join('\n'));
        assert.equal(svc.state.diversity?.meanSimilarity, 0.3);
        assert.equal(svc.state.finals.length, 1);
        assert.equal(svc.state.finals[0]!.pgr, 0.2);
      } finally {
        await svc.close();
      }
    } finally {
      t.cleanup();
    }
  });
});
