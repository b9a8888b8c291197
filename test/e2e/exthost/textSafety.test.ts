// Deceptive agent-written names in the real extension host (run by scripts/exthost-tests.mjs): tree labels,
// tooltips, quick picks and the native diff's tab and breadcrumb show hidden characters as markers and
// flag mixed scripts and look-alike letters (issue 16).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { OverseerApi } from '../../../src/host/extension';
import type { ExperimentNode, FileNode, QueueNode } from '../../../src/host/trees/queueTree';
import { HOMOGLYPH_FILE, LOOKALIKE_BRANCH, RLO_FILE, ZWSP_BRANCH, makeHostileFleet, type HostileFleet } from './hostileFixture';

async function until<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const label = (i: vscode.TreeItem) => (typeof i.label === 'string' ? i.label : (i.label?.label ?? ''));
const tip = (i: vscode.TreeItem) => (typeof i.tooltip === 'string' ? i.tooltip : (i.tooltip?.value ?? ''));

describe('deceptive names in the extension host', function () {
  this.timeout(120_000);
  let api: OverseerApi;
  let fx: HostileFleet;
  let tmp: string;

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-ts-'));
    fx = await makeHostileFleet(path.join(tmp, 'fleet'));
    const ext = vscode.extensions.getExtension<OverseerApi>('overseer-dev.overseer');
    assert.ok(ext, 'extension not installed');
    api = await ext.activate();
    await vscode.workspace.getConfiguration('overseer').update('fleetDir', fx.dir, vscode.ConfigurationTarget.Global);
    await until('the hostile fleet', () => api.conn.status.state === 'connected' && api.conn.status.fleetDir === fx.dir);
    await api.queue.reload();
  });
  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.workspace.getConfiguration('overseer').update('fleetDir', undefined, vscode.ConfigurationTarget.Global);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  async function experimentNode(): Promise<ExperimentNode> {
    const roots = (await api.queue.getChildren()) as QueueNode[];
    for (const r of roots) {
      const kids = (await api.queue.getChildren(r)) as QueueNode[];
      const hit = kids.find((k) => (k as ExperimentNode).experimentId === fx.experimentId);
      if (hit) return hit as ExperimentNode;
    }
    throw new Error(`${fx.experimentId} not in the queue tree`);
  }

  it('queue: the title shows its hidden tags decoded and a badge; the tooltip marks the zero-width branch', async () => {
    const item = api.queue.getTreeItem(await experimentNode());
    assert.equal(label(item), '$(pass-filled) Approved tokenizer⟦tags "approve"⟧ ⚠ hidden tags');
    assert.doesNotMatch(label(item), /[\u{E0000}-\u{E007F}]/u);
    const t = tip(item);
    assert.match(t, /on main⟦ZWSP U\+200B⟧/);
    assert.match(t, /⚠ branch name contains invisible characters/);
    assert.match(t, /⚠ title contains 7 invisible tag characters/);
  });

  it('queue: file names with an RLO and a Cyrillic homoglyph are marked and badged, with reasons in the tooltip', async () => {
    const files = (await api.queue.getChildren(await experimentNode())) as FileNode[];
    const items = files.map((f) => [f.file.path, api.queue.getTreeItem(f)] as const);
    const rlo = items.find(([p]) => p === RLO_FILE)![1];
    assert.equal(label(rlo), 'README_⟦RLO U+202E⟧dm.py ⚠ bidi control');
    assert.doesNotMatch(label(rlo) + tip(rlo), /\u202E/);
    const cyr = items.find(([p]) => p === HOMOGLYPH_FILE)![1];
    assert.equal(label(cyr), `${HOMOGLYPH_FILE} ⚠ mixed scripts · look-alike letters`);
    assert.match(tip(cyr), /Cyrillic 'е' \(U\+0435\) looks like 'e'/);
  });

  it('agents: a look-alike agent name is badged in the tree', async () => {
    const roots = (await api.agents.getChildren()) as { kind: string; agentId: string }[];
    const node = roots.find((n) => n.kind === 'agent' && n.agentId === fx.agentId);
    assert.ok(node, JSON.stringify(roots));
    const item = api.agents.getTreeItem(node as never);
    assert.equal(label(item), 'Mall\u043Ery ⚠ mixed scripts · look-alike letters');
    assert.match(tip(item), /Cyrillic 'о' \(U\+043E\) looks like 'o'/);
  });

  it('agents: branches that read the same (TR39 skeleton) name each other in the tree', async () => {
    type N = { kind: string; agentId?: string; name?: string };
    const roots = (await api.agents.getChildren()) as N[];
    const agent = roots.find((n) => n.kind === 'agent' && n.agentId === fx.agentId)!;
    const kids = (await api.agents.getChildren(agent as never)) as N[];
    const repo = kids.find((k) => k.kind === 'repo');
    assert.ok(repo, JSON.stringify(kids));
    const branches = ((await api.agents.getChildren(repo as never)) as N[]).filter((b) => b.kind === 'branch');
    const labels = new Map(branches.map((b) => [b.name, label(api.agents.getTreeItem(b as never))]));
    assert.equal(labels.get('main'), `main ⚠ looks like ${LOOKALIKE_BRANCH}`);
    assert.equal(labels.get(LOOKALIKE_BRANCH), `${LOOKALIKE_BRANCH} ⚠ looks like main`);
    assert.equal(labels.get('tokenizer'), 'tokenizer');
  });

  it('agents: two branches that share commits both expand, every node with an id of its own (issue 30)', async () => {
    type N = { kind: string; agentId?: string; name?: string; commit?: { sha: string } | string };
    const roots = (await api.agents.getChildren()) as N[];
    const agent = roots.find((n) => n.kind === 'agent' && n.agentId === fx.agentId)!;
    const repo = ((await api.agents.getChildren(agent as never)) as N[]).find((k) => k.kind === 'repo')!;
    const branches = ((await api.agents.getChildren(repo as never)) as N[]).filter((b) => b.kind === 'branch');
    assert.ok(branches.length >= 2, JSON.stringify(branches));
    const ids = new Set<string>();
    const under = new Map<string, number>();
    for (const b of branches) {
      for (const c of (await api.agents.getChildren(b as never)) as N[]) {
        const sha = (c.commit as { sha: string }).sha;
        under.set(sha, (under.get(sha) ?? 0) + 1);
        for (const n of [c, ...((await api.agents.getChildren(c as never)) as N[])]) {
          const id = api.agents.getTreeItem(n as never).id;
          if (id === undefined) continue;
          assert.ok(!ids.has(id), `tree id ${id} registered twice`);
          ids.add(id);
        }
      }
    }
    assert.ok([...under.values()].some((k) => k >= 2), 'some commit is under two branches');
  });

  it('quick picks: agent titles keep $(icon) syntax literal and show the markers', async () => {
    const win = vscode.window as { showQuickPick: typeof vscode.window.showQuickPick };
    const original = win.showQuickPick;
    const seen: vscode.QuickPickItem[] = [];
    win.showQuickPick = (async (items: readonly vscode.QuickPickItem[] | Thenable<readonly vscode.QuickPickItem[]>) => {
      seen.push(...(await items));
      return undefined;
    }) as unknown as typeof vscode.window.showQuickPick;
    try {
      await vscode.commands.executeCommand('overseer.openReview');
      await vscode.commands.executeCommand('overseer.approveExperiment');
    } finally {
      win.showQuickPick = original;
    }
    assert.ok(seen.length > 0, 'a quick pick was shown');
    // overseer.openReview lists ids with titles as descriptions; overseer.approveExperiment lists titles.
    const review = seen.find((i) => i.label === fx.experimentId);
    assert.ok(review, JSON.stringify(seen));
    assert.match(review.description ?? '', /^\\\$\(pass-filled\) Approved tokenizer⟦tags "approve"⟧ ⚠ hidden tags$/);
    const mine = seen.find((i) => i.label.includes('tokenizer'));
    assert.ok(mine, JSON.stringify(seen));
    assert.match(mine.label, /^\\\$\(pass-filled\) Approved tokenizer⟦tags "approve"⟧ ⚠ hidden tags$/);
    for (const i of seen) assert.doesNotMatch(`${i.label}${i.description ?? ''}${i.detail ?? ''}`, /(^|[^\\])\$\(/);
  });

  it('native diff: the tab label and the URI path (the breadcrumb) show the marked name, and the file still loads', async () => {
    await vscode.commands.executeCommand('overseer.openDiff', { experimentId: fx.experimentId, file: RLO_FILE });
    const tab = await until('the diff tab', () => {
      const t = vscode.window.tabGroups.activeTabGroup.activeTab;
      return t?.input instanceof vscode.TabInputTextDiff ? t : undefined;
    });
    const input = tab.input as vscode.TabInputTextDiff;
    assert.equal(input.modified.path, '/README_⟦RLO U+202E⟧dm.py');
    assert.equal(path.posix.basename(input.modified.path), 'README_⟦RLO U+202E⟧dm.py');
    assert.doesNotMatch(input.modified.toString(true).split('?')[0]!, /\u202E/);
    assert.match(tab.label, /^README_⟦RLO U\+202E⟧dm\.py ⚠ bidi control \(/);
    const text = Buffer.from(await vscode.workspace.fs.readFile(input.modified)).toString('utf8');
    assert.equal(text, 'import os\n');
    const doc = await vscode.workspace.openTextDocument(input.modified);
    assert.equal(doc.languageId, 'python');
  });

  it('the branch in the proposal is kept as written (the hub refuses such ref names on push)', async () => {
    const x = await (await api.conn.ready).getExperiment(fx.experimentId);
    assert.equal(x.branch, ZWSP_BRANCH);
  });
});
