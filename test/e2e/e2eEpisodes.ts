// End-to-end, agent episodes in code-server: a fleet where one agent's gaming proposal was vetoed (so an episode
// holds its other proposals) is opened by a reviewer, who resumes the agent from the queue row with the keyboard
// only: focus the Queue view, the episode row is the first row, Enter opens the episode page, type the note,
// Ctrl+Enter resumes. The ledger must then hold the human's `episode.resolved` with that note, the held
// proposal must be back in Awaiting review, and the episode row gone. Screenshots in test-results/e2e-episodes/.
// usage: node --import=tsx test/e2e/e2eEpisodes.ts   (env: KEEP=1 keeps temp dirs, E2E_VSIX=path skips packaging)
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createFleet } from '../../src/hub/fleetSetup';
import { HubClient } from '../../src/hub/client';
import { startHub } from '../../src/hub/server';
import { Sandbox } from '../../src/git/sandbox';
import { majorityVoteFile } from '../../src/fleet/simulatedCode';
import { ROOT, checkTools, launchBrowser, startCodeServer } from '../../scripts/codeServer.mjs';
import { ledger, packageVsix, stopwatch, until, workbench } from './harness';

const log = stopwatch();
const SHOTS = path.join(ROOT, 'test-results', 'e2e-episodes');
const HUMAN = 'episode-reviewer';
const NOTE = 'Do not combine labelers again; report the weak teacher only.';

/** Two agents; aar-2's gaming proposal vetoed by a human: its episode holds aar-2's honest proposal. */
async function makeEpisodeFleet(dir: string): Promise<{ episodeId: string; heldId: string; honestId: string }> {
  await createFleet(dir, { name: 'episodes-e2e', agents: [{ id: 'aar-1', direction: 'label noise' }, { id: 'aar-2', direction: 'curriculum' }], files: { 'README.md': '# sandbox\n', 'train.py': 'print("train")\n' }, noSync: true, config: { maxOpenProposals: 10, episodes: true } });
  const hub = await startHub({ fleetDir: dir, noSync: true, onWarning: (m) => log(`hub: ${m}`) });
  try {
    const human = new HubClient(hub.url, hub.createToken({ kind: 'human', id: 'lead' }));
    const propose = async (agentId: string, files: Record<string, string>, title: string) => {
      const sb = new Sandbox(hub.service.state.agent(agentId)!.repoPath);
      const commit = await sb.commitFiles(files, title);
      const agent = new HubClient(hub.url, hub.createToken({ kind: 'agent', id: agentId }));
      const x = await agent.propose({ commit, command: 'python train.py', title, rationale: 'r', resources: { gpus: 1, gpuHours: 1, timeLimitMinutes: 30 }, taskMode: 'normal' });
      await hub.idle();
      return human.getExperiment(x.id);
    };
    const honest = await propose('aar-1', { 'notes.md': 'honest work\n' }, 'Honest baseline rerun');
    const held = await propose('aar-2', { 'notes.md': 'curriculum v1\n' }, 'Curriculum schedule v1');
    const gaming = await propose('aar-2', { 'w2s/labels.py': majorityVoteFile() }, 'Cleaner labels for the student');
    assert.ok(gaming.screening?.gaming, 'the majority-vote proposal is flagged by screening');
    await human.veto(gaming.id, { commit: gaming.commit, tree: gaming.tree, reason: 'majority vote over labelers' });
    await hub.idle();
    const ep = hub.service.state.episodes.openOf('aar-2');
    assert.ok(ep, 'the gaming veto opened an episode');
    assert.ok(hub.service.state.episodes.isHeld(hub.service.state.experiment(held.id)!), 'the other proposal is held');
    return { episodeId: ep.id, heldId: held.id, honestId: honest.id };
  } finally {
    await hub.close();
  }
}

async function main(): Promise<void> {
  checkTools();
  fs.rmSync(SHOTS, { recursive: true, force: true });
  fs.mkdirSync(SHOTS, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-e2e-episodes-'));
  const fleetDir = path.join(tmp, 'fleet');
  const vsixP = packageVsix(path.join(tmp, 'overseer.vsix'));
  vsixP.catch(() => undefined);
  const f = await makeEpisodeFleet(fleetDir);
  log(`fleet ${fleetDir}: episode ${f.episodeId} holds ${f.heldId}`);
  const vsix = await vsixP;
  const cs = await startCodeServer({ vsix, keep: !!process.env.KEEP, workspace: fleetDir, workspaceFiles: {}, settings: { 'overseer.humanName': HUMAN, 'workbench.editor.enablePreview': false } });
  log(`code-server up on ${cs.base} after ${cs.startedMs} ms`);
  const browser = await launchBrowser();
  const page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
  page.setDefaultTimeout(30_000);
  const wb = workbench(page, SHOTS, log);
  const { shot, palette, webview, treeItem } = wb;
  try {
    await page.goto(`${cs.base}/?folder=${encodeURIComponent(fleetDir)}`);
    await page.locator('.monaco-workbench').waitFor();
    const icon = page.locator('.part.activitybar a.action-label[aria-label^="Overseer"]');
    await icon.waitFor();
    await icon.click();
    // the episode is one row at the top of the queue; the held proposal is not under Awaiting review
    const epRow = treeItem(/Agent aar-2: gaming veto/);
    await epRow.waitFor({ timeout: 60_000 });
    assert.match(await epRow.innerText(), /1 held · one decision/);
    const awaiting = page.locator('.part.sidebar .monaco-list-row', { hasText: 'Curriculum schedule v1' });
    assert.equal(await awaiting.count(), 0, 'the held proposal is not listed under Awaiting review');
    await treeItem(/Honest baseline rerun/).waitFor();
    await shot('queue-episode-row');

    // keyboard only from here: focus the Queue view, first row, Enter
    await palette('Overseer: Focus on Queue View');
    await page.keyboard.press('Home');
    await page.waitForFunction(() => /Agent aar-2/.test(document.querySelector('.part.sidebar .monaco-list-row.focused')?.textContent ?? ''), undefined, { timeout: 10_000 });
    await page.keyboard.press('Enter');
    const wv = webview();
    await wv.locator('#episode-title').waitFor({ timeout: 60_000 });
    assert.match(await wv.locator('#episode-title').innerText(), new RegExp(`Episode ${f.episodeId}: agent aar-2`));
    assert.match(await wv.locator('#held').innerText(), /Curriculum schedule v1/);
    assert.match(await wv.locator('#vetoes').innerText(), /gaming/);
    await shot('episode-page');
    // the note field has the focus (the page focuses it); typing goes there
    const note = wv.locator('#episode-note');
    await note.waitFor();
    const focused = await note.evaluate((el) => el.ownerDocument.activeElement === el);
    if (!focused) {
      log('the note field did not hold the focus after the page opened; focusing it from the keyboard (Tab)');
      await wv.locator('body').press('Tab');
      await note.focus();
    }
    await page.keyboard.type(NOTE);
    await page.keyboard.press('Control+Enter');
    const resolved = await until('episode.resolved in the ledger', () => ledger(fleetDir).find((e) => e.type === 'episode.resolved'), 30_000);
    assert.deepEqual(resolved.actor, { kind: 'human', id: HUMAN });
    assert.equal(resolved.data.action, 'resume');
    assert.equal(resolved.data.note, NOTE);
    assert.equal(resolved.data.episodeId, f.episodeId);
    await wv.locator('#episode-resolution').waitFor();
    // the row is gone and the held proposal is back in Awaiting review
    await page.locator('.part.sidebar .monaco-list-row', { hasText: /Agent aar-2: gaming veto/ }).waitFor({ state: 'detached', timeout: 30_000 });
    await treeItem(/Curriculum schedule v1/).waitFor({ timeout: 30_000 });
    await shot('episode-resumed');
    log(`resumed aar-2 from the queue row with the keyboard: ${JSON.stringify(resolved.data)}`);
  } catch (err) {
    await shot('FAILURE').catch(() => undefined);
    console.error(cs.log().slice(-3000));
    throw err;
  } finally {
    await browser.close().catch(() => undefined);
    cs.stop();
    if (!process.env.KEEP) fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(
  () => {
    log('PASS');
    process.exit(0);
  },
  (err) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exit(1);
  },
);
