// "PGR over time" on the leaderboard: the per-agent series model (host side) and its pure SVG layout.
import assert from 'node:assert/strict';
import type { Agent, Experiment, HistoryEntry } from '../../../src/core/model';
import { pgrSeries } from '../../../src/host/webviews/leaderboardModel';
import { SERIES_COLOURS, timeSeriesLayout, type TimeSeriesInput } from '../../../webview/leaderboard/chart';

const AGENT = { kind: 'agent' as const, id: 'x' };

function scored(id: string, agentId: string, pgr: number | null, seq: number, ts: string, verified = true): Experiment {
  const history: HistoryEntry[] = [
    { seq: seq - 5, ts: '2026-01-01T00:00:00.000Z', type: 'experiment.proposed', actor: AGENT, summary: 'proposed' },
    { seq, ts, type: 'experiment.scored', actor: AGENT, summary: 'scored' },
  ];
  return {
    id,
    agentId,
    title: `title ${id}`,
    rationale: '',
    command: 'python train.py',
    resources: { gpus: 1, gpuHours: 1, timeLimitMinutes: 10 },
    taskMode: 'normal',
    commit: 'a'.repeat(40),
    tree: 'b'.repeat(40),
    state: 'scored',
    proposedSeq: seq - 5,
    proposedAt: '2026-01-01T00:00:00.000Z',
    score: { dataset: 'syn', split: 'val', transferAcc: 0.7, pgr, verified, evalSeq: 1 },
    history,
  } as Experiment;
}

const agents = [
  { id: 'aar-2', name: 'Bob <b>' },
  { id: 'aar-1', name: 'Alice' },
] as unknown as Agent[];

describe('leaderboard PGR over time', () => {
  it('pgrSeries groups scored experiments per agent, oldest first, with the scoring seq/ts', () => {
    const xs = [
      scored('x-3', 'aar-1', 0.5, 30, '2026-01-01T03:00:00.000Z'),
      scored('x-1', 'aar-1', 0.2, 10, '2026-01-01T01:00:00.000Z', false),
      scored('x-2', 'aar-2', -0.4, 20, '2026-01-01T02:00:00.000Z'),
      scored('x-4', 'aar-2', null, 40, '2026-01-01T04:00:00.000Z'),
      scored('x-5', 'ghost', 0.9, 50, '2026-01-01T05:00:00.000Z'),
      { ...scored('x-6', 'aar-1', 0.1, 60, 't'), score: undefined },
    ];
    const s = pgrSeries(agents, xs);
    assert.deepEqual(s.map((a) => [a.agentId, a.name]), [['aar-1', 'Alice'], ['aar-2', 'Bob <b>'], ['ghost', 'ghost']]);
    assert.deepEqual(s[0].points, [
      { seq: 10, ts: '2026-01-01T01:00:00.000Z', pgr: 0.2, verified: false, experimentId: 'x-1' },
      { seq: 30, ts: '2026-01-01T03:00:00.000Z', pgr: 0.5, verified: true, experimentId: 'x-3' },
    ]);
    assert.deepEqual(s[1].points.map((p) => p.experimentId), ['x-2'], 'a null PGR has nothing to plot');
    // Without a scored history entry the proposal's seq/time stand in.
    const bare = { ...scored('x-9', 'aar-1', 0.3, 90, 't'), history: [] };
    assert.deepEqual(pgrSeries(agents, [bare])[0].points[0].seq, 85);
  });

  const series: TimeSeriesInput[] = [
    { agentId: 'a', name: 'A', points: [
      { seq: 30, ts: '2026-01-01T03:00:00.000Z', pgr: 0.5, verified: true, experimentId: 'x-3' },
      { seq: 10, ts: '2026-01-01T01:00:00.000Z', pgr: 0.2, verified: false, experimentId: 'x-1' },
    ] },
    { agentId: 'b', name: 'B', points: [{ seq: 20, ts: '2026-01-01T02:00:00.000Z', pgr: -0.5, verified: true, experimentId: 'x-2' }] },
  ];

  it('timeSeriesLayout maps time to x and PGR to y (higher PGR higher up), one path per agent', () => {
    const L = timeSeriesLayout(series, 720, 240);
    assert.equal(L.xMode, 'time');
    assert.equal(L.lines.length, 2);
    const [a, b] = L.lines;
    assert.deepEqual(a.points.map((p) => p.experimentId), ['x-1', 'x-3'], 'points in time order');
    assert.ok(a.points[0].x < b.points[0].x && b.points[0].x < a.points[1].x, 'x follows time across agents');
    assert.ok(a.points[1].y < a.points[0].y, 'higher PGR is drawn higher');
    assert.ok(b.points[0].y > L.zeroY!, 'negative PGR sits below the zero line');
    assert.match(a.d, /^M[\d.]+,[\d.]+ L[\d.]+,[\d.]+$/);
    assert.match(b.d, /^M[\d.]+,[\d.]+$/);
    for (const p of [...a.points, ...b.points]) {
      assert.ok(p.x >= L.plotLeft && p.x <= L.plotRight && p.y >= L.plotTop && p.y <= L.plotBottom, 'inside the plot');
    }
    assert.ok(L.yDomain[0] <= -0.5 && L.yDomain[1] >= 1, 'y includes the data and [0, 1]');
    assert.equal(L.xTicks.length, 5);
    assert.match(L.xTicks[0].label, /^01-01 01:00$/);
    assert.ok(L.yTicks.some((t) => t.label === '0') && L.yTicks.length >= 3);
    assert.deepEqual(L.legend.map((l) => l.name), ['A', 'B']);
    assert.ok(L.height > 240, 'legend rows add height');
  });

  it('falls back to ledger seq when a timestamp is unparseable, and repeats colours with a new dash', () => {
    const bad = [{ ...series[0], points: [...series[0].points, { seq: 40, ts: 'not a time', pgr: 0.1, verified: true, experimentId: 'x-4' }] }, series[1]];
    const L = timeSeriesLayout(bad, 720, 240);
    assert.equal(L.xMode, 'seq');
    assert.ok(L.xTicks.every((t) => t.label.startsWith('#')));
    assert.deepEqual(L.lines[0].points.map((p) => p.seq), [10, 30, 40]);

    const many: TimeSeriesInput[] = Array.from({ length: 9 }, (_, i) => ({ agentId: `a${i}`, name: `agent ${i}`, points: [{ seq: i + 1, ts: `2026-01-0${i + 1}T00:00:00.000Z`, pgr: i / 10, verified: true, experimentId: `x${i}` }] }));
    const M = timeSeriesLayout(many, 720, 240);
    assert.deepEqual(M.lines.map((l) => l.colour), [0, 1, 2, 3, 4, 5, 0, 1, 2].map((c) => c % SERIES_COLOURS));
    assert.deepEqual(M.lines.map((l) => l.dash), [0, 0, 0, 0, 0, 0, 1, 1, 1]);
    const keys = new Set(M.lines.map((l) => `${l.colour}/${l.dash}`));
    assert.equal(keys.size, 9, 'every agent has a distinct style');
    const rows = new Set(M.legend.map((l) => l.y));
    assert.ok(rows.size >= 2, 'legend wraps');
    for (const l of M.legend) assert.ok(l.x + 160 <= 720 + 1e-9, 'legend items fit the width');
    assert.match(M.xTicks[0].label, /^2026-01-01$/);
  });

  it('handles a single point and no data without NaN', () => {
    const one = timeSeriesLayout([series[1]], 720, 240);
    const p = one.lines[0].points[0];
    assert.ok(Number.isFinite(p.x) && Number.isFinite(p.y));
    assert.ok(Math.abs(p.x - (one.plotLeft + one.plotRight) / 2) < 1, 'a lone point is centred');
    const none = timeSeriesLayout([], 720, 240);
    assert.equal(none.lines.length, 0);
    assert.equal(none.height, 240);
    assert.ok([...none.xTicks, ...none.yTicks].every((t) => !JSON.stringify(t).includes('NaN')));
  });
});
