// End-to-end: build the VSIX, install it into a fresh code-server, open a demo fleet in headless Chromium and
// act as a reviewer: sidebar, agent, diff, inline comment, review webview, approve (webview), veto with a
// reason (sidebar), forum/agent/leaderboard webviews; then check the hub's ledger changed accordingly. Then
// attention at fleet scale: a sweep of three lr proposals is one Queue row, its review page lists the members,
// "Approve sweep (3)" approves each at its own commit; the reviewer loads the approval policy from fleet.json,
// a small low-risk proposal arrives through the hub's HTTP API and is approved by the policy, sampled into the
// Policy view's audit queue, and the reviewer confirms it there. Then two of alice's branches that share commits are
// expanded in the Agents view, and a run log with a hidden terminal hyperlink (OSC 8) is shown in the Output.
// Screenshots of every step go to test-results/e2e/; UPDATE_SCREENSHOTS=1 also copies the sweep review and the
// Policy view to docs/screenshots/ (sweep-review.png, policy.png) for the README.
// usage: node --import=tsx test/e2e/e2e.ts        (env: KEEP=1 keeps temp dirs, E2E_VSIX=path skips packaging)
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT, checkTools, launchBrowser, startCodeServer } from '../../scripts/codeServer.mjs';
import { DEMO_POLICY } from '../../src/core/policy';
import { Sandbox } from '../../src/git/sandbox';
import { TokenStore } from '../../src/hub/auth';
import { HubClient } from '../../src/hub/client';
import { runningHub } from '../../src/hub/server';
import { ledger, packageVsix, stopwatch, until, untilCount, workbench } from './harness';
import { makeFleet } from './makeFleet';
import type { Locator } from 'playwright-core';

const log = stopwatch();
const SHOTS = path.join(ROOT, 'test-results', 'e2e');
const README_SHOTS = path.join(ROOT, 'docs', 'screenshots');
const HUMAN = 'e2e-reviewer';

/** Poll an asynchronous check (page state, a click that may be needed) until it gives a value. */
async function untilAsync<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function main(): Promise<void> {
  checkTools();
  fs.rmSync(SHOTS, { recursive: true, force: true });
  fs.mkdirSync(SHOTS, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-e2e-'));
  const fleetDir = path.join(tmp, 'fleet');
  const demo = await makeFleet(fleetDir);
  log(`demo fleet ${fleetDir}: pending ${JSON.stringify(demo.pending)}, sweep ${demo.sweep.ids.join(', ')}`);
  // An agent token for alice, made before the hub starts (as `overseer token create` would): the policy step
  // proposes through the hub's HTTP API as that agent.
  const aliceToken = new TokenStore(fleetDir).create({ kind: 'agent', id: 'alice' }).token;

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
  const { shot, palette, webview, treeItem, paneHeader } = workbench(page, SHOTS, log);
  const pane = (title: string) => page.locator('.part.sidebar .pane', { has: page.locator('.pane-header', { hasText: new RegExp(`^${title}`) }) });
  const expand = async (title: string, open: boolean) => {
    const h = paneHeader(title);
    await h.waitFor();
    if (((await h.getAttribute('aria-expanded')) === 'true') !== open) await h.click();
    await untilAsync(`${title} view ${open ? 'expanded' : 'collapsed'}`, async () => (await h.getAttribute('aria-expanded')) === String(open));
  };
  const readme: Record<string, string> = {};
  /** Click a tree row until `done` shows: a tree that re-renders (a reload after a ledger event) between the
   * press and the release of the mouse swallows the click; each retry is logged. */
  const clickUntil = async (what: string, row: Locator, done: Locator, opts: { button?: 'right' } = {}) => {
    for (let i = 1; ; i++) {
      await row.click(opts);
      try {
        await done.waitFor({ timeout: 5_000 });
        return;
      } catch (err) {
        if (i === 3) throw err;
        log(`${what}: not there after click ${i}, clicking again`);
        await shot(`retry-click-${i}`);
      }
    }
  };

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
    // The queue list's last row can be scrolled fully into view above the fixed decision bar (issue 30).
    const fit = await wv.locator('nav.queue').evaluate((nav) => {
      nav.scrollTop = nav.scrollHeight;
      const rows = nav.querySelectorAll('.q-item');
      const last = rows[rows.length - 1]!.getBoundingClientRect();
      const bar = document.querySelector('.decision')!.getBoundingClientRect();
      return { rows: rows.length, lastBottom: Math.round(last.bottom), barTop: Math.round(bar.top) };
    });
    log(`review queue: ${fit.rows} rows, the last ends at ${fit.lastBottom}px, the decision bar starts at ${fit.barTop}px`);
    assert.ok(fit.lastBottom <= fit.barTop, `the queue's last row is under the decision bar: ${JSON.stringify(fit)}`);

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

    // Keyboard triage: focus the webview and press k (previous in the queue: in risk order the flagged proposal
    // just above, which the veto below then shows live; j when we are first).
    const before = await wv.locator('#title').innerText();
    const items = wv.locator('.q-item');
    const classes = await items.evaluateAll((els) => els.map((e) => e.className));
    const cur = classes.findIndex((c) => c.split(/\s+/).includes('current'));
    assert.ok(cur >= 0 && classes.length > 1, `the webview's queue marks the current proposal (${classes.length} items)`);
    const key = cur === 0 ? 'j' : 'k';
    const neighbour = (await items.nth(key === 'k' ? cur - 1 : cur + 1).innerText()).replace(/\s+/g, ' ');
    await wv.locator('h1#title').click();
    await page.keyboard.press(key);
    await wv.locator(`#title:not(:has-text(${JSON.stringify(before)}))`).waitFor();
    const after = await wv.locator('#title').innerText();
    log(`keyboard ${key}: "${before}" -> "${after}"`);
    assert.ok(neighbour.includes(after.trim()), `${key} moved to the neighbouring proposal ("${neighbour}")`);

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

    // The agent picker can close before it is clicked (a webview that reloads takes the focus): ask again.
    const pick = page.locator('.quick-input-list .monaco-list-row', { hasText: 'alice' }).first();
    for (let i = 1; ; i++) {
      await palette('Overseer: Open Agent');
      try {
        await pick.waitFor({ timeout: 10_000 });
        await pick.click({ timeout: 10_000 });
        break;
      } catch (err) {
        if (i === 3) throw err;
        log(`the agent picker closed before its row was clicked (try ${i}), again`);
        await page.keyboard.press('Escape');
      }
    }
    await webview().locator('#agent-name', { hasText: 'Alice' }).waitFor();
    await webview().locator('#commits li').first().waitFor();
    await shot('agent');

    // 10. Sweep: alice's three lr proposals are ONE row of the Queue, labelled with the varying value.
    //     (Toasts cleared, Agents and Forum collapsed and the sidebar widened so the labels fit the shots.)
    const toasts = page.locator('.notifications-toasts .notification-toast');
    const clearToasts = async () => {
      if (!(await toasts.count())) return;
      await palette('Notifications: Clear All Notifications');
      await untilCount('toasts cleared', () => toasts.count(), 0);
    };
    await clearToasts();
    await expand('Agents', false);
    await expand('Forum', false);
    const side = await page.locator('.part.sidebar').boundingBox();
    if (side) {
      const x = side.x + side.width;
      await page.mouse.move(x - 1, 450);
      await page.mouse.down();
      await page.mouse.move(x + 140, 450, { steps: 5 });
      await page.mouse.up();
    }
    const queueRows = pane('Queue').locator('.monaco-list-row');
    const sweepRow = queueRows.filter({ hasText: demo.sweep.label });
    await sweepRow.first().waitFor();
    assert.equal(await sweepRow.count(), 1, 'one Queue row for the sweep');
    assert.match((await sweepRow.innerText()).replace(/\s+/g, ' '), /LOW risk · alice/);
    // its members are not rows of their own (the sweep row is collapsed)
    assert.equal(await queueRows.filter({ hasText: /Confidence loss at learning rate/ }).count(), 0, 'sweep members folded into the sweep row');
    await page.mouse.move(1300, 850); // no hover tooltips in the shot
    await shot('queue-sweep-row');
    // Clicking it opens the sweep review page: the representative member's review and the member table.
    const sv = webview();
    await clickUntil('the sweep review page', sweepRow, sv.locator('#sec-sweep', { hasText: `Sweep: ${demo.sweep.label}` }));
    await untilCount('sweep table rows', () => sv.locator('#sweep-table tbody tr.sweep-member').count(), demo.sweep.ids.length);
    const table = await sv.locator('#sweep-table tbody tr.sweep-member').evaluateAll((rows) =>
      rows.map((r) => ({
        id: (r as HTMLElement).dataset.id,
        cells: [...r.querySelectorAll('td')].map((td) => (td.textContent ?? '').trim()),
        values: [...r.querySelectorAll('td.sweep-value')].map((td) => (td.textContent ?? '').trim()),
      })),
    );
    log(`sweep table: ${JSON.stringify(table)}`);
    assert.deepEqual(await sv.locator('#sweep-table thead th').allInnerTexts().then((t) => t.map((h) => h.trim())), ['Experiment', 'lr', 'Risk', 'Commit', 'State']);
    assert.deepEqual(table.map((r) => r.id), demo.sweep.ids);
    assert.deepEqual(table.map((r) => r.cells[0]), demo.sweep.ids);
    assert.deepEqual(table.map((r) => r.values), demo.sweep.lrs.map((v) => [v]));
    assert.deepEqual(table.map((r) => r.cells[3]), demo.sweep.commits.map((c) => c.slice(0, 12)));
    assert.deepEqual(table.map((r) => r.cells[4]), demo.sweep.ids.map(() => 'awaiting review'));
    await sv.locator('#title', { hasText: 'Confidence loss at learning rate 1e-5' }).waitFor();
    const approveSweep = sv.locator('#sweep-approve');
    assert.equal((await approveSweep.innerText()).trim(), `Approve sweep (${demo.sweep.ids.length})`);
    await clearToasts();
    await page.mouse.move(1300, 850);
    readme['sweep-review'] = await shot('sweep-review');
    // "Approve sweep (3)": above low risk the page asks first (its confirmation box); each member is approved
    // at the commit shown in its row, by the reviewer.
    await approveSweep.click();
    const sweepApprovals = () => {
      const es = ledger(fleetDir).filter((e) => e.type === 'experiment.approved' && demo.sweep.ids.includes(e.data.experimentId as string));
      return es.length === demo.sweep.ids.length ? es : undefined;
    };
    await untilAsync('the sweep approved (or its confirmation asked)', async () => {
      const confirmBtn = sv.locator('#sweep-confirm-approve');
      if (!sweepApprovals() && (await confirmBtn.isVisible().catch(() => false))) {
        log('the sweep page asked to confirm (members above low risk)');
        await shot('sweep-confirm');
        await confirmBtn.click();
      }
      return sweepApprovals();
    }, 30_000);
    const sweepEvents = sweepApprovals()!;
    for (const [i, id] of demo.sweep.ids.entries()) {
      const evs = sweepEvents.filter((e) => e.data.experimentId === id);
      assert.equal(evs.length, 1, `${id}: one experiment.approved`);
      assert.deepEqual(evs[0]!.actor, { kind: 'human', id: HUMAN }, `${id} approved by the reviewer`);
      assert.equal(evs[0]!.data.commit, demo.sweep.commits[i], `${id} approved at its own commit`);
      assert.equal(evs[0]!.data.policy, undefined, `${id}: a human approval, not the policy's`);
    }
    log(`sweep approved: ${sweepEvents.map((e) => `#${e.seq} ${e.data.experimentId}@${String(e.data.commit).slice(0, 10)}`).join(', ')}`);
    // The page says so and its table shows the decisions; the sweep row leaves the Queue.
    await sv.locator('#notice', { hasText: `Sweep approved: ${demo.sweep.ids.join(', ')}` }).waitFor();
    await untilCount('members approved in the table', () => sv.locator('#sweep-table tbody tr.sweep-member', { hasText: 'approved' }).count(), demo.sweep.ids.length);
    await untilCount('sweep row gone from the Queue', () => queueRows.filter({ hasText: demo.sweep.label }).count(), 0);
    // Every member decided: the reloaded page does not ask to "decide the remaining members individually".
    assert.equal(await sv.locator('#sweep-note').count(), 0, 'no stale-sweep note once every member is decided');
    assert.equal(await sv.locator('#notice.error').count(), 0, 'no error notice after the sweep approval');
    await shot('sweep-approved');

    // 11. Approval policy: off until the reviewer loads fleet.json's (the demo policy, every automatic approval
    //     sampled for audit) from the command palette, confirming the modal.
    await expand('Policy', true);
    const policyPane = pane('Policy');
    const policyRow = (text: RegExp) => policyPane.locator('.monaco-list-row', { hasText: text }).first();
    await policyRow(/Approval policy: off/).waitFor();
    await palette('Overseer: Load Approval Policy from fleet.json');
    const modal = page.locator('.monaco-dialog-box', { hasText: 'Set the approval policy from fleet.json' });
    await modal.waitFor();
    assert.match(await modal.innerText(), /low-risk-small/);
    assert.match(await modal.innerText(), /100%/);
    await shot('policy-load-confirm');
    await modal.locator('.monaco-button', { hasText: 'Set Policy' }).click();
    await modal.waitFor({ state: 'hidden' });
    const set = await until('policy.set in the ledger', () => ledger(fleetDir).find((e) => e.type === 'policy.set'));
    assert.deepEqual(set.actor, { kind: 'human', id: HUMAN });
    assert.deepEqual(set.data.rules, DEMO_POLICY.rules);
    assert.equal(set.data.auditShare, 1);
    const version = set.data.version as number;
    await policyRow(new RegExp(`Approval policy v${version}(?!\\d)`)).waitFor();
    await policyRow(/Audit queue \(0\)/).waitFor();
    // The proposals still waiting are above the rule's limits (GPU-hours, risk): setting the policy approved none.
    await new Promise((r) => setTimeout(r, 1000));
    assert.deepEqual(ledger(fleetDir).filter((e) => e.type === 'experiment.approved' && e.data.policy), [], 'loading the policy approved nothing');

    // A small low-risk proposal arrives through the hub's HTTP API as alice (a value-only re-run of her
    // approved sweep commit, 1 GPU-hour): the policy approves it and samples it into the audit queue.
    const hubLock = runningHub(fleetDir);
    assert.ok(hubLock, 'the extension runs an embedded hub on the fleet (hub.json)');
    const sb = new Sandbox(path.join(fleetDir, 'repos', 'alice'));
    const lastLr = demo.sweep.commits[demo.sweep.commits.length - 1]!;
    await sb.g.raw(['checkout', '-q', '-B', 'exp/lr-rerun', lastLr]);
    const rerunCommit = await sb.commitFiles({ 'config.yaml': (await sb.fileAt(lastLr, 'config.yaml'))!.toString('utf8').replace(/^lr: .*$/m, 'lr: 2e-4') }, 'confidence loss at lr 2e-4', 'alice');
    const agent = new HubClient(hubLock.url, aliceToken);
    const rerun = await agent.propose({
      title: 'Confidence loss at learning rate 2e-4 (re-run)',
      rationale: 'The sweep peaked at its largest lr: one more point above it.',
      command: 'python train.py --config config.yaml --lr 2e-4',
      resources: { gpus: 1, gpuHours: 1, timeLimitMinutes: 120 },
      taskMode: 'normal',
      commit: rerunCommit,
      branch: 'exp/lr-rerun',
    });
    log(`proposed ${rerun.id} as alice through ${hubLock.url.replace(/:\d+$/, ':<port>')}`);
    const auto = await until(`${rerun.id} approved by the policy`, () =>
      ledger(fleetDir).find((e) => e.type === 'experiment.approved' && e.data.experimentId === rerun.id),
    );
    assert.deepEqual(auto.data.policy, { rule: 'low-risk-small', version, setBy: HUMAN, sampled: true });
    assert.equal(auto.data.commit, rerunCommit);
    log(`${rerun.id} approved by rule low-risk-small of policy v${version} (ledger #${auto.seq}), sampled for audit`);
    // The Policy view: the policy and its version, the audit queue with the sampled approval, the last hour.
    await policyRow(/Audit queue \(1\)/).waitFor();
    await policyRow(/Approved by policy in the last hour \(1\)/).waitFor();
    const auditRow = policyRow(/Confidence loss at learning rate 2e-4/);
    await auditRow.waitFor();
    assert.match((await auditRow.innerText()).replace(/\s+/g, ' '), new RegExp(`${rerun.id} · alice · low-risk-small v${version}`));
    assert.match(await policyRow(new RegExp(`Approval policy v${version}(?!\\d)`)).innerText(), new RegExp(`set by ${HUMAN}.*100% audited`));
    // The policy's node lists its rule with the CEL expression (expanded here for the shot).
    const ruleRow = policyRow(/risk == "low" && gpu_hours <= 1\.0 && agent\.open_alerts == 0/);
    if (!(await ruleRow.isVisible())) await clickUntil("the policy's rules", policyRow(new RegExp(`Approval policy v${version}(?!\\d)`)).locator('.monaco-tl-twistie'), ruleRow);
    assert.match((await ruleRow.innerText()).replace(/\s+/g, ' '), /^low-risk-small/);
    // The audit row opens the proposal's review; the last hour lists the approval too, its audit pending.
    const av = webview();
    await clickUntil('the review of the audited approval', auditRow, av.locator('#title', { hasText: 'Confidence loss at learning rate 2e-4 (re-run)' }));
    await av.locator('#state', { hasText: 'approved' }).waitFor();
    const pendingRow = policyPane.locator('.monaco-list-row', { hasText: /audit pending/ });
    await clickUntil('the last hour expanded', policyRow(/Approved by policy in the last hour \(1\)/).locator('.monaco-tl-twistie'), pendingRow.first());
    assert.equal(await pendingRow.count(), 1, 'the last hour lists the approval, its audit pending');
    await av.locator('#notice').waitFor({ state: 'hidden', timeout: 15_000 }); // the sweep page's last notice fades
    // For the shot: the Queue collapsed, the sidebar wider, so the Policy view's descriptions fit.
    await expand('Queue', false);
    const side2 = await page.locator('.part.sidebar').boundingBox();
    if (side2) {
      const x = side2.x + side2.width;
      await page.mouse.move(x - 1, 450);
      await page.mouse.down();
      await page.mouse.move(x + 120, 450, { steps: 5 });
      await page.mouse.up();
    }
    await clearToasts();
    await auditRow.click(); // focus back on the audited row (its review is the one open)
    await av.locator('#title', { hasText: 'Confidence loss at learning rate 2e-4 (re-run)' }).waitFor();
    await page.mouse.move(1300, 850);
    readme.policy = await shot('policy-view');
    // Confirm it from the row's context menu.
    const confirmItem = page.getByRole('menuitem', { name: /Confirm Automatic Approval/ });
    await clickUntil("the audit row's context menu", auditRow, confirmItem, { button: 'right' });
    await shot('policy-audit-menu');
    await confirmItem.click();
    const confirmed = await until('audit.confirmed in the ledger', () => ledger(fleetDir).find((e) => e.type === 'audit.confirmed' && e.data.experimentId === rerun.id));
    assert.deepEqual(confirmed.actor, { kind: 'human', id: HUMAN });
    await policyRow(/Audit queue \(0\)/).waitFor();
    await shot('policy-audit-confirmed');

    // 12. Agents: alice's branches exp/1 and exp/2 both fork from main and share its baseline commit; both expand
    //     and the shared commit can be opened under each (issue 30: tree ids were per commit, and the second
    //     expansion failed with "Element with id commit:… is already registered").
    await expand('Policy', false);
    await expand('Agents', true);
    const agentsPane = pane('Agents');
    const agentRow = (text: RegExp) => agentsPane.locator('.monaco-list-row', { hasText: text });
    const repoRow = agentRow(/Sandbox repository/).first();
    if (!(await repoRow.isVisible())) await clickUntil("alice's node", agentRow(/Alice \(confidence loss\)/).first().locator('.monaco-tl-twistie'), repoRow);
    // a branch row by its label alone: the row's text runs the label into its commit description ("exp/2" + "44bf…")
    const branchRow = (name: string) => agentsPane.locator('.monaco-list-row').filter({ has: page.locator('.label-name', { hasText: new RegExp(`^${name.replace('/', '\\/')}$`) }) }).first();
    const br1 = branchRow('exp/1');
    const br2 = branchRow('exp/2');
    await clickUntil("alice's branches", repoRow.locator('.monaco-tl-twistie'), br1);
    const baseline = agentRow(/baseline: cross-entropy on weak labels/);
    await clickUntil('exp/1 expanded', br1.locator('.monaco-tl-twistie'), agentRow(/config: aux weight 0\.25/).first());
    await clickUntil('exp/2 expanded', br2.locator('.monaco-tl-twistie'), agentsPane.locator('.monaco-list-row').filter({ has: page.locator('.label-name', { hasText: /^config: aux weight 0\.5$/ }) }).first());
    await untilCount('the shared baseline commit under both branches', () => baseline.count(), 2);
    await clickUntil('the shared commit opened under exp/2', baseline.nth(1).locator('.monaco-tl-twistie'), agentRow(/train\.py/).first());
    const registered = await page.locator('.notifications-toasts, .notifications-center', { hasText: /already registered/ }).count();
    assert.equal(registered, 0, 'no "already registered" error');
    await page.mouse.move(1300, 850);
    await shot('agents-shared-commits');

    // 13. A run log holding a hidden terminal hyperlink (OSC 8), a title change and a CR rewrite: the Output
    //     shows the link's visible URL with a marker naming the hidden target's host (never itself a link), and
    //     the other sequences as markers.
    await expand('Agents', false);
    await expand('Queue', true);
    const queuePane = pane('Queue');
    const scoredGroup = queuePane.locator('.monaco-list-row', { hasText: /^Scored/ }).first();
    const runRow = queuePane.locator('.monaco-list-row', { hasText: /Sweep: aux weight 0\.25/ }).first();
    if (!(await runRow.isVisible())) await clickUntil('the Scored group', scoredGroup.locator('.monaco-tl-twistie'), runRow);
    const showLog = page.getByRole('menuitem', { name: /Show Run Log/ });
    await clickUntil("the scored run's context menu", runRow, showLog, { button: 'right' });
    await showLog.click();
    // a context menu item can take the click as a hover (the menu stays open): then choose it with the keyboard
    await page.waitForTimeout(500);
    if (await showLog.isVisible().catch(() => false)) {
      log('the context menu stayed open after the click: choosing Show Run Log with Enter');
      await showLog.hover();
      await page.keyboard.press('Enter');
    }
    const output = page.locator('.part.panel .view-lines');
    const marker = `⟦link → ${demo.runLog.hiddenHost}⟧${demo.runLog.visible}⟦/link⟧`;
    const outText = async () => ((await output.first().innerText().catch(() => '')) ?? '').replace(/\u00a0/g, ' ');
    const shownLog = await untilAsync('the run log with the link marker', async () => {
      const t = await outText();
      return t.includes(marker) ? t : undefined;
    });
    log(`run log of ${demo.runLog.experimentId}:\n${shownLog}`);
    assert.match(shownLog, /⟦title: All checks passed⟧epoch 1\/3/);
    assert.match(shownLog, /progress 10%⟦CR⟧\s*\n\s*progress 100%/);
    assert.match(shownLog, /PASSED eval on sciq\/test/);
    assert.ok(!shownLog.includes(`${demo.runLog.hiddenHost}/`), 'the hidden target is never shown as a URL');
    assert.ok(!/\[32m|\]8;;/.test(shownLog), 'no escape parameters');
    const links = await page.locator('.part.panel .detected-link').allInnerTexts();
    log(`links detected in the Output: ${JSON.stringify(links)}`);
    assert.deepEqual(links.filter((l) => l.includes('evil')), [], 'no link to the hidden host');
    await page.mouse.move(1300, 300);
    await shot('run-log-hidden-link');

    const kept: string[] = [];
    for (const [name, src] of Object.entries(readme)) {
      const kb = fs.statSync(src).size / 1024;
      if (process.env.UPDATE_SCREENSHOTS) fs.copyFileSync(src, path.join(README_SHOTS, `${name}.png`));
      kept.push(`${name}.png ${kb.toFixed(0)} KiB`);
    }
    log(`README shots${process.env.UPDATE_SCREENSHOTS ? ' (copied to docs/screenshots)' : ''}: ${kept.join(', ')}`);

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
