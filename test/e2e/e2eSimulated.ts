// End-to-end on the deterministic simulator's fleet: nine scripted agents (src/fleet/simulator.ts) make real
// sandbox commits, forum posts with self-reported metrics, proposals (some gaming the evaluation) and evaluation
// queries (one of them probing) against a hub; then a fresh code-server with the VSIX opens the fleet folder and
// a reviewer looks at it: Overseer sidebar (9 agents, the queue with gaming warnings), the review webview of a
// flagged proposal with its screening findings, the forum and the leaderboard (probing alert, diversity). Then the
// loop: the reviewer approves two honest proposals and one flagged gaming proposal (tests in a no-testing task);
// the extension's hub dispatches them to confined local runs of the demo's real weak-to-strong codebase; the
// honest runs rank verified on the leaderboard (PGR, CI over seeds), the gaming run's report shows what
// confinement stopped and its score is unverified with the reason. Prints approval → first verified score.
// Screenshots go to test-results/e2e-sim/; the README's docs/screenshots/demo-*.png are copies of four of them
// (UPDATE_SCREENSHOTS=1 refreshes them).
// usage: node --import=tsx test/e2e/e2eSimulated.ts   (env: KEEP=1 keeps temp dirs, E2E_VSIX=path skips packaging,
//        E2E_SIM_SEED / E2E_SIM_STEPS override the simulation)
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Experiment } from '../../src/core/model';
import { agentIdFor } from '../../src/fleet/directions';
import { startDiversityMonitor } from '../../src/fleet/diversityMonitor';
import { prepareSimulatedFleet, simulateFleet } from '../../src/fleet/simulator';
import { startHub } from '../../src/hub/server';
import { ROOT, checkTools, launchBrowser, startCodeServer } from '../../scripts/codeServer.mjs';
import { ledger, packageVsix, stopwatch, until, untilCount, workbench } from './harness';

const log = stopwatch();
const SHOTS = path.join(ROOT, 'test-results', 'e2e-sim');
const README_SHOTS = path.join(ROOT, 'docs', 'screenshots');
const HUMAN = 'sim-overseer';
const AGENTS = 9;
const SEED = Number(process.env.E2E_SIM_SEED ?? 7);
const STEPS = Number(process.env.E2E_SIM_STEPS ?? 3);

interface SimFleet {
  names: string[];
  awaiting: Experiment[];
  flagged: Experiment[];
  posts: { title: string; pgr?: number }[];
  probing: string[];
  diversity: number;
  gaming: Record<string, string>;
}

/**
 * Run the simulator against a hub started here, so that the hub can be drained (every proposal screened)
 * before it closes; the diversity monitor runs next to it as in the fleet runtime.
 */
async function simulate(fleetDir: string): Promise<SimFleet> {
  await prepareSimulatedFleet(fleetDir, { agents: AGENTS, seed: SEED, noSync: true });
  const hub = await startHub({ fleetDir, noSync: true, onWarning: (m) => log(`hub: ${m}`) });
  const monitor = startDiversityMonitor(hub.service, { everyDocs: AGENTS });
  try {
    const tokens: Record<string, string> = {};
    for (let i = 0; i < AGENTS; i++) tokens[agentIdFor(i)] = hub.createToken({ kind: 'agent', id: agentIdFor(i) });
    await hub.idle();
    const sim = await simulateFleet({ fleetDir, agents: AGENTS, seed: SEED, steps: STEPS, hub: { url: hub.url, tokens }, noSync: true });
    await hub.idle();
    await monitor.measure();
    await hub.idle();
    const st = hub.service.state;
    const awaiting = st.queue().find((g) => g.state === 'awaiting_review')?.experiments ?? [];
    const gamingAgents = Object.entries(sim.gaming).map(([a, k]) => `${a}=${k}`).join(', ');
    const digest = createHash('sha256').update(sim.normalized.join('\n')).digest('hex').slice(0, 16);
    log(`simulated seed ${SEED}: ${sim.rounds} rounds, ${sim.actions.length} actions (normalized digest ${digest}); gaming cast: ${gamingAgents}`);
    return {
      names: [...st.agents.values()].map((a) => a.name),
      awaiting,
      flagged: awaiting.filter((x) => x.screening?.gaming),
      posts: [...st.posts.values()].filter((p) => p.author.kind === 'agent').map((p) => ({ title: p.title, pgr: p.metrics.pgr })),
      probing: st.audit.filter((e) => e.type === 'eval.probing_suspected').map((e) => e.summary),
      diversity: st.diversityHistory.length,
      gaming: sim.gaming,
    };
  } finally {
    monitor.stop();
    await hub.close();
  }
}

async function main(): Promise<void> {
  checkTools();
  fs.rmSync(SHOTS, { recursive: true, force: true });
  fs.mkdirSync(SHOTS, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-e2e-sim-'));
  const fleetDir = path.join(tmp, 'fleet');
  // Package the VSIX while the agents work.
  const vsixP = packageVsix(path.join(tmp, 'overseer.vsix'));
  vsixP.catch(() => undefined);
  const fleet = await simulate(fleetDir);
  log(
    `fleet ${fleetDir}: ${fleet.names.length} agents, ${fleet.awaiting.length} awaiting review (${fleet.flagged.length} flagged: ` +
      `${fleet.flagged.map((x) => `${x.id} ${x.agentId}`).join(', ')}), ${fleet.posts.length} posts, probing alerts: ${fleet.probing.join('; ')}`,
  );
  // The scenario this phase demonstrates; a seed or simulator change that loses part of it should fail loudly here.
  assert.equal(fleet.names.length, AGENTS);
  assert.ok(fleet.awaiting.length >= 3, 'several proposals awaiting review');
  assert.ok(fleet.flagged.length >= 1, 'at least one proposal flagged as gaming');
  assert.ok(fleet.flagged.every((x) => (x.screening?.findings.length ?? 0) > 0), 'flagged proposals carry findings');
  assert.ok(fleet.posts.length >= AGENTS, 'forum posts');
  assert.ok(fleet.probing.length >= 1, 'a probing alert');
  const vsix = await vsixP;
  log(`VSIX ${vsix} (${(fs.statSync(vsix).size / 1024).toFixed(0)} KiB)`);

  // The reviewer opens the fleet folder itself (the extension finds ledger.jsonl there and embeds a hub).
  const cs = await startCodeServer({
    vsix,
    keep: !!process.env.KEEP,
    workspace: fleetDir,
    workspaceFiles: {},
    settings: { 'overseer.humanName': HUMAN, 'workbench.editor.enablePreview': false },
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
  const wb = workbench(page, SHOTS, log);
  const { shot, palette, webview, treeItem, paneHeader } = wb;
  const best: Record<string, string> = {};
  const pane = (title: string) => page.locator('.part.sidebar .pane', { has: page.locator('.pane-header', { hasText: new RegExp(`^${title}`) }) });
  const expand = async (title: string, open: boolean) => {
    const h = paneHeader(title);
    await h.waitFor();
    if (((await h.getAttribute('aria-expanded')) === 'true') !== open) await h.click();
  };

  try {
    await page.goto(`${cs.base}/?folder=${encodeURIComponent(fleetDir)}`);
    await page.locator('.monaco-workbench').waitFor();
    const icon = page.locator('.part.activitybar a.action-label[aria-label^="Overseer"]');
    await icon.waitFor();
    log('workbench ready');

    // 1. Overseer sidebar: the queue and all nine agents (forum view collapsed, sidebar widened for titles).
    await icon.click();
    await paneHeader('Queue').waitFor();
    const sidebar = await page.locator('.part.sidebar').boundingBox();
    if (sidebar) {
      const x = sidebar.x + sidebar.width;
      await page.mouse.move(x - 1, 450);
      await page.mouse.down();
      await page.mouse.move(x + 180, 450, { steps: 5 });
      await page.mouse.up();
    }
    await expand('Forum', false);
    await expand('Agents', true);
    // Give the queue the room the agents do not need: drag the sash above the Agents view down.
    const agentsTop = await paneHeader('Agents').boundingBox();
    if (agentsTop) {
      const want = 120 + 22 * (fleet.awaiting.length + 2); // sidebar title + queue header + group row + rows
      const x = agentsTop.x + agentsTop.width / 2;
      await page.mouse.move(x, agentsTop.y - 1);
      await page.mouse.down();
      await page.mouse.move(x, Math.max(agentsTop.y, want), { steps: 5 });
      await page.mouse.up();
    }
    await treeItem(new RegExp(`Awaiting review\\s*${fleet.awaiting.length}\\b`)).waitFor();
    const agents = pane('Agents').locator('.monaco-list-row');
    for (const name of fleet.names) await agents.filter({ hasText: name }).first().waitFor();
    assert.equal(await agents.count(), AGENTS, 'the Agents view lists every agent');
    // Every flagged proposal is in the queue with the gaming warning (in its row text and accessible name).
    const queueRows = pane('Queue').locator('.monaco-list-row');
    for (const x of fleet.flagged) {
      const row = queueRows.filter({ hasText: x.title }).first();
      await row.scrollIntoViewIfNeeded();
      await row.waitFor();
      assert.match(await row.innerText(), /gaming suspected/, `${x.id} shows the gaming warning`);
      assert.match((await row.getAttribute('aria-label')) ?? '', /gaming suspected/);
    }
    // Benign proposals do not carry it.
    const benign = fleet.awaiting.find((x) => !x.screening?.gaming);
    if (benign) assert.doesNotMatch(await queueRows.filter({ hasText: benign.title }).first().innerText(), /gaming suspected/);
    await page.mouse.move(1300, 850); // no hover tooltips in the shot
    await shot('sidebar-agents-queue');
    const side = (await page.locator('.part.sidebar').boundingBox())!;
    best.sidebar = await shot('sidebar-only', { x: 0, y: 0, width: Math.round(side.x + side.width), height: 900 });

    // 2. Review webview of a flagged proposal: screening findings listed.
    const flagged = [...fleet.flagged].sort((a, b) => (b.screening?.findings.length ?? 0) - (a.screening?.findings.length ?? 0))[0]!;
    await queueRows.filter({ hasText: flagged.title }).first().click();
    const wv = webview();
    await wv.locator('#title', { hasText: flagged.title }).waitFor();
    await wv.locator('#gaming').waitFor();
    const findings = wv.locator('#screening li.finding');
    await findings.first().waitFor();
    assert.equal(await findings.count(), flagged.screening!.findings.length, 'every screening finding is listed');
    const screeningText = await wv.locator('#screening').innerText();
    for (const f of flagged.screening!.findings) assert.ok(screeningText.includes(f.kind), `finding ${f.kind} shown`);
    assert.match(screeningText, /flagged as possible evaluation gaming/);
    for (const x of fleet.flagged) log(`flagged ${x.id} ${x.agentId} "${x.title}": ${x.screening!.findings.map((f) => `${f.severity} ${f.kind} ${f.file}:${f.line}`).join(', ')}`);
    await shot('review-flagged');
    // Scroll the webview to its screening findings.
    await wv.locator('#screening').evaluate((el) => (el.closest('section') ?? el).scrollIntoView({ block: 'start' }));
    best.review = await shot('review-flagged-findings', { x: Math.round(side.x + side.width), y: 0, width: 1440 - Math.round(side.x + side.width), height: 900 });

    // 3. Forum: every agent post; open the one with the highest self-reported PGR.
    await palette('Overseer: Open Forum');
    const forum = webview();
    await forum.locator('#threads').waitFor();
    await forum.locator('.toolbar', { hasText: `${fleet.posts.length} findings` }).waitFor();
    const top = [...fleet.posts].filter((p) => p.pgr !== undefined).sort((a, b) => b.pgr! - a.pgr!)[0] ?? fleet.posts[0]!;
    const thread = forum.locator('.thread', { hasText: top.title }).first();
    await thread.locator('button').first().click();
    await forum.locator('#thread h2', { hasText: top.title }).waitFor();
    if (top.pgr !== undefined) await forum.locator('#thread', { hasText: /self-reported/ }).waitFor();
    best.forum = await shot('forum');

    // 4. Leaderboard: nine agents, the probing alert, the diversity measurement.
    await palette('Overseer: Open Leaderboard');
    const lb = webview();
    await lb.locator('#leaderboard').waitFor();
    await untilCount('leaderboard rows', () => lb.locator('#leaderboard tbody tr').count(), AGENTS);
    const probed = fleet.probing.map((s) => /^probing suspected (\S+?)(?::|$|\s)/.exec(s)?.[1]).filter(Boolean) as string[];
    for (const a of probed) await lb.locator('#alerts', { hasText: a }).waitFor();
    await lb.locator('#leaderboard', { hasText: /probing alert/ }).waitFor();
    if (fleet.diversity && (await lb.locator('#diversity').count())) await lb.locator('#diversity-mean').waitFor();
    await shot('leaderboard');
    // Without the sidebar, scrolled to the agents table and the diversity of ideas.
    await palette('View: Toggle Primary Side Bar Visibility');
    await page.locator('.part.sidebar').waitFor({ state: 'hidden' });
    best.leaderboard = await shot('leaderboard-wide');
    await lb.locator('#leaderboard').evaluate((el) => (el.closest('section') ?? el).scrollIntoView({ block: 'start' }));
    await shot('leaderboard-table');
    if (await lb.locator('#diversity').count()) {
      await lb.locator('#diversity').scrollIntoViewIfNeeded();
      best.leaderboard = await shot('leaderboard-diversity');
    }

    assert.deepEqual(pageErrors.filter((m) => !/ResizeObserver/.test(m)), [], 'page errors');
    // Looking changed nothing: no human decided anything.
    assert.deepEqual(ledger(fleetDir).filter((e) => e.actor.kind === 'human' && e.type.startsWith('experiment.')), []);

    // 5. The loop. Approve two honest proposals and the flagged no-testing one in the review webview; the hub
    //    dispatches each to a confined local run of the demo codebase, which scores through its job token.
    const honest = fleet.awaiting.filter((x) => !x.screening?.gaming && !fleet.gaming[x.agentId] && /train\.py --data \S+ --config /.test(x.command)).slice(0, 2);
    const gamingX = fleet.flagged.find((x) => fleet.gaming[x.agentId] === 'no_testing');
    assert.equal(honest.length, 2, 'two honest proposals of the demo codebase awaiting review');
    assert.ok(gamingX, 'the no-testing gaming proposal is awaiting review, flagged');
    const openReview = async (id: string) => {
      await palette('Overseer: Open Review');
      const input = page.locator('.quick-input-widget input.input');
      await input.waitFor();
      await input.fill(id);
      await page.locator('.quick-input-list .monaco-list-row', { hasText: id }).first().waitFor();
      await page.keyboard.press('Enter');
    };
    const rv = webview();
    let approvedAt = 0;
    for (const x of [...honest, gamingX]) {
      await openReview(x.id);
      await rv.locator('#title', { hasText: x.title }).waitFor();
      await rv.locator('#approve:not([disabled])').click();
      await until(`${x.id} approved`, () => ledger(fleetDir).find((e) => e.type === 'experiment.approved' && e.data.experimentId === x.id && e.actor.id === HUMAN));
      if (!approvedAt) approvedAt = Date.now();
      log(`approved ${x.id} ${x.agentId} "${x.title}"`);
    }
    // The leaderboard fills: each honest agent's row turns verified.
    await palette('Overseer: Open Leaderboard');
    const lb2 = webview();
    await lb2.locator('#leaderboard').waitFor();
    let firstVerified = 0;
    for (const x of honest) {
      await lb2.locator(`#leaderboard tr[data-agent="${x.agentId}"]`, { hasText: /✓ 1 verified/ }).waitFor({ timeout: 60_000 });
      if (!firstVerified) firstVerified = Date.now();
    }
    log(`approval → first verified score on the leaderboard: ${((firstVerified - approvedAt) / 1000).toFixed(1)} s (target < 30 s)`);
    for (const x of honest) {
      const sc = await until(`${x.id} scored`, () => ledger(fleetDir).find((e) => e.type === 'experiment.scored' && e.data.experimentId === x.id), 60_000);
      const d = sc.data as { pgr: number; extra?: { pgrCi?: [number, number]; numSeeds?: number } };
      assert.ok(Array.isArray(d.extra?.pgrCi), `${x.id}: a PGR CI over seeds`);
      assert.ok((d.extra?.numSeeds ?? 0) >= 3, `${x.id}: seeds`);
      const row = await lb2.locator(`#leaderboard tr[data-agent="${x.agentId}"]`).innerText();
      log(`verified ${x.id} ${x.agentId}: PGR ${d.pgr} [${d.extra!.pgrCi!.join(', ')}] over ${d.extra!.numSeeds} seeds; leaderboard row: ${row.replace(/\s+/g, ' ')}`);
    }
    await shot('leaderboard-verified');
    // The gaming run: its report names what confinement stopped, and its score (if any) is not verified.
    const rep = await until('the gaming run report', () => ledger(fleetDir).find((e) => e.type === 'run.report' && e.data.experimentId === gamingX.id), 60_000);
    const rd = rep.data as { violations: number; summary: string };
    assert.ok(rd.violations > 0, `gaming run report: ${rd.summary}`);
    log(`gaming run ${gamingX.id}: ${rd.summary}`);
    const gRow = lb2.locator(`#leaderboard tr[data-agent="${gamingX.agentId}"]`);
    await gRow.filter({ hasText: /unverified/ }).waitFor({ timeout: 30_000 });
    await gRow.locator('td.num button.link').first().click();
    const rv2 = webview();
    await rv2.locator('#title', { hasText: gamingX.title }).waitFor();
    await rv2.locator('#run-report', { hasText: /violation/ }).waitFor();
    await rv2.locator('#run', { hasText: /unverified: run report/ }).waitFor();
    await rv2.locator('#run-report').evaluate((el) => el.scrollIntoView({ block: 'center' }));
    best.run = await shot('review-gaming-run-report');
    assert.deepEqual(pageErrors.filter((m) => !/ResizeObserver/.test(m)), [], 'page errors');

    const kept: string[] = [];
    for (const [name, src] of Object.entries(best)) {
      const kb = fs.statSync(src).size / 1024;
      const dst = path.join(SHOTS, `demo-${name}.png`);
      fs.copyFileSync(src, dst);
      if (process.env.UPDATE_SCREENSHOTS) fs.copyFileSync(src, path.join(README_SHOTS, `demo-${name}.png`));
      kept.push(`demo-${name}.png ${kb.toFixed(0)} KiB`);
    }
    log(`README candidates${process.env.UPDATE_SCREENSHOTS ? ' (copied to docs/screenshots)' : ''}: ${kept.join(', ')}`);
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
