// Pure models behind the webviews: unified-diff rows, leaderboard rows, chart layout.
import assert from 'node:assert/strict';
import { parseUnifiedDiff } from '../../../webview/common/diff';
import { chartLayout } from '../../../webview/leaderboard/chart';
import { buildLeaderboard, firstLine, probeAlerts, replicationOfRun } from '../../../src/host/webviews/leaderboardModel';
import { rankByTransfer } from '../../../src/shared/leaderboardProtocol';
import type { Agent, AuditEntry, Experiment } from '../../../src/core/model';

const PATCH = `diff --git a/train.py b/train.py
index 1111111..2222222 100644
--- a/train.py
+++ b/train.py
@@ -3,4 +3,5 @@ import torch
 def loss_fn(logits, weak_labels):
-    return F.cross_entropy(logits, weak_labels)
+    ce = F.cross_entropy(logits, weak_labels)
+    return ce
 
@@ -20,2 +21,2 @@ def train():
-a
+b
\\ No newline at end of file
`;

describe('parseUnifiedDiff', () => {
  it('numbers old and new lines from the hunk headers', () => {
    const rows = parseUnifiedDiff(PATCH);
    const kinds = rows.map((r) => r.kind);
    assert.deepEqual(kinds, ['meta', 'meta', 'meta', 'meta', 'hunk', 'ctx', 'del', 'add', 'add', 'ctx', 'hunk', 'del', 'add', 'note']);
    const del = rows.find((r) => r.kind === 'del')!;
    assert.deepEqual([del.oldNo, del.newNo, del.text], [4, undefined, '    return F.cross_entropy(logits, weak_labels)']);
    const adds = rows.filter((r) => r.kind === 'add');
    assert.deepEqual(adds.map((r) => r.newNo), [4, 5, 21]);
    assert.equal(rows[9].oldNo, 5);
    assert.equal(rows[9].newNo, 6);
  });

  it('caps the number of rows', () => {
    const big = `@@ -1,3000 +1,3000 @@\n${'+x\n'.repeat(3000)}`;
    const rows = parseUnifiedDiff(big, 100);
    assert.equal(rows.length, 101);
    assert.match(rows[100].text, /more lines not shown/);
  });
});

function agent(id: string, direction = `${id} direction\nsecond line`): Agent {
  return {
    id,
    name: id.toUpperCase(),
    direction,
    repoPath: '/x',
    budget: { gpuHours: 10, usd: 10, evalQueries: 10 },
    used: { gpuHours: 0, usd: 0, evalQueries: 0, tokensIn: 0, tokensOut: 0, agentHours: 0 },
    status: 'active',
    registeredSeq: 1,
  };
}

function scored(id: string, agentId: string, pgr: number | null, verified = true): Experiment {
  return {
    id,
    agentId,
    title: `run ${id}`,
    rationale: '',
    command: '',
    resources: { gpus: 1, gpuHours: 1, timeLimitMinutes: 10 },
    taskMode: 'normal',
    commit: 'a'.repeat(40),
    tree: 'b'.repeat(40),
    state: 'scored',
    proposedSeq: 1,
    proposedAt: '2026-01-01T00:00:00Z',
    history: [],
    score: { dataset: 'sciq', split: 'test', transferAcc: 0.7, pgr, verified, evalSeq: 1 },
  };
}

describe('buildLeaderboard', () => {
  it('ranks agents by mean PGR with a bootstrap interval around the mean', () => {
    const rows = buildLeaderboard(
      [agent('a'), agent('b'), agent('c')],
      [scored('1', 'a', 0.2), scored('2', 'a', 0.4), scored('3', 'a', 0.3), scored('4', 'b', 0.5, false), scored('5', 'b', null)],
    );
    assert.deepEqual(rows.map((r) => r.agentId), ['b', 'a', 'c']);
    const a = rows.find((r) => r.agentId === 'a')!;
    assert.ok(Math.abs(a.meanPgr! - 0.3) < 1e-9);
    assert.ok(a.ci && a.ci.lo <= 0.3 && a.ci.hi >= 0.3 && a.ci.lo >= 0.2 - 1e-9 && a.ci.hi <= 0.4 + 1e-9 && a.ci.hi - a.ci.lo > 0.05, JSON.stringify(a.ci));
    assert.equal(a.best, 0.4);
    assert.deepEqual(a.runs.map((r) => r.pgr), [0.4, 0.3, 0.2]);
    const b = rows.find((r) => r.agentId === 'b')!;
    assert.deepEqual([b.n, b.verified, b.unverified, b.meanPgr], [2, 1, 1, 0.5]);
    assert.deepEqual(b.ci, { lo: 0.5, hi: 0.5 });
    const c = rows.find((r) => r.agentId === 'c')!;
    assert.deepEqual([c.n, c.meanPgr, c.ci, c.method], [0, null, null, 'c direction']);
  });

  it('shows each run\'s replication on the hidden task and ranks agents by it on request', () => {
    const rec = (index: number, endState?: 'succeeded') => ({ index, seed: index + 1, runner: 'local', jobId: `j${index}`, ...(endState ? { endState } : {}) });
    const score = (index: number, pgr: number) => ({ index, seq: index, dataset: 'sciq', transferDataset: 'hidden', split: 'test', transferAcc: 0.7, pgr, resubmissions: 0 });
    const good = { ...scored('1', 'a', 0.3), replication: { jobs: 2, records: [rec(0, 'succeeded'), rec(1, 'succeeded')], scores: [score(0, 0.2), score(1, 0.4)], history: [] }, verification: { status: 'verified' as const, reasons: [] } };
    const bad = { ...scored('2', 'b', 0.9, false), replication: { jobs: 2, records: [rec(0, 'succeeded'), rec(1, 'succeeded')], scores: [score(0, -1), score(1, -1.2)], history: [] }, verification: { status: 'unverified' as const, reasons: ['did not replicate: transfer PGR -1.100 [..] is significantly more than 0.500 below the visible 0.900'] } };
    const running = { ...scored('3', 'c', 0.5, false), replication: { jobs: 2, records: [rec(0)], scores: [], history: [] }, verification: { status: 'incomplete' as const, reasons: ['replication on the hidden transfer task: 0 of 2 job(s) ended'] } };
    const pending = { ...scored('4', 'c', 0.1, false), verification: { status: 'incomplete' as const, reasons: ['awaiting replication on the hidden transfer task'] } };
    assert.deepEqual(replicationOfRun(good), { transferPgr: 0.30000000000000004, replication: 'replicated' });
    assert.equal(replicationOfRun(bad).replication, 'did_not_replicate');
    assert.equal(replicationOfRun(running).replication, 'running');
    assert.deepEqual(replicationOfRun(pending), { transferPgr: null, replication: 'pending' });
    assert.deepEqual(replicationOfRun(scored('5', 'd', 0.1)), { transferPgr: null, replication: null });
    const rows = buildLeaderboard([agent('a'), agent('b'), agent('c')], [good, bad, running, pending]);
    assert.deepEqual(rows.map((r) => r.agentId), ['b', 'a', 'c'], 'by visible PGR, the inflated agent first');
    assert.deepEqual(rankByTransfer(rows).map((r) => r.agentId), ['a', 'b', 'c'], 'by hidden-task PGR it falls');
    const b = rows.find((r) => r.agentId === 'b')!;
    assert.deepEqual([b.replicated, b.notReplicated], [0, 1]);
  });

  it('counts probing alerts per agent from the audit trail', () => {
    const e = (seq: number, summary: string): AuditEntry => ({ seq, ts: 't', type: 'eval.probing_suspected', actor: { kind: 'system', id: 'overseer' }, summary, hash: 'h' });
    const alerts = probeAlerts([e(3, 'probing suspected carol'), e(9, 'probing suspected carol2: many queries'), { ...e(4, 'approved exp-1'), type: 'experiment.approved' }], ['carol', 'carol2']);
    assert.deepEqual(alerts.map((a) => [a.seq, a.agentId]), [[9, 'carol2'], [3, 'carol']]);
    const rows = buildLeaderboard([agent('carol'), agent('carol2')], [], alerts);
    assert.deepEqual(rows.map((r) => [r.agentId, r.probing]), [['carol', 1], ['carol2', 1]]);
  });

  it('firstLine skips blank lines and truncates', () => {
    assert.equal(firstLine('\n\n  hello\nworld'), 'hello');
    assert.equal(firstLine('x'.repeat(300), 10), `${'x'.repeat(9)}…`);
  });
});

describe('chartLayout', () => {
  it('maps values into the plot, with a zero line only when the domain spans zero', () => {
    const L = chartLayout([
      { label: 'a', mean: 0.5, lo: 0.4, hi: 0.6, verified: true },
      { label: 'b', mean: null, lo: null, hi: null, verified: false },
    ]);
    const a = L.bars[0];
    assert.ok(L.plotLeft < a.loX! && a.loX! < a.meanX! && a.meanX! < a.hiX! && a.hiX! < L.plotRight);
    assert.equal(L.bars[1].meanX, null);
    assert.ok(L.bars[1].y > a.y);
    assert.ok(L.ticks.length >= 3);
    assert.ok(L.zeroX !== null); // padding puts 0 strictly inside [min, max]
    const neg = chartLayout([{ label: 'n', mean: -0.2, lo: -0.5, hi: 0.1, verified: true }]);
    assert.ok(neg.domain[0] < -0.5 && neg.zeroX! > neg.bars[0].loX!);
  });
});
