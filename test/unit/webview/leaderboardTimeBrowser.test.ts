// The leaderboard's "PGR over time" chart in a real DOM (Debian's Chromium via playwright-core): one path per
// agent, hollow points for unverified scores, a legend of (cut) names, point titles as text, hostile agent names
// and ids create no elements, and clicking a point asks the host to open its review. Skipped without Chromium.
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { notify, openWebview } from '../../support/webviewPage';
import type { LeaderboardState } from '../../../src/shared/leaderboardProtocol';

const EVIL = '<img src=x onerror="window.pwned=1"><svg onload="window.pwned=2">';
const LONG = `${'very-long-agent-name-'.repeat(5)}end`;

const STATE: LeaderboardState = {
  human: 'alice',
  rows: [],
  alerts: [],
  warnings: [],
  diversity: null,
  finals: [],
  series: [
    { agentId: 'aar-1', name: 'Alice', points: [
      { seq: 10, ts: '2026-01-01T01:00:00.000Z', pgr: 0.2, verified: false, experimentId: 'x-1' },
      { seq: 30, ts: '2026-01-01T03:00:00.000Z', pgr: 0.55, verified: true, experimentId: 'x-3' },
    ] },
    { agentId: 'aar-2', name: EVIL, points: [{ seq: 20, ts: '2026-01-01T02:00:00.000Z', pgr: -0.25, verified: true, experimentId: 'x-2' }] },
    { agentId: 'aar-3', name: LONG, points: [
      { seq: 15, ts: '2026-01-01T01:30:00.000Z', pgr: 0.1, verified: true, experimentId: 'x-4' },
      { seq: 40, ts: '2026-01-01T04:00:00.000Z', pgr: 0.3, verified: true, experimentId: 'x-5' },
      { seq: 50, ts: '2026-01-01T05:00:00.000Z', pgr: 0.35, verified: false, experimentId: 'x-6' },
    ] },
  ],
};

describe('leaderboard webview in a browser: PGR over time', function () {
  this.timeout(60_000);
  let browser: Browser | undefined;
  let page: Page;

  before(async function () {
    const opened = await openWebview('webview/leaderboard/main.ts', { css: true });
    if (!opened) return this.skip();
    ({ browser, page } = opened);
    await notify(page, 'leaderboard/state', STATE);
    await page.waitForSelector('#pgr-time');
  });
  after(async () => {
    await browser?.close();
  });

  it('draws one path per agent with a point per score, hollow when unverified', async () => {
    const r = await page.evaluate(() => {
      const root = document.querySelector('#pgr-time')!;
      return {
        paths: [...root.querySelectorAll('g.series[data-agent] path')].map((p) => ({ agent: p.parentElement!.getAttribute('data-agent'), d: p.getAttribute('d') ?? '' })),
        points: [...root.querySelectorAll('g.series[data-agent]')].map((g) => g.querySelectorAll('circle').length),
        hollow: root.querySelectorAll('circle.unverified').length,
        classes: [...root.querySelectorAll('g.series[data-agent]')].map((g) => g.getAttribute('class')),
        axes: root.querySelectorAll('line.axis').length,
        colour: getComputedStyle(root.querySelector('g.series[data-agent="aar-1"] path')!).stroke,
        otherColour: getComputedStyle(root.querySelector('g.series[data-agent="aar-2"] path')!).stroke,
      };
    });
    assert.deepEqual(r.paths.map((p) => p.agent), ['aar-1', 'aar-2', 'aar-3']);
    assert.deepEqual(r.paths.map((p) => (p.d.match(/[ML]/g) ?? []).length), [2, 1, 3]);
    assert.deepEqual(r.points, [2, 1, 3]);
    assert.equal(r.hollow, 2);
    assert.equal(new Set(r.classes).size, 3, 'each agent has its own style');
    assert.ok(r.axes >= 2);
    assert.notEqual(r.colour, r.otherColour, 'distinct colours');
  });

  it('shows hostile names as text in the legend and titles, cut to fit, and creates no elements', async () => {
    const r = await page.evaluate(() => ({
      legend: [...document.querySelectorAll('#pgr-time-legend text')].map((t) => t.textContent ?? ''),
      titles: [...document.querySelectorAll('#pgr-time circle title')].map((t) => t.textContent ?? ''),
      imgs: document.querySelectorAll('img').length,
      nestedSvg: document.querySelectorAll('svg svg').length,
      pwned: (window as unknown as { pwned?: number }).pwned ?? 0,
    }));
    assert.equal(r.legend.length, 3);
    assert.equal(r.legend[0], 'Alice');
    assert.equal(r.legend[1], `${EVIL.slice(0, 19)}…`, 'the hostile name is text, cut to fit');
    assert.ok(r.legend[2].length === 20 && r.legend[2].endsWith('…'));
    assert.equal(r.titles.length, 6);
    const t = r.titles.find((s) => s.startsWith('x-3'))!;
    assert.match(t, /PGR 0\.550/);
    assert.match(t, /2026-01-01 03:00/);
    assert.ok(r.titles.find((s) => s.startsWith('x-1'))!.includes('unverified'));
    assert.ok(r.titles.some((s) => s.includes(EVIL.slice(0, 19))), 'titles carry the (cut) name as text');
    assert.equal(r.imgs, 0);
    assert.equal(r.nestedSvg, 0);
    assert.equal(r.pwned, 0);
  });

  it('clicking a point asks the host to open that experiment', async () => {
    await page.evaluate(() => {
      const dot = [...document.querySelectorAll('#pgr-time circle')].find((c) => (c.querySelector('title')?.textContent ?? '').startsWith('x-2'))!;
      dot.dispatchEvent(new MouseEvent('click', { bubbles: true }));
    });
    const sent = await page.waitForFunction(() =>
      (window as unknown as { sent: { t: string; method: string; params: { experimentId: string } }[] }).sent.find((m) => m.t === 'req' && m.method === 'leaderboard/openReview'),
    );
    assert.equal(((await sent.jsonValue()) as { params: { experimentId: string } }).params.experimentId, 'x-2');
  });
});
