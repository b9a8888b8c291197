// The review webview in a real DOM (Debian's Chromium via playwright-core): a finished run shows where and how
// it ran, its exit, its verified score and the job's results.json — all job-written text as text only.
// Skipped when Chromium is not installed.
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { notify, openWebview } from '../../support/webviewPage';
import type { Experiment } from '../../../src/core/model';
import type { ReviewState } from '../../../src/shared/reviewProtocol';

const EVIL = '<img src=x onerror="window.pwned=1">';
const SHA = 'a'.repeat(40);
const TREE = 'b'.repeat(40);

const experiment: Experiment = {
  id: 'exp-7',
  agentId: 'aar-1',
  title: 'Confidence-weighted loss',
  rationale: 'r',
  command: 'python train.py',
  resources: { gpus: 1, gpuHours: 2, timeLimitMinutes: 60 },
  taskMode: 'normal',
  commit: SHA,
  tree: TREE,
  state: 'scored',
  proposedSeq: 3,
  proposedAt: '2026-11-25T10:00:00.000Z',
  run: {
    runner: 'cluster',
    jobId: '4242',
    commit: SHA,
    tree: TREE,
    dispatchedAt: '2026-11-25T10:05:00.000Z',
    startedAt: '2026-11-25T10:05:02.000Z',
    endedAt: '2026-11-25T10:07:02.000Z',
    exitCode: 0,
    endState: 'succeeded',
    artifacts: { accuracy: 0.812, note: EVIL },
  },
  score: { dataset: 'syn', split: 'test', transferAcc: 0.812, pgr: 0.44, verified: true, evalSeq: 57 },
  history: [],
};

const STATE: ReviewState = { human: 'alice', experiment, files: [], diffs: [], comments: [], queue: [], warnings: [] };

describe('review webview in a browser: run and results', function () {
  this.timeout(60_000);
  let browser: Browser | undefined;
  let page: Page;

  before(async function () {
    const opened = await openWebview('webview/review/main.ts');
    if (!opened) return this.skip();
    ({ browser, page } = opened);
    await notify(page, 'review/state', STATE);
    await page.waitForSelector('#run');
  });
  after(async () => {
    await browser?.close();
  });

  it('shows the runner, the approved pin, the exit, the duration and the verified score', async () => {
    const text = await page.locator('#run').innerText();
    assert.match(text, /cluster · job 4242/);
    assert.match(text, new RegExp(`${SHA.slice(0, 12)} \\(tree ${TREE.slice(0, 12)}\\)`));
    assert.match(text, /succeeded \(exit 0\)/);
    assert.match(text, /120\.0 s/);
    assert.match(text, /transfer_acc 0\.812 · PGR 0\.440 on syn\/test/);
    assert.match(text, /verified: evaluation call #57/);
  });

  it('a run that scored several seeds shows its mean with the 95% intervals over seeds', async () => {
    const score = { ...experiment.score!, numSeeds: 5, pgrCi: [0.31, 0.53], transferAccCi: [0.79, 0.83] };
    await notify(page, 'review/state', { ...STATE, experiment: { ...experiment, id: 'exp-9', score } });
    await page.locator('#run', { hasText: 'mean of 5 seeds' }).waitFor();
    const text = await page.locator('#run').innerText();
    assert.match(text, /transfer_acc 0\.812 \[0\.790, 0\.830\] · PGR 0\.440 \[0\.310, 0\.530\] on syn\/test · mean of 5 seeds, 95% CI over seeds/);
    await notify(page, 'review/state', STATE);
    await page.locator('#run', { hasText: 'verified: evaluation call #57' }).waitFor();
    assert.doesNotMatch(await page.locator('#run').innerText(), /mean of/);
  });

  it('renders results.json written by the job as text, never as markup', async () => {
    await page.locator('#run summary').click();
    const pre = await page.locator('#run pre').innerText();
    assert.ok(pre.includes(EVIL.replace(/"/g, '\\"')), pre);
    assert.equal(await page.locator('#run img').count(), 0);
    assert.equal(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned), undefined);
  });
});

describe('review webview in a browser: the run report', function () {
  this.timeout(60_000);
  let browser: Browser | undefined;
  let page: Page;
  const reported: Experiment = {
    ...experiment,
    id: 'exp-8',
    run: {
      ...experiment.run!,
      report: {
        seq: 60,
        jobId: '4242',
        sandbox: 'bwrap',
        violations: 2,
        summary: '2 violation(s): path_denied, proxy_denied',
        report: {
          items: [
            { kind: 'proxy_denied', detail: 'GET /api/fleet', source: 'host', blocked: true, violation: true, count: 1 },
            { kind: 'path_denied', detail: `path outside the sandbox: /fleet/labels/${EVIL}`, source: 'audit', blocked: false, violation: true, count: 3 },
            { kind: 'ctypes', detail: 'dlopen libc.so.6', source: 'audit', blocked: false, violation: false, count: 1 },
          ],
        },
      },
    },
    score: { ...experiment.score!, verified: false, unverifiedReason: 'run report: 2 violation(s): path_denied, proxy_denied' },
  };

  before(async function () {
    const opened = await openWebview('webview/review/main.ts');
    if (!opened) return this.skip();
    ({ browser, page } = opened);
    await notify(page, 'review/state', { ...STATE, experiment: reported });
    await page.waitForSelector('#run-report');
  });
  after(async () => {
    await browser?.close();
  });

  it('names every violation with its source, says why the score is unverified, and shows the sandbox', async () => {
    const text = await page.locator('#run').innerText();
    assert.match(text, /Run report: 2 violation\(s\)/);
    assert.match(text, /violation \[host\] proxy_denied \(blocked\): GET \/api\/fleet/);
    assert.match(text, /violation \[audit\] path_denied: path outside the sandbox: \/fleet\/labels\/.* ×3/);
    assert.match(text, /note \[audit\] ctypes: dlopen libc\.so\.6/);
    assert.match(text, /unverified: run report: 2 violation\(s\)/);
    assert.match(text, /bubblewrap: worktree read-only/);
    assert.equal(await page.locator('#run-report li.violation').count(), 2);
  });

  it('renders report details (agent-influenced text) as text only', async () => {
    assert.equal(await page.locator('#run-report img').count(), 0);
    assert.equal(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned), undefined);
  });
});
