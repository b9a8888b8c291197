// The review webview's sweep mode in a real DOM (Chromium via playwright-core): the table of members with
// their varying values, risk badges and pins; "Approve sweep" sends one request with every open member at
// the pin shown, asks for confirmation above low risk (naming the members and why), and is refused when a
// member is critical or flagged for gaming. Skipped when Chromium is not installed.
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { notify, webviewSuite } from '../../support/webviewPage';
import type { Experiment } from '../../../src/core/model';
import type { RiskLevel } from '../../../src/core/risk';
import type { ReviewState, SweepMemberView } from '../../../src/shared/reviewProtocol';

const sha = (c: string) => c.repeat(40);
const base: Experiment = {
  id: 'exp-1', agentId: 'aar-1', title: 'Sweep lr', rationale: 'r', command: 'python train.py --lr 1e-5',
  resources: { gpus: 1, gpuHours: 1, timeLimitMinutes: 30 }, taskMode: 'normal', commit: sha('1'), tree: sha('a'),
  state: 'awaiting_review', proposedSeq: 3, proposedAt: '2026-11-25T10:00:00.000Z', history: [],
  screening: { gaming: false, score: 0, findings: [] },
  risk: { level: 'low', reasons: [{ level: 'low', text: 'new code: 1 line in 1 file' }] },
};
const member = (n: number, level: RiskLevel, extra: Partial<SweepMemberView> = {}): SweepMemberView => ({
  id: `exp-${n}`, title: `lr run ${n}`, agentId: 'aar-1', state: 'awaiting_review', commit: sha(String(n)), tree: sha('abcdef'[n]!), gaming: false,
  risk: { level, reasons: level === 'low' ? [{ level, text: 'values only' }] : [{ level, text: `${level} reason of ${n}` }, { level: 'low', text: 'minor' }] },
  values: [['1e-5', '3e-5', '1e-4', '3e-4'][n - 1]!], open: true, ...extra,
});
const state = (members: SweepMemberView[], id = 'exp-1'): ReviewState => ({
  human: 'alice', experiment: base, files: [], diffs: [], comments: [], warnings: [],
  queue: [{ id: base.id, title: base.title, agentId: base.agentId, gaming: false, gpuHours: 1, commit: base.commit, tree: base.tree, risk: 'low' }],
  sweep: { id, label: `lr ∈ {${members.map((m) => m.values[0]).join(', ')}} · ${members.length} experiments`, params: ['lr'], members, open: true },
});
type Sent = { id?: number; method?: string; params?: { decision?: string; sweepId?: string; members?: { experimentId: string; commit: string; tree: string }[] } };
/** Answer the webview's last sweep request as the host would (ok with a result, or an error). */
async function answer(page: Page, reply: { result: unknown } | { error: string }): Promise<void> {
  await page.evaluate((r) => {
    const req = (window as unknown as { sent: Sent[] }).sent.filter((m) => m.method === 'review/decideSweep').at(-1)!;
    window.postMessage('result' in r ? { t: 'res', id: req.id, ok: true, result: r.result } : { t: 'res', id: req.id, ok: false, error: { code: 'failed', message: r.error } }, '*');
  }, reply);
}
const sweepRequests = (page: Page) => page.evaluate(() => (window as unknown as { sent: Sent[] }).sent.filter((m) => m.method === 'review/decideSweep'));

describe('review webview in a browser: sweeps', function () {
  this.timeout(60_000);
  let page: Page;
  const opened = webviewSuite('webview/review/main.ts');
  beforeEach(() => {
    page = opened();
  });

  it('shows one row per member: id, its values, its risk badge, its commit; hostile values stay text', async () => {
    const evil = '<img src=x onerror="window.pwned=1">\u202e';
    await notify(page, 'review/state', state([member(1, 'low'), member(2, 'medium'), member(3, 'low', { values: [evil] })]));
    await page.waitForSelector('#sweep-table');
    const rows = await page.locator('#sweep-table tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => (td.textContent ?? '').trim())));
    assert.equal(rows.length, 3);
    assert.deepEqual(rows[0], ['exp-1', '1e-5', 'LOW', '111111111111', 'awaiting review']);
    assert.deepEqual(rows[1], ['exp-2', '3e-5', 'MED', '222222222222', 'awaiting review']);
    assert.match(rows[2]![1]!, /^<img src=x onerror="window\.pwned=1">⟦RLO U\+202E⟧/);
    assert.equal(await page.locator('#sweep-table img').count(), 0);
    assert.equal(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned), undefined);
    assert.equal(await page.locator('#sweep-approve').innerText(), 'Approve sweep (3)');
    // the representative's normal review is still there (risk reasons of the first member)
    assert.deepEqual(await page.locator('#risk-reasons li').allInnerTexts(), ['low new code: 1 line in 1 file']);
  });

  it('approving above low asks for confirmation naming the members and why, then sends every member at its own pin', async () => {
    await notify(page, 'review/state', state([member(1, 'low'), member(2, 'medium'), member(3, 'high')]));
    await page.locator('#sweep-approve', { hasText: 'Approve sweep (3)' }).waitFor();
    await page.locator('#sweep-approve').click();
    await page.waitForSelector('#sweep-confirm');
    assert.deepEqual(await page.locator('#sweep-confirm-members li').allInnerTexts(), ['exp-2 — medium: medium reason of 2', 'exp-3 — high: high reason of 3']);
    assert.match(await page.locator('#sweep-confirm').innerText(), /2 are above low risk \(highest: high\)/);
    assert.equal((await sweepRequests(page)).length, 0, 'nothing sent before the confirmation');
    await page.locator('#sweep-confirm-approve').click();
    await page.waitForFunction(() => (window as unknown as { sent: Sent[] }).sent.some((m) => m.method === 'review/decideSweep'));
    const [req] = await sweepRequests(page);
    assert.equal(req!.params!.decision, 'approve');
    assert.equal(req!.params!.sweepId, 'exp-1');
    assert.deepEqual(req!.params!.members, [1, 2, 3].map((n) => ({ experimentId: `exp-${n}`, commit: sha(String(n)), tree: sha('abcdef'[n]!) })));
    // a stale pin (409) comes back as an error the page shows; the buttons work again
    await answer(page, { error: 'The sweep changed since it was shown (exp-2 is already vetoed): reloaded, review it again.' });
    await page.locator('#notice', { hasText: 'The sweep changed since it was shown' }).waitFor();
    await page.waitForFunction(() => !document.getElementById('sweep-approve')?.hasAttribute('disabled'));
  });

  it('a low-risk sweep approves without a confirmation; decided members stay listed and are not sent', async () => {
    const before = (await sweepRequests(page)).length;
    await notify(page, 'review/state', state([member(1, 'low'), member(2, 'low'), member(4, 'low', { open: false, state: 'vetoed' }), member(3, 'low')], 'exp-7'));
    await page.locator('#sweep-approve', { hasText: 'Approve sweep (3)' }).waitFor();
    assert.match(await page.locator('#sweep-table tr[data-id="exp-4"]').innerText(), /vetoed \(not in the sweep now\)/);
    await page.locator('#sweep-approve').click();
    await page.waitForFunction((n) => (window as unknown as { sent: Sent[] }).sent.filter((m) => m.method === 'review/decideSweep').length > n, before);
    assert.equal(await page.locator('#sweep-confirm').count(), 0);
    const last = (await sweepRequests(page)).at(-1)!;
    assert.deepEqual(last.params!.members!.map((m) => m.experimentId), ['exp-1', 'exp-2', 'exp-3']);
    await answer(page, { result: { decided: ['exp-1', 'exp-2', 'exp-3'] } });
    await page.locator('#notice', { hasText: 'Sweep approved: exp-1, exp-2, exp-3 (each at its own commit)' }).waitFor();
    // the page reloaded after the decision: every member decided, the sweep keeps its name and says so
    const decided = state([member(1, 'low', { open: false, state: 'approved' }), member(2, 'low', { open: false, state: 'approved' })], 'exp-7');
    decided.sweep = { ...decided.sweep!, open: false };
    await notify(page, 'review/state', decided);
    await page.locator('#sweep-intro', { hasText: 'Every member of this sweep is decided' }).waitFor();
    assert.equal(await page.locator('#sweep-approve').getAttribute('disabled'), '');
    await page.getByText('Not an open sweep now: decide the members individually.').waitFor();
  });

  for (const [what, bad] of [
    ['a critical member', member(2, 'critical')],
    ['a member flagged for gaming', member(2, 'low', { gaming: true })],
  ] as const) {
    it(`cannot be approved as a sweep with ${what}: the page says why; the key a does not approve either`, async () => {
      const before = (await sweepRequests(page)).length;
      await notify(page, 'review/state', state([member(1, 'low'), bad, member(3, 'low')], `exp-${what.length}`));
      await page.waitForSelector('#sweep-refusal');
      const text = await page.locator('#sweep-refusal').innerText();
      assert.match(text, new RegExp(`exp-2 is ${bad.gaming ? 'flagged by screening for possible evaluation gaming' : 'critical risk'}`));
      assert.match(text, /Approve those individually/);
      assert.equal(await page.locator('#sweep-approve').getAttribute('disabled'), '');
      await page.locator('#sweep-approve').click({ force: true });
      await page.keyboard.press('a');
      await page.keyboard.press('a');
      await page.waitForTimeout(200);
      assert.equal((await sweepRequests(page)).length, before, 'no sweep decision sent');
      // a veto still works, with a reason
      await page.locator('#sweep-veto').click();
      await page.locator('#notice', { hasText: 'Type a reason' }).waitFor();
      assert.equal((await sweepRequests(page)).length, before);
    });
  }
});
