// The episode webview in a real DOM (Chromium via playwright-core): the evidence of one agent episode on one
// page with agent-written text kept as text; keyboard first: the note field has the focus, Ctrl+Enter sends
// one resume request with the note, a decision without a note sends nothing; a resolved episode offers no
// decision. Skipped when Chromium is not installed.
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { notify, webviewSuite } from '../../support/webviewPage';
import type { Experiment } from '../../../src/core/model';
import type { EpisodeState } from '../../../src/shared/episodeProtocol';

const sha = (c: string) => c.repeat(40);
const evil = '<img src=x onerror="window.pwned=1">\u202e';
const held: Experiment = {
  id: 'exp-4', agentId: 'aar-2', title: `held ${evil}`, rationale: 'r', command: 'python train.py',
  resources: { gpus: 1, gpuHours: 1, timeLimitMinutes: 30 }, taskMode: 'normal', commit: sha('1'), tree: sha('a'),
  state: 'awaiting_review', proposedSeq: 9, proposedAt: '2026-12-01T10:00:00.000Z', history: [],
  screening: { gaming: false, score: 0, findings: [] }, risk: { level: 'medium', reasons: [] },
};
const state = (resolved = false): EpisodeState => ({
  human: 'alice',
  view: {
    episode: {
      id: 'ep-1', agentId: 'aar-2', trigger: 'gaming_veto', experimentId: 'exp-3', reason: `vetoed as gaming by alice: ${evil}`, openedSeq: 12, openedAt: '2026-12-01T10:05:00.000Z',
      evidence: [{ kind: 'opened', seq: 12, ts: '2026-12-01T10:05:00.000Z', text: 'x' }], released: [],
      ...(resolved ? { resolution: { action: 'resume' as const, by: 'alice', note: 'ok', seq: 20, ts: '2026-12-01T10:09:00.000Z', held: ['exp-4'] } } : {}),
    },
    agent: null, held: [held],
    vetoes: [{ experimentId: 'exp-3', title: `labels ${evil}`, reason: 'majority vote', by: 'alice', seq: 11, gaming: true }],
    alerts: [], openAlerts: 0,
    findings: [{ experimentId: 'exp-3', kind: 'majority_vote', severity: 'high', file: 'w2s/labels.py', line: 3, explanation: `combines labelers ${evil}` }],
    runs: [], earlier: [],
  },
});
type Sent = { method?: string; params?: { action?: string; note?: string } };
const resolveRequests = (page: Page) => page.evaluate(() => (window as unknown as { sent: Sent[] }).sent.filter((m) => m.method === 'episode/resolve'));

describe('episode webview in a browser', function () {
  this.timeout(60_000);
  let page: Page;
  const opened = webviewSuite('webview/episode/main.ts');
  beforeEach(() => {
    page = opened();
  });

  it('shows the evidence as text and focuses the note; Ctrl+Enter resumes with the note, never without one', async () => {
    await notify(page, 'episode/state', state());
    await page.locator('#episode-title').waitFor();
    assert.match(await page.locator('#episode-title').innerText(), /Episode ep-1: agent aar-2/);
    for (const sel of ['#held', '#vetoes', '#findings', '#episode-reason']) assert.ok((await page.locator(sel).innerText()).includes('<img src=x'), sel);
    assert.equal(await page.locator('img').count(), 0, 'agent text never becomes markup');
    assert.equal(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned), undefined);
    assert.doesNotMatch(await page.locator('#episode-reason').innerText(), /\u202e/, 'bidi controls are shown as markers');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'episode-note');
    await page.keyboard.press('Control+Enter');
    assert.equal((await resolveRequests(page)).length, 0, 'no note: nothing is sent');
    await page.keyboard.type('stop combining labelers');
    await page.keyboard.press('Control+Enter');
    const sent = await resolveRequests(page);
    assert.equal(sent.length, 1);
    assert.deepEqual(sent[0]!.params, { action: 'resume', note: 'stop combining labelers' });
  });

  it('a resolved episode shows who decided and offers no decision', async () => {
    await notify(page, 'episode/state', state(true));
    await page.locator('#episode-resolution').waitFor();
    assert.match(await page.locator('#episode-resolution').innerText(), /resumed by alice/);
    assert.equal(await page.locator('#decision').count(), 0);
  });
});
