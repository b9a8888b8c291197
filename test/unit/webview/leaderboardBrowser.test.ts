// The leaderboard webview in a real DOM (Debian's Chromium via playwright-core): the "Diversity of ideas" and
// "Final evaluation" sections render agent-derived text as text (no injected elements), the convergence
// warning and the sparkline appear, and the Run button asks the host. Skipped when Chromium is not installed.
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { notify, openWebview } from '../../support/webviewPage';
import type { LeaderboardState } from '../../../src/shared/leaderboardProtocol';

const EVIL = '<img src=x onerror="window.pwned=1">';

const STATE: LeaderboardState = {
  human: 'alice',
  rows: [],
  alerts: [],
  warnings: [],
  diversity: {
    seq: 12,
    ts: '2026-01-01T00:00:12.000Z',
    meanSimilarity: 0.61,
    currentMeanSimilarity: 0.7,
    converged: true,
    threshold: 0.5,
    agents: 3,
    documents: 20,
    topPairs: [{ a: 'aar-1', b: EVIL, similarity: 0.91 }],
    flags: [`near-duplicate work ${EVIL}`],
    history: [
      { seq: 4, ts: 't4', meanSimilarity: 0.2, currentMeanSimilarity: 0.2, converged: false },
      { seq: 8, ts: 't8', meanSimilarity: 0.45, currentMeanSimilarity: 0.5, converged: false },
      { seq: 12, ts: 't12', meanSimilarity: 0.61, currentMeanSimilarity: 0.7, converged: true },
    ],
  },
  finals: [
    { seq: 20, ts: '2026-01-01T00:00:20.000Z', by: 'alice', dataset: 'syn', split: 'heldout', experimentId: 'x-1', title: EVIL, agentId: 'aar-1', transferAcc: 0.8, pgr: 0.42, transferAccCi: [0.75, 0.85], pgrCi: [0.3, 0.55], correct: 80, total: 100 },
  ],
};

describe('leaderboard webview in a browser: diversity and final results', function () {
  this.timeout(60_000);
  let browser: Browser | undefined;
  let page: Page;

  before(async function () {
    const opened = await openWebview('webview/leaderboard/main.ts');
    if (!opened) return this.skip();
    ({ browser, page } = opened);
    await notify(page, 'leaderboard/state', STATE);
    await page.waitForSelector('#diversity');
  });
  after(async () => {
    await browser?.close();
  });

  it('renders the diversity section with warning, pairs, flags (as text) and a sparkline', async () => {
    const r = await page.evaluate(() => ({
      warning: document.querySelector('#diversity-warning')?.textContent ?? null,
      mean: document.querySelector('#diversity-mean')?.textContent ?? '',
      pairs: [...document.querySelectorAll('#diversity-pairs tbody td')].map((td) => td.textContent),
      flags: [...document.querySelectorAll('#diversity-flags li')].map((li) => li.textContent),
      dots: document.querySelectorAll('#diversity-sparkline circle').length,
      polyline: document.querySelector('#diversity-sparkline polyline')?.getAttribute('points') ?? null,
      imgs: document.querySelectorAll('img').length,
    }));
    assert.match(r.warning ?? '', /converging/);
    assert.match(r.mean, /0\.610/);
    assert.deepEqual(r.pairs, [`aar-1 ↔ ${EVIL}`, '0.910']);
    assert.deepEqual(r.flags, [`near-duplicate work ${EVIL}`]);
    assert.equal(r.dots, 3);
    assert.ok(r.polyline && r.polyline.split(' ').length === 3);
    assert.equal(r.imgs, 0, 'agent-derived text never becomes elements');
  });

  it('lists final results with CIs and asks the host to run a final evaluation', async () => {
    const r = await page.evaluate(() => ({
      cells: [...document.querySelectorAll('#finals-table tbody td')].map((td) => td.textContent),
      imgs: document.querySelectorAll('img').length,
      pwned: (window as unknown as { pwned?: number }).pwned ?? 0,
    }));
    assert.ok(r.cells.includes(EVIL), 'the experiment title is shown as text');
    assert.ok(r.cells.includes('0.800 [0.750, 0.850]'));
    assert.ok(r.cells.includes('0.420 [0.300, 0.550]'));
    assert.equal(r.imgs, 0);
    assert.equal(r.pwned, 0);
    await page.click('#run-final');
    const sent = await page.waitForFunction(() =>
      (window as unknown as { sent: { t: string; method: string }[] }).sent.find((m) => m.t === 'req' && m.method === 'leaderboard/runFinalEvaluation'),
    );
    assert.ok(await sent.jsonValue());
  });
});
