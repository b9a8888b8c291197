// The review webview in a real DOM (Chromium via playwright-core): risk level and reasons in words, the queue
// in risk order with badges, and the one-key approve that asks twice above low risk and never works on
// critical. Skipped when Chromium is not installed.
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { notify, webviewSuite } from '../../support/webviewPage';
import type { Experiment } from '../../../src/core/model';
import type { ReviewState } from '../../../src/shared/reviewProtocol';

const SHA = 'a'.repeat(40);
const base: Experiment = {
  id: 'exp-1', agentId: 'aar-1', title: 'Sweep lr', rationale: 'r', command: 'python train.py --lr 1e-4',
  resources: { gpus: 1, gpuHours: 1, timeLimitMinutes: 30 }, taskMode: 'normal', commit: SHA, tree: SHA,
  state: 'awaiting_review', proposedSeq: 3, proposedAt: '2026-11-25T10:00:00.000Z', history: [],
  screening: { gaming: false, score: 0, findings: [] },
};
const withRisk = (level: 'low' | 'medium' | 'critical', id = base.id): Experiment => ({
  ...base, id,
  risk: { level, reasons: level === 'low' ? [{ level, text: 'new code (no approved commit of this agent before): 4 lines in 1 file' }] : [{ level, text: `${level === 'critical' ? '1 critical finding: label-read' : 'adds network (1 site)'}` }, { level: 'low', text: 'agent has 1 vetoed proposal' }] },
});
const state = (e: Experiment): ReviewState => ({ human: 'alice', experiment: e, files: [], diffs: [], comments: [], queue: [{ id: e.id, title: e.title, agentId: e.agentId, gaming: false, gpuHours: 1, commit: SHA, tree: SHA, risk: e.risk?.level }], warnings: [] });
const decides = (page: Page) => page.evaluate(() => (window as unknown as { sent: { method?: string }[] }).sent.filter((m) => m.method === 'review/decide').length);

describe('review webview in a browser: risk', function () {
  this.timeout(60_000);
  let page: Page;
  const opened = webviewSuite('webview/review/main.ts');
  beforeEach(() => {
    page = opened();
  });

  it('shows the level and the reasons in words, most severe first, and the badge in the queue', async () => {
    await notify(page, 'review/state', state(withRisk('medium')));
    await page.waitForSelector('#risk-reasons');
    assert.equal(await page.locator('#risk').innerText(), 'medium risk');
    const items = await page.locator('#risk-reasons li').allInnerTexts();
    assert.deepEqual(items, ['medium adds network (1 site)', 'low agent has 1 vetoed proposal']);
    assert.equal(await page.locator('#queue .q-risk').innerText(), 'MED');
  });

  it('a: above low asks for a second a; low approves at once; critical never by one key', async () => {
    await notify(page, 'review/state', state(withRisk('medium', 'exp-m')));
    await page.locator('#risk', { hasText: 'medium' }).waitFor();
    await page.keyboard.press('a');
    await page.locator('#notice', { hasText: 'press a again' }).waitFor();
    assert.equal(await decides(page), 0);
    await page.keyboard.press('a');
    await page.waitForFunction(() => (window as unknown as { sent: { method?: string }[] }).sent.some((m) => m.method === 'review/decide'));
    assert.equal(await decides(page), 1);

    await notify(page, 'review/state', state(withRisk('critical', 'exp-c')));
    await page.locator('#risk', { hasText: 'critical' }).waitFor();
    await page.keyboard.press('a');
    await page.keyboard.press('a');
    await page.locator('#notice', { hasText: 'one-key approve is not available' }).waitFor();
    assert.equal(await decides(page), 1, 'no decision on critical');
  });
});

// a fresh page: the tests above leave decisions unanswered (the page stays busy)
describe('review webview in a browser: batch approval by risk', function () {
  this.timeout(60_000);
  let page: Page;
  const opened = webviewSuite('webview/review/main.ts');
  beforeEach(() => {
    page = opened();
  });

  it('Approve selected asks for a second press when some of the selection is medium risk; all low approves at once', async () => {
    const batches = () => page.evaluate(() => (window as unknown as { sent: { method?: string }[] }).sent.filter((m) => m.method === 'review/batchApprove').length);
    const q = (id: string, risk: 'low' | 'medium') => ({ id, title: `t ${id}`, agentId: 'aar-1', gaming: false, gpuHours: 1, commit: SHA, tree: SHA, risk });
    const st = { ...state(withRisk('low', 'exp-l1')), queue: [q('exp-l1', 'low'), q('exp-m1', 'medium'), q('exp-l2', 'low')] };
    await notify(page, 'review/state', st);
    await page.locator('#queue .q-item', { hasText: 'exp-m1' }).first().waitFor().catch(() => undefined);
    for (const i of [0, 1]) await page.locator('#queue .q-check').nth(i).check();
    const before = await batches();
    await page.locator('#batch-approve').click();
    await page.locator('#notice', { hasText: '1 of the selected is medium risk (exp-m1): press Approve selected again' }).waitFor();
    assert.equal(await batches(), before, 'nothing sent on the first press');
    await page.locator('#batch-approve').click();
    await page.waitForFunction((n) => (window as unknown as { sent: { method?: string }[] }).sent.filter((m) => m.method === 'review/batchApprove').length > n, before);
    // the host answers (as the panel host would): both approved
    await page.evaluate(() => {
      const req = (window as unknown as { sent: { id?: number; method?: string }[] }).sent.filter((m) => m.method === 'review/batchApprove').at(-1)!;
      window.postMessage({ t: 'res', id: req.id, ok: true, result: { results: [{ experimentId: 'exp-l1', ok: true }, { experimentId: 'exp-m1', ok: true }] } }, '*');
    });
    await page.locator('#notice', { hasText: 'Approved 2 experiments' }).waitFor();
    // a selection of low risk only approves on the first press
    await notify(page, 'review/state', { ...st, queue: [q('exp-l3', 'low'), q('exp-l4', 'low')] });
    await page.locator('#queue .q-check').nth(1).waitFor();
    for (const i of [0, 1]) await page.locator('#queue .q-check').nth(i).check();
    const mid = await batches();
    await page.locator('#batch-approve').click();
    await page.waitForFunction((n) => (window as unknown as { sent: { method?: string }[] }).sent.filter((m) => m.method === 'review/batchApprove').length > n, mid);
  });
});
