// End-to-end: build the VSIX, install it into a fresh code-server, open a demo fleet in headless Chromium and
// act as a reviewer: sidebar, agent, diff, inline comment, review webview, approve (webview), veto with a
// reason (sidebar), forum/agent/leaderboard webviews; then check the hub's ledger changed accordingly.
// Screenshots of every step go to test-results/e2e/.
// usage: node --import=tsx test/e2e/e2e.ts        (env: KEEP=1 keeps temp dirs, E2E_VSIX=path skips packaging)
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT, checkTools, launchBrowser, startCodeServer } from '../../scripts/codeServer.mjs';
import { ledger, packageVsix, stopwatch, until, workbench } from './harness';
import { makeFleet } from './makeFleet';

const log = stopwatch();
const SHOTS = path.join(ROOT, 'test-results', 'e2e');
const HUMAN = 'e2e-reviewer';

async function main(): Promise<void> {
  checkTools();
  fs.rmSync(SHOTS, { recursive: true, force: true });
  fs.mkdirSync(SHOTS, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-e2e-'));
  const fleetDir = path.join(tmp, 'fleet');
  const demo = await makeFleet(fleetDir);
  log(`demo fleet ${fleetDir}: pending ${JSON.stringify(demo.pending)}`);

  const vsix = await packageVsix(path.join(tmp, 'overseer.vsix'));
  log(`VSIX ${vsix} (${(fs.statSync(vsix).size / 1024).toFixed(0)} KiB)`);

  const cs = await startCodeServer({
    vsix,
    keep: !!process.env.KEEP,
    settings: { 'overseer.fleetDir': fleetDir, 'overseer.humanName': HUMAN, 'workbench.editor.enablePreview': false },
    workspaceFiles: { 'README.md': '# reviewer workspace\n' },
  });
  log(`code-server up on ${cs.base} after ${cs.startedMs} ms`);
  const browser = await launchBrowser();
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  page.setDefaultTimeout(30_000);
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  const consoleLines: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') consoleLines.push(`[${m.type()}] ${m.text()}`.slice(0, 500));
  });
  const { shot, palette, webview, treeItem } = workbench(page, SHOTS, log);

  try {
    await page.goto(`${cs.base}/?folder=${encodeURIComponent(cs.ws)}`);
    await page.locator('.monaco-workbench').waitFor();
    const icon = page.locator('.part.activitybar a.action-label[aria-label^="Overseer"]');
    await icon.waitFor();
    log('workbench ready');

    // 1. Sidebar: queue with the proposals awaiting review.
    await icon.click();
    const benignRow = treeItem(/Confidence-weighted auxiliary loss/);
    const gamingRow = treeItem(/Calibrated pooling v2/);
    await benignRow.waitFor();
    await gamingRow.waitFor();
    await page.getByRole('treeitem', { name: /gaming suspected/ }).first().waitFor();
    await shot('sidebar-queue');

    // 2. Expand an agent in the Agents view.
    const agentsHeader = page.locator('.pane-header', { hasText: /^Agents/ }).first();
    if ((await agentsHeader.getAttribute('aria-expanded')) !== 'true') await agentsHeader.click();
    const aliceRow = treeItem(/Alice \(confidence loss\)/);
    await aliceRow.waitFor();
    await aliceRow.click();
    await page.keyboard.press('ArrowRight');
    await treeItem(/Direction:/).waitFor();
    await shot('agent-expanded');

    // 3. Open the diff of a proposal: expand it in the queue, click its changed file.
    await benignRow.locator('.monaco-tl-twistie').click();
    const fileRow = treeItem(/train\.py/);
    await fileRow.waitFor();
    await fileRow.click();
    const diff = page.locator('.monaco-diff-editor').first();
    await diff.waitFor();
    await diff.locator('.editor.modified .view-line', { hasText: 'AUX * conf * aux' }).first().waitFor();
    await shot('diff');

    // 4. Inline review comment on a changed line of the modified side.
    await diff.locator('.editor.modified .view-line', { hasText: 'AUX * conf * aux' }).first().click();
    await palette('Comments: Add Comment on Current Selection');
    const widget = page.locator('.review-widget').first();
    await widget.waitFor();
    const body = 'Please report the seed variance too (e2e comment).';
    await page.keyboard.type(body);
    await shot('inline-comment-typing');
    await page.keyboard.press('Control+Enter');
    await until('review.commented in the ledger', () => ledger(fleetDir).find((e) => e.type === 'review.commented' && e.data.body === body), 20_000);
    await page.locator('.review-widget .comment-body', { hasText: 'seed variance' }).first().waitFor();
    await shot('inline-comment');
    // The Comments panel opened with the comment; hide it (Ctrl+J toggles the panel) to keep later shots roomy.
    if (await page.locator('.part.panel').isVisible()) await page.keyboard.press('Control+J');

    // 5. Open the review webview of the gaming proposal (click in the queue).
    await gamingRow.click();
    const wv = webview();
    await wv.locator('#title', { hasText: 'Calibrated pooling v2' }).waitFor();
    await wv.locator('#screening', { hasText: 'label-access' }).waitFor();
    await shot('review-webview-gaming');
    // Agent text stayed text: no live links to command:/javascript:, no injected elements.
    await wv.locator('.q-item', { hasText: 'LR sweep' }).locator('button').click();
    await wv.locator('#title', { hasText: 'LR sweep' }).waitFor();
    const live = await wv.locator('#app a[href^="command:"], #app a[href^="javascript:"], #app img, #app script, #app [onerror]').evaluateAll((els) => els.map((e) => e.outerHTML));
    assert.deepEqual(live, [], 'hostile markup rendered live');
    const scripts = await wv.locator('script').evaluateAll((els) => els.map((e) => (e as HTMLScriptElement).src || e.outerHTML.slice(0, 120)));
    log(`scripts in the review webview document: ${JSON.stringify(scripts)}`);
    assert.match((await wv.locator('#title').innerText()) ?? '', /<img src=x onerror=alert\(1\)>/);
    assert.match(await wv.locator('#title').innerText(), /⟦RLO U\+202E⟧/);
    await shot('review-webview-hostile-text');

    // 6. Approve one experiment in the webview (keyboard: j/k to reach it, then the Approve button).
    await wv.locator('.q-item', { hasText: 'Confidence-weighted auxiliary loss' }).locator('button').click();
    await wv.locator('#title', { hasText: 'Confidence-weighted auxiliary loss' }).waitFor();
    await wv.locator('#budget').waitFor();
    await shot('review-webview-benign');
    await wv.locator('#approve').click();
    await until('experiment.approved in the ledger', () =>
      ledger(fleetDir).find((e) => e.type === 'experiment.approved' && e.data.experimentId === demo.pending.benign && e.actor.id === HUMAN),
    );
    await wv.locator('#notice', { hasText: `${demo.pending.benign}: approved` }).waitFor();
    // The panel moves on to the next proposal in the queue.
    await wv.locator('#title:not(:has-text("Confidence-weighted auxiliary loss"))').waitFor();
    await shot('review-webview-approved');

    // Keyboard triage: focus the webview and press j (next in the queue; k when the risk order put us last).
    const before = await wv.locator('#title').innerText();
    const items = wv.locator('.q-item');
    const n = await items.count();
    const last = n > 0 && (await items.nth(n - 1).getAttribute('class'))?.includes('current');
    const key = last ? 'k' : 'j';
    await wv.locator('h1#title').click();
    await page.keyboard.press(key);
    await wv.locator(`#title:not(:has-text(${JSON.stringify(before)}))`).waitFor();
    log(`keyboard ${key}: "${before}" -> "${await wv.locator('#title').innerText()}"`);

    // 7. Veto another experiment with a reason from the sidebar (inline action + input box).
    await gamingRow.hover();
    await gamingRow.locator('.actions a.action-label[aria-label^="Veto Experiment"]').click();
    const input = page.locator('.quick-input-widget input.input');
    await input.waitFor();
    const reason = 'Reads held-out labels in eval.py (screening: label-access).';
    await input.fill(reason);
    await shot('veto-reason');
    await page.keyboard.press('Enter');
    await until('experiment.vetoed in the ledger', () =>
      ledger(fleetDir).find((e) => e.type === 'experiment.vetoed' && e.data.experimentId === demo.pending.gaming && e.data.reason === reason && e.actor.id === HUMAN),
    );
    await treeItem(/Vetoed\s*1/).waitFor();
    // The open review webview follows the ledger live (SSE): it now shows the veto.
    await wv.locator('#state', { hasText: 'vetoed' }).waitFor();
    await shot('vetoed');

    // 8. Hub state, through the hub's own record: the ledger of the fleet (hash-chained, durable).
    const events = ledger(fleetDir);
    const approved = events.filter((e) => e.type === 'experiment.approved' && e.actor.kind === 'human' && e.actor.id === HUMAN);
    const vetoed = events.filter((e) => e.type === 'experiment.vetoed' && e.actor.id === HUMAN);
    assert.deepEqual(approved.map((e) => e.data.experimentId), [demo.pending.benign]);
    assert.deepEqual(vetoed.map((e) => e.data.experimentId), [demo.pending.gaming]);
    log(`ledger: ${events.length} events; approved ${approved.map((e) => e.data.experimentId)}; vetoed ${vetoed.map((e) => e.data.experimentId)}`);

    // 9. The other webviews.
    await palette('Overseer: Open Forum');
    await webview().locator('#threads').waitFor();
    await webview().locator('.thread', { hasText: 'Pooling hits PGR 0.93' }).locator('button').first().click();
    await webview().locator('#thread h2', { hasText: '<script>alert(1)</script>' }).waitFor();
    assert.equal(await webview().locator('#thread a[href^="command:"], #thread a[href^="javascript:"], #thread script').count(), 0);
    await webview().locator('#verdict-suspect').click();
    await until('forum.verdict suspect', () => ledger(fleetDir).find((e) => e.type === 'forum.verdict' && e.data.verdict === 'suspect' && e.actor.id === HUMAN));
    await webview().locator('.thread', { hasText: 'Pooling hits PGR 0.93' }).locator('.verdict-suspect').waitFor();
    await shot('forum');
    // An agent's link is not live: its target is shown, a click asks first naming the host, and "Open" hands it
    // to VS Code's own opener (which asks again about the external site); cancelled here.
    await webview().locator('.thread', { hasText: 'Aux weight 0.5 beats' }).locator('button').first().click();
    const paper = webview().locator('#thread .agent-text a', { hasText: 'the paper' });
    await paper.waitFor();
    assert.equal(await paper.getAttribute('href'), null);
    assert.match(await webview().locator('#thread .agent-text .link-target').innerText(), /→ https:\/\/arxiv\.org\/abs\/2312\.09390/);
    await paper.click();
    assert.equal(await webview().locator('#thread .link-confirm .link-host').innerText(), 'arxiv.org');
    await shot('forum-link-confirm');
    await page.context().route('https://arxiv.org/**', (r) => r.fulfill({ status: 200, body: 'ok' }));
    const opener = page.locator('.monaco-dialog-box', { hasText: 'arxiv.org' });
    const opened = Promise.any([
      opener.waitFor({ timeout: 15_000 }).then(() => 'VS Code asked'),
      page.context().waitForEvent('page', { timeout: 15_000 }).then(async (p) => {
        const url = p.url();
        await p.close();
        return `opened ${url}`;
      }),
    ]);
    await webview().locator('#thread .link-confirm .link-open').click();
    const how = await opened;
    log(`after "Open arxiv.org": ${how}`);
    assert.match(how, /VS Code asked|opened https:\/\/arxiv\.org\/abs\/2312\.09390/);
    if (how === 'VS Code asked') {
      await page.keyboard.press('Escape');
      await opener.waitFor({ state: 'hidden' });
    }

    await palette('Overseer: Open Leaderboard');
    await webview().locator('#leaderboard').waitFor();
    await webview().locator('#chart circle').first().waitFor();
    await webview().locator('#alerts', { hasText: 'carol' }).waitFor();
    await shot('leaderboard');

    await palette('Overseer: Open Agent');
    const pick = page.locator('.quick-input-list .monaco-list-row', { hasText: 'alice' }).first();
    await pick.waitFor();
    await pick.click();
    await webview().locator('#agent-name', { hasText: 'Alice' }).waitFor();
    await webview().locator('#commits li').first().waitFor();
    await shot('agent');

    assert.deepEqual(pageErrors.filter((m) => !/ResizeObserver/.test(m)), [], 'page errors');
    log('PASS');
  } catch (err) {
    await shot('FAILURE').catch(() => undefined);
    console.error(cs.log().slice(-3000));
    console.error(`browser console (last 40):\n${consoleLines.slice(-40).join('\n')}`);
    throw err;
  } finally {
    await browser.close().catch(() => undefined);
    cs.stop();
    if (!process.env.KEEP) fs.rmSync(tmp, { recursive: true, force: true });
    log('total');
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
