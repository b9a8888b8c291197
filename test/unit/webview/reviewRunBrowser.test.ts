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

describe('review webview in a browser: a result awaiting acceptance', function () {
  this.timeout(60_000);
  let browser: Browser | undefined;
  let page: Page;
  type Sent = { id?: number; method?: string; params?: { experimentId?: string; reason?: string; falseAlarms?: { kind: string; file: string; line: number; why: string }[] } };
  const flagged: Experiment = {
    ...experiment,
    id: 'exp-11',
    screening: {
      gaming: true,
      score: 0.9,
      findings: [
        { kind: 'label-read', severity: 'critical', file: `tools/${EVIL}.py`, line: 4, explanation: 'reads test labels', confidence: 0.9, source: 'static' },
        { kind: 'capability', severity: 'low', file: 'job.js', line: 2, explanation: 'Adds network: fetch', confidence: 1, source: 'static' },
      ],
    },
    acceptanceRequired: ['screening flagged evaluation gaming'],
    verification: { status: 'awaiting_acceptance', reasons: ['needs a human to accept the result: screening flagged evaluation gaming'] },
    score: { ...experiment.score!, verified: false, status: 'awaiting_acceptance' },
  };
  const sent = () => page.evaluate(() => (window as unknown as { sent: Sent[] }).sent.filter((m) => m.method === 'review/acceptResult'));

  before(async function () {
    const opened = await openWebview('webview/review/main.ts');
    if (!opened) return this.skip();
    ({ browser, page } = opened);
    await notify(page, 'review/state', { ...STATE, experiment: flagged });
    await page.waitForSelector('#acceptance');
  });
  after(async () => {
    await browser?.close();
  });

  it("says the result awaits acceptance and why, and that the hub's baselines are what counts", async () => {
    const text = await page.locator('#run').innerText();
    assert.match(text, /awaiting acceptance: needs a human to accept the result: screening flagged evaluation gaming/);
    assert.match(text, /Awaiting your acceptance/);
    assert.match(text, /hub's fixed weak and strong baselines .* change nothing that is verified/);
    // one checkbox per finding worth judging (capabilities are not), finding text as text
    assert.equal(await page.locator('#acceptance input.false-alarm').count(), 1);
    assert.equal(await page.locator('#acceptance img').count(), 0);
  });

  it('refuses to accept without a reason; sends the reason and the findings marked as false alarms', async () => {
    await page.locator('#accept-result').click();
    await page.locator('text=Say what you checked').waitFor();
    assert.equal((await sent()).length, 0);
    await page.locator('#accept-reason').click();
    await page.keyboard.type('the labels file is never opened by the command');
    await page.locator('#acceptance input.false-alarm').check();
    await page.locator('#accept-result').click();
    await page.waitForFunction(() => (window as unknown as { sent: Sent[] }).sent.some((m) => m.method === 'review/acceptResult'));
    const [req] = await sent();
    assert.equal(req!.params!.experimentId, 'exp-11');
    assert.equal(req!.params!.reason, 'the labels file is never opened by the command');
    assert.deepEqual(req!.params!.falseAlarms, [{ kind: 'label-read', file: `tools/${EVIL}.py`, line: 4, why: 'the labels file is never opened by the command' }]);
  });

  it('a verified result shows no acceptance form', async () => {
    await notify(page, 'review/state', { ...STATE, experiment: { ...experiment, id: 'exp-12', verification: { status: 'verified', reasons: [] } } });
    await page.locator('#run', { hasText: 'Result' }).waitFor();
    assert.equal(await page.locator('#acceptance').count(), 0);
    assert.match(await page.locator('#run').innerText(), /Result\s+verified/);
  });
});
