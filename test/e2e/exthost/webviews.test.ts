// Webview hosts inside a real extension host (run by scripts/exthost-tests.mjs): commands, panels, CSP
// options, state loaded through the hub once the webview said `ready`.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { makeFleet, type DemoFleet } from '../makeFleet';
import type { ReviewState } from '../../../src/shared/reviewProtocol';

interface PanelLike {
  panel: vscode.WebviewPanel;
  ready: boolean;
  lastState?: unknown;
}
interface ConnLike {
  status: { state: string; fleetDir?: string };
}

async function until<T>(what: string, fn: () => T | undefined | false, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function tabLabels(): string[] {
  return vscode.window.tabGroups.all.flatMap((g) => g.tabs.map((t) => t.label));
}

describe('Overseer webviews (extension host)', function () {
  this.timeout(120_000);
  let demo: DemoFleet;
  let tmp: string;

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-wv-'));
    demo = await makeFleet(path.join(tmp, 'fleet'));
    const ext = vscode.extensions.getExtension<{ conn: ConnLike }>('overseer-dev.overseer');
    assert.ok(ext, 'extension not installed');
    const api = await ext.activate();
    await vscode.workspace.getConfiguration('overseer').update('fleetDir', demo.dir, vscode.ConfigurationTarget.Global);
    await until('connection to the demo fleet', () => api.conn.status.state === 'connected' && api.conn.status.fleetDir === demo.dir);
  });
  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.workspace.getConfiguration('overseer').update('fleetDir', undefined, vscode.ConfigurationTarget.Global);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('registers the four webview commands', async () => {
    const cmds = await vscode.commands.getCommands(true);
    for (const c of ['overseer.openReview', 'overseer.openForum', 'overseer.openAgent', 'overseer.openLeaderboard']) assert.ok(cmds.includes(c), c);
  });

  it('openReview shows the experiment, locked down, with state from the hub', async () => {
    const p = (await vscode.commands.executeCommand('overseer.openReview', demo.pending.gaming)) as PanelLike | undefined;
    await until('review tab', () => tabLabels().includes(`Review ${demo.pending.gaming}`));
    assert.ok(p?.panel, 'openReview returns its panel');
    const opts = p.panel.webview.options;
    assert.equal(opts.enableScripts, true);
    assert.equal(opts.enableCommandUris, false);
    assert.equal(opts.localResourceRoots?.length, 2);
    const html = p.panel.webview.html.replace(/&#39;/g, "'");
    assert.match(html, /default-src 'none'/);
    assert.doesNotMatch(html, /unsafe-inline|unsafe-eval/);
    const s = await until('review state pushed after ready', () => p.lastState as ReviewState | undefined);
    assert.equal(s.experiment.id, demo.pending.gaming);
    assert.ok(s.experiment.screening?.gaming, 'screening flagged gaming');
    assert.ok(s.files.some((f) => f.path === 'eval.py'));
    assert.ok(s.diffs.some((d) => d.file === 'eval.py' && d.patch.includes('test_labels.npy')));
    // The queue walks in risk order, then age: the flagged proposals before the benign ones.
    const byAge = [demo.pending.benign, demo.pending.second, demo.pending.gaming, demo.pending.hostile, ...demo.sweep.ids];
    const rank: Record<string, number> = { critical: 0, high: 1, medium: 2, low: 3 };
    assert.deepEqual(new Set(s.queue.map((q) => q.id)), new Set(byAge));
    assert.ok(s.queue.every((q) => q.risk !== undefined), 'every queue entry carries its risk');
    const expected = [...s.queue].sort((a, b) => rank[a.risk!]! - rank[b.risk!]! || byAge.indexOf(a.id) - byAge.indexOf(b.id)).map((q) => q.id);
    assert.deepEqual(s.queue.map((q) => q.id), expected);
    assert.ok(expected.indexOf(demo.pending.gaming) < expected.indexOf(demo.pending.benign), 'the flagged proposal comes before the benign one');
    // The same panel is reused for another experiment (j/k triage, queue clicks).
    const again = (await vscode.commands.executeCommand('overseer.openReview', { experimentId: demo.pending.benign })) as PanelLike;
    assert.equal(again, p);
    await until('switched state', () => (p.lastState as ReviewState | undefined)?.experiment.id === demo.pending.benign);
  });

  it('opens the forum, leaderboard and agent panels', async () => {
    // A hidden webview (retainContextWhenHidden off) only loads when shown: open and check one at a time.
    const forum = (await vscode.commands.executeCommand('overseer.openForum')) as PanelLike;
    const fs1 = await until('forum state', () => forum.lastState as { threads: { id: string }[] } | undefined);
    assert.deepEqual(new Set(fs1.threads.map((t) => t.id)), new Set(demo.posts));
    const board = (await vscode.commands.executeCommand('overseer.openLeaderboard')) as PanelLike;
    const lb = await until('leaderboard state', () => board.lastState as { rows: { agentId: string; n: number }[]; alerts: { agentId: string }[] } | undefined);
    assert.equal(lb.rows[0].agentId, 'alice');
    assert.deepEqual(lb.alerts.map((a) => a.agentId), ['carol']);
    const agent = (await vscode.commands.executeCommand('overseer.openAgent', 'alice')) as PanelLike;
    const ag = await until('agent state', () => agent.lastState as { detail: { agent: { id: string } }; commits: unknown[] } | undefined);
    assert.equal(ag.detail.agent.id, 'alice');
    assert.ok(ag.commits.length >= 2);
    assert.ok(['Overseer Forum', 'Overseer Leaderboard', 'Agent alice'].every((l) => tabLabels().includes(l)), tabLabels().join(', '));
  });
});
