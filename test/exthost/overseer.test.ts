// Runs inside a real VS Code extension host (code-server): activation, commands, tree providers, the
// overseer-rev file system, native diffs and review comments, against an embedded hub on a real fleet.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { HubClient } from '../../src/hub/client';
import type { OverseerApi } from '../../src/host/extension';
import { ExperimentNode, GroupNode, type QueueNode } from '../../src/host/trees/queueTree';
import { changedSinceLastReview } from '../../src/host/review/diff';
import { revUri } from '../../src/host/review/revFs';
import { EXT_ID, enterFleet, leaveFleet, until } from './host';
import { makeFixture, type Fixture } from './fixture';

/** Run `fn` answering modal warnings with `button` (approvals above low risk ask first); returns what they said. */
async function confirmingWarnings(button: string, fn: () => Thenable<unknown> | Promise<unknown>): Promise<string[]> {
  const win = vscode.window as { showWarningMessage: typeof vscode.window.showWarningMessage };
  const original = win.showWarningMessage;
  const seen: string[] = [];
  win.showWarningMessage = (async (message: string) => {
    seen.push(message);
    return button;
  }) as unknown as typeof vscode.window.showWarningMessage;
  try {
    await fn();
  } finally {
    win.showWarningMessage = original;
  }
  return seen;
}

describe('Overseer in the extension host', function () {
  let api: OverseerApi;
  let fx: Fixture;
  let tmp: string;
  let ext: vscode.Extension<OverseerApi>;

  before(async function () {
    this.timeout(60_000);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-exthost-'));
    fx = await makeFixture(path.join(tmp, 'fleet'));
    api = await enterFleet(fx.dir, 'exthost tester');
    ext = vscode.extensions.getExtension<OverseerApi>(EXT_ID)!;
    await api.queue.reload();
  });

  after(async () => {
    await leaveFleet(api, fx?.dir, { closeEditors: true });
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('activates quickly and records the activation time', () => {
    assert.equal(ext.isActive, true);
    assert.ok(api.activationMs >= 0 && api.activationMs < 1000, `activate() took ${api.activationMs} ms`);
    const out = path.join(ext.extensionPath, 'test-results', 'exthost');
    fs.mkdirSync(out, { recursive: true });
    fs.writeFileSync(path.join(out, 'activation.json'), JSON.stringify({ activationMs: api.activationMs, vscode: vscode.version, at: new Date().toISOString() }, null, 2));
  });

  it('registers every command the manifest contributes', async () => {
    const all = new Set(await vscode.commands.getCommands(true));
    const contributed = (ext.packageJSON.contributes.commands as { command: string }[]).map((c) => c.command);
    const missing = contributed.filter((c) => !all.has(c));
    assert.deepEqual(missing, []);
    assert.ok(contributed.includes('overseer.approveExperiment') && contributed.includes('overseer.openDiff'));
  });

  it('acts as a sanitized human principal', () => {
    assert.equal(api.conn.human, 'exthost-tester');
  });

  it('Queue tree groups experiments, awaiting review first, with gaming and follow-up flags', async () => {
    const roots = (await api.queue.getChildren()) as QueueNode[];
    const states = roots.map((r) => (r as GroupNode).state);
    assert.deepEqual(states, ['awaiting_review', 'proposed', 'changes_requested', 'superseded'].filter((s) => states.includes(s as never)));
    assert.equal(states[0], 'awaiting_review');
    const awaiting = (await api.queue.getChildren(roots[0])) as ExperimentNode[];
    assert.deepEqual(awaiting.map((n) => n.experimentId), [fx.ids.gaming]);
    const gi = api.queue.getTreeItem(awaiting[0]!);
    assert.equal(gi.contextValue, 'experiment.undecided.gaming');
    assert.equal((gi.iconPath as vscode.ThemeIcon).id, 'warning');
    assert.ok(!String(gi.label).includes('\u202e'));
    const proposed = roots.find((r) => (r as GroupNode).state === 'proposed')!;
    const kids = (await api.queue.getChildren(proposed)) as ExperimentNode[];
    const ids = kids.map((k) => k.experimentId);
    assert.ok(ids.includes(fx.ids.plain) && ids.includes(fx.ids.followup), ids.join(','));
    assert.match(String(api.queue.getTreeItem(api.queue.expNode(fx.ids.followup)).contextValue), /\.followup$/);
    assert.equal(api.queue.model.awaitingCount(), 4);
  });

  it('serves files at exact revisions read-only through overseer-rev', async () => {
    const head = revUri({ kind: 'experiment', experimentId: fx.ids.plain, side: 'head', path: 'train.py' });
    const base = revUri({ kind: 'experiment', experimentId: fx.ids.plain, side: 'base', path: 'train.py' });
    const h = Buffer.from(await vscode.workspace.fs.readFile(head)).toString('utf8');
    const b = Buffer.from(await vscode.workspace.fs.readFile(base)).toString('utf8');
    assert.match(h, /^x5 = 50$/m);
    assert.match(b, /^x5 = 5$/m);
    const added = revUri({ kind: 'experiment', experimentId: fx.ids.plain, side: 'base', path: 'new_module.py' });
    assert.equal((await vscode.workspace.fs.readFile(added)).byteLength, 0);
    await assert.rejects(Promise.resolve(vscode.workspace.fs.writeFile(head, Buffer.from('evil'))));
    const doc = await vscode.workspace.openTextDocument(head);
    assert.equal(doc.languageId, 'python');
  });

  it('opens a native diff of base vs pinned commit and offers commenting ranges from the hunks', async () => {
    await vscode.commands.executeCommand('overseer.openDiff', { experimentId: fx.ids.plain, file: 'train.py', line: 5 });
    const tab = await until('the diff tab', () => {
      const t = vscode.window.tabGroups.activeTabGroup.activeTab;
      return t?.input instanceof vscode.TabInputTextDiff ? t : undefined;
    });
    const input = tab.input as vscode.TabInputTextDiff;
    assert.equal(input.original.scheme, 'overseer-rev');
    assert.match(input.modified.query, new RegExp(`x=${fx.ids.plain}&side=head`));
    assert.match(tab.label, /train\.py/);
    const ranges = await api.comments.rangesFor(fx.ids.plain, 'train.py');
    assert.equal(ranges.head.length, 1);
    assert.equal(ranges.head[0]!.start.line, 1); // hunk lines 2..8 (1-based) with 3 lines of context
    assert.equal(ranges.head[0]!.end.line, 7);
  });

  it('posts review comments to the hub, where they reach the agent inbox', async () => {
    const uri = revUri({ kind: 'experiment', experimentId: fx.ids.plain, side: 'head', path: 'train.py' });
    const thread = api.comments.controller.createCommentThread(uri, new vscode.Range(4, 0, 4, 0), []);
    const c = await vscode.commands.executeCommand<{ id: string }>('overseer.postReviewComment', { thread, text: 'why 50? <img src=x onerror=alert(1)>' });
    assert.ok(c?.id);
    assert.equal(thread.comments.length, 1);
    const body = thread.comments[0]!.body as vscode.MarkdownString;
    // Agent-visible text is shown untrusted, with HTML rendering off (so the <img> stays inert text).
    assert.equal(body.isTrusted, false);
    assert.equal(body.supportHtml, false);
    assert.match(body.value, /why/);
    const agent = new HubClient(api.conn.status.url!, fx.agentToken);
    const inbox = await agent.inbox(0);
    const item = inbox.items.find((i) => i.kind === 'review_comment');
    assert.ok(item, JSON.stringify(inbox.items));
    assert.equal(item.data.line, 5);
    assert.equal(item.data.by, 'exthost-tester');
    thread.dispose();
  });

  it('marks files as viewed and refreshes the file node from the event', async () => {
    const files = await api.queue.fileNodes(fx.ids.plain);
    const f = files.find((x) => x.file.path === 'train.py')!;
    assert.equal(api.queue.getTreeItem(f).contextValue, 'file.unviewed');
    await vscode.commands.executeCommand('overseer.markFileViewed', f);
    await until('viewed flag', () => f.file.viewed);
    assert.equal(api.queue.getTreeItem(f).contextValue, 'file.viewed');
  });

  it('approves at the pinned commit; the tree moves the item on the SSE event', async () => {
    const fired: unknown[] = [];
    const sub = api.queue.onDidChangeTreeData((n) => fired.push(n));
    // above low risk (not screened yet: medium) the command asks first
    const asked = await confirmingWarnings('Approve', () => vscode.commands.executeCommand('overseer.approveExperiment', api.queue.expNode(fx.ids.plain)));
    assert.match(asked[0] ?? '', /It is medium risk/);
    const x = await api.conn.client.getExperiment(fx.ids.plain);
    assert.equal(x.state, 'approved');
    assert.equal(x.verdict?.commit, x.commit);
    await until('queue model update', () => api.queue.model.get(fx.ids.plain)?.state === 'approved');
    sub.dispose();
    assert.ok(fired.length > 0);
    const audit = await api.audit.getChildren();
    await until('audit entry', async () => (await api.audit.getChildren()).some((a) => a.type === 'experiment.approved'));
    assert.ok(Array.isArray(audit));
  });

  it('vetoes with a required reason and refuses a second decision', async () => {
    await vscode.commands.executeCommand('overseer.vetoExperiment', fx.ids.plain2, 'not worth the GPU');
    const x = await api.conn.client.getExperiment(fx.ids.plain2);
    assert.equal(x.state, 'vetoed');
    assert.equal(x.verdict?.reason, 'not worth the GPU');
    await assert.rejects(api.conn.client.approve(x.id, { commit: x.commit, tree: x.tree }), /first decision wins/);
  });

  it('batch approve skips experiments flagged for gaming', async () => {
    let r!: { approved: string[]; skipped: string[] };
    const asked = await confirmingWarnings('Approve All', async () => {
      r = await vscode.commands.executeCommand<{ approved: string[]; skipped: string[] }>(
        'overseer.approveSelected',
        undefined,
        [api.queue.expNode(fx.ids.gaming), api.queue.expNode(fx.ids.followup)],
      );
    });
    assert.match(asked[0] ?? '', /1 is medium risk/, 'one confirmation for the medium-risk one');
    assert.deepEqual(r.approved, [fx.ids.followup]);
    assert.deepEqual(r.skipped, [fx.ids.gaming]);
    assert.equal((await api.conn.client.getExperiment(fx.ids.gaming)).state, 'awaiting_review');
  });

  it('computes changes since the last review of a follow-up', async () => {
    const r = await changedSinceLastReview(api.conn, fx.ids.followup);
    assert.equal(r.previous.id, fx.ids.old);
    assert.deepEqual(r.files, ['calib.md', 'eval.py']);
  });

  it('cancelling an approved (undispatched) run vetoes it', async () => {
    await vscode.commands.executeCommand('overseer.cancelRun', fx.ids.followup, 'changed my mind');
    await until('vetoed', async () => (await api.conn.client.getExperiment(fx.ids.followup)).state === 'vetoed');
  });

  it('a new agent proposal arrives through SSE and refreshes only its group', async () => {
    const agent = new HubClient(api.conn.status.url!, fx.agentToken);
    const { Sandbox } = await import('../../src/git/sandbox');
    const sha = await new Sandbox(fx.agentRepo).commitFiles({ 'more.py': 'x = 1\n' }, 'more');
    const x = await agent.propose({ commit: sha, command: 'python more.py', title: 'More', rationale: 'r', resources: { gpus: 1, gpuHours: 1, timeLimitMinutes: 10 }, taskMode: 'normal' });
    await until('new experiment in the queue', () => api.queue.model.get(x.id));
    assert.ok(api.queue.model.awaitingCount() >= 2);
  });

  it('Agents tree: agent → info → repo → branches → commits → files', async () => {
    const agents = await api.agents.getChildren();
    assert.deepEqual(agents.map((a) => (a as { agentId: string }).agentId), ['agent-a', 'agent-b']);
    const bItem = api.agents.getTreeItem(agents[1]!);
    assert.ok(!String(bItem.label).includes('\u202e'));
    const kids = await api.agents.getChildren(agents[0]);
    assert.deepEqual(kids.map((k) => k.kind), ['info', 'info', 'info', 'repo']);
    assert.match(String(api.agents.getTreeItem(kids[2]!).label), /GPU-h/);
    const branches = await api.agents.getChildren(kids[3]);
    assert.ok(branches.length >= 1 && branches[0]!.kind === 'branch');
    const commits = await api.agents.getChildren(branches[0]);
    assert.ok(commits.length >= 3);
    const withProposal = commits.find((c) => c.kind === 'commit' && c.commit.subject === 'tune x5')!;
    const files = await api.agents.getChildren(withProposal);
    assert.deepEqual(files.map((f) => (f as { path: string }).path).sort(), ['new_module.py', 'train.py']);
  });

  it('Forum tree shows human verdict badges and no executable links', async () => {
    const nodes = await api.forum.getChildren();
    const item = api.forum.getTreeItem(nodes[0]!);
    assert.match(String(item.description), /verified/);
    assert.equal((item.iconPath as vscode.ThemeIcon).id, 'verified-filled');
    assert.equal(typeof item.tooltip, 'string');
  });
});
