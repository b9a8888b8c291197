// The review page's queue list in Chromium with the real stylesheet: with more proposals than fit, the list
// scrolls and its last row can be brought fully into view above the fixed decision bar (issue 30: the last row
// was cut off at the bottom of the page). Skipped when Chromium is not installed.
import assert from 'node:assert/strict';
import { notify, webviewSuite } from '../../support/webviewPage';
import type { Experiment } from '../../../src/core/model';
import type { ReviewState } from '../../../src/shared/reviewProtocol';

const SHA = 'a'.repeat(40);
const TREE = 'b'.repeat(40);

function state(n: number, decided = false): ReviewState {
  const queue = Array.from({ length: n }, (_, i) => ({ id: `exp-${i + 1}`, title: `Proposal number ${i + 1}`, agentId: 'aar-1', gaming: false, gpuHours: 1, commit: SHA, tree: TREE }));
  const experiment = {
    id: 'exp-1', agentId: 'aar-1', title: 'Proposal number 1', rationale: 'r', command: 'python train.py',
    resources: { gpus: 1, gpuHours: 1, timeLimitMinutes: 60 }, taskMode: 'normal', commit: SHA, tree: TREE,
    state: decided ? 'changes_requested' : 'awaiting_review', proposedSeq: 1, proposedAt: '2026-11-25T10:00:00.000Z', history: [],
  } as unknown as Experiment;
  return { human: 'alice', experiment, files: [], diffs: [], comments: [], queue, warnings: [] };
}

describe('review webview in a browser: the queue list', function () {
  this.timeout(60_000);
  const page = webviewSuite('webview/review/main.ts', { css: true });

  const cases = [
    [1200, 700, false],
    [1000, 520, false],
    [760, 600, false],
    [1200, 700, true],
    [760, 420, true],
    [640, 600, false],
    [480, 700, true],
  ] as const;
  for (const [w, h, withNotice, decided] of [...cases.map(([a, b, c]) => [a, b, c, false] as const), [730, 500, true, true] as const, [740, 600, false, true] as const]) {
    it(`shows its last row above the decision bar when scrolled to the end (${w}×${h}${withNotice ? ', a notice shown' : ''}${decided ? ', decided' : ''})`, async () => {
      const p = page();
      await p.setViewportSize({ width: w, height: h });
      await notify(p, 'review/state', state(40, decided));
      if (withNotice) await notify(p, 'view/error', { message: 'The hub refused the decision: stale_review (the proposal moved on since it was shown); reload to see its pin.' });
      await p.locator('#queue .q-item').nth(39).waitFor();
      // Scroll the list, and the page, as far as they go.
      await p.evaluate(() => {
        const q = document.querySelector('.queue')!;
        q.scrollTop = q.scrollHeight;
        window.scrollTo(0, 0); // the short page of this proposal: at the top, as a reviewer first sees it
      });
      // the list is fitted to the decision bar once the bar has its final height (its elements render late): wait
      // for the fit rather than a fixed time, and fail with the measurements if it never comes
      await p
        .waitForFunction(() => {
          const bar = document.querySelector('.decision')!.getBoundingClientRect();
          const keys = document.querySelector('.queue .keys')!.getBoundingClientRect();
          return keys.bottom <= bar.top;
        }, undefined, { timeout: 5000 })
        .catch(() => undefined);
      const r = await p.evaluate(() => {
        const last = document.querySelectorAll('#queue .q-item')[39]!.getBoundingClientRect();
        const bar = document.querySelector('.decision')!.getBoundingClientRect();
        const keys = document.querySelector('.queue .keys')!.getBoundingClientRect();
        const nav = document.querySelector('.queue') as HTMLElement; const nr = nav.getBoundingClientRect();
        return { nav: [nr.top, nr.bottom, nav.style.maxHeight, window.scrollY, document.documentElement.scrollHeight], barH: bar.height, lastTop: last.top, lastBottom: last.bottom, barTop: bar.top, keysBottom: keys.bottom, vh: window.innerHeight };
      });
      assert.ok(r.lastTop >= 0, JSON.stringify(r));
      assert.ok(r.lastBottom <= r.barTop, `the last row ends at ${r.lastBottom}px, under the decision bar at ${r.barTop}px: ${JSON.stringify(r)}`);
      assert.ok(r.keysBottom <= r.barTop, `the list's key help ends at ${r.keysBottom}px, under the decision bar at ${r.barTop}px`);
    });
  }
});
