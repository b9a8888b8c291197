// Sweeps in a real VS Code extension host (code-server) against an embedded hub on a real fleet: three
// proposals whose git commits differ only in one literal are one Queue row; the sweep review page shows
// the members and their values; approving the sweep from the command (after its confirmation) gives each
// experiment its own experiment.approved event pinned to its own commit; a logic change is not grouped.
// And approving a single proposal above low risk asks first (dismissed: nothing is decided).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { FleetService } from '../../src/core/service';
import { Sandbox } from '../../src/git/sandbox';
import type { OverseerApi } from '../../src/host/extension';
import type { ExperimentNode, GroupNode, SweepNode, QueueNode } from '../../src/host/trees/queueTree';
import type { ReviewPanel } from '../../src/host/webviews/reviewPanel';

const EXT_ID = 'overseer-dev.overseer';

async function until<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const TRAIN = ['import json', '', 'lr = 0.001', 'epochs = 3', '', 'def main():', '    for e in range(epochs):', '        print(e, lr)', '', 'main()', ''].join('\n');
const resources = { gpus: 1, gpuHours: 1, timeLimitMinutes: 30 };

interface SweepFleet {
  dir: string;
  sweep: { id: string; commit: string; lr: string }[];
  logic: string;
}

/** A fleet with one agent: three branches off main changing only `lr`, and one changing the logic. */
async function makeSweepFleet(dir: string): Promise<SweepFleet> {
  const svc = await FleetService.open(dir, { noSync: true });
  const human = { kind: 'human' as const, id: 'fixture-human' };
  await svc.createFleet(human, 'exthost-sweeps');
  const repo = path.join(dir, 'repos', 'agent-s');
  const sb = await Sandbox.init(repo, { files: { 'train.py': TRAIN, 'README.md': '# s\n' } });
  await svc.registerAgent(human, { agentId: 'agent-s', name: 'Sweeper', direction: 'learning-rate sweeps', repoPath: repo, budget: { gpuHours: 100, usd: 50, evalQueries: 100 } });
  const A = { kind: 'agent' as const, id: 'agent-s' };
  const onBranch = async (branch: string, train: string) => {
    await sb.g.raw(['checkout', '-q', '-b', branch, 'main']);
    const c = await sb.commitFiles({ 'train.py': train }, `try ${branch}`);
    await sb.g.raw(['checkout', '-q', 'main']);
    return c;
  };
  const sweep: SweepFleet['sweep'] = [];
  for (const lr of ['1e-5', '3e-5', '1e-4']) {
    const c = await onBranch(`lr-${lr}`, TRAIN.replace('lr = 0.001', `lr = ${lr}`));
    const x = await svc.propose(A, { title: `lr ${lr}`, rationale: 'sweep the learning rate', command: 'python train.py', resources, taskMode: 'normal', commit: c, branch: `lr-${lr}` });
    sweep.push({ id: x.id, commit: x.commit, lr });
  }
  const lc = await onBranch('warmup', TRAIN.replace('    for e in range(epochs):', '    warmup()\n    for e in range(epochs):').replace('def main():', 'def warmup():\n    print("warm")\n\ndef main():'));
  const logic = await svc.propose(A, { title: 'warmup', rationale: 'new logic', command: 'python train.py', resources, taskMode: 'normal', commit: lc, branch: 'warmup' });
  await svc.close();
  return { dir, sweep, logic: logic.id };
}

type WarningFn = typeof vscode.window.showWarningMessage;

/** Answer the next modal warnings with `answer` (undefined = dismissed), recording what they said. */
function stubWarnings(answer: (message: string) => string | undefined): { seen: { message: string; detail?: string }[]; restore(): void } {
  const win = vscode.window as { showWarningMessage: WarningFn };
  const original = win.showWarningMessage;
  const seen: { message: string; detail?: string }[] = [];
  win.showWarningMessage = (async (message: string, ...rest: unknown[]) => {
    const opts = rest[0] && typeof rest[0] === 'object' && !('title' in (rest[0] as object)) ? (rest[0] as vscode.MessageOptions) : undefined;
    seen.push({ message, detail: opts?.detail });
    return answer(message);
  }) as unknown as WarningFn;
  return { seen, restore: () => (win.showWarningMessage = original) };
}

describe('Overseer sweeps in the extension host', function () {
  this.timeout(120_000);
  let api: OverseerApi;
  let fx: SweepFleet;
  let tmp: string;

  before(async function () {
    this.timeout(90_000);
    const ext = vscode.extensions.getExtension<OverseerApi>(EXT_ID)!;
    assert.ok(ext, `${EXT_ID} is not installed`);
    api = await ext.activate();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-exthost-sweeps-'));
    fx = await makeSweepFleet(path.join(tmp, 'fleet'));
    await vscode.workspace.getConfiguration('overseer').update('humanName', 'sweep tester', vscode.ConfigurationTarget.Global);
    await vscode.workspace.getConfiguration('overseer').update('fleetDir', fx.dir, vscode.ConfigurationTarget.Global);
    // an earlier suite in this host may have left a connection (or one in progress) to its fleet: reconnect until this one
    await until(
      'the hub connection',
      async () => {
        if (api.conn.status.fleetDir !== fx.dir && api.conn.status.state !== 'connecting') await api.conn.connect();
        return api.conn.status.state === 'connected' && api.conn.status.fleetDir === fx.dir;
      },
      30_000,
    );
    await api.queue.reload();
  });

  after(async () => {
    await vscode.workspace.getConfiguration('overseer').update('fleetDir', undefined, vscode.ConfigurationTarget.Global);
    await vscode.workspace.getConfiguration('overseer').update('humanName', undefined, vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    // the connection stays open for later suites in this host (closing disposes it for good)
    await until('the connection to leave the fixture fleet', () => api.conn.status.fleetDir !== fx.dir, 30_000).catch(() => undefined);
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const sweepIds = () => fx.sweep.map((s) => s.id);

  it('proposals differing only in a literal are one row under Awaiting review; a logic change is not grouped', async () => {
    const row = await until('the sweep row', () => api.queue.model.sweepList()[0], 30_000);
    assert.deepEqual(row.memberIds, sweepIds());
    const roots = (await api.queue.getChildren()) as QueueNode[];
    // the suite is bundled apart from the extension: nodes are told apart by their kind, not instanceof
    const awaiting = roots.find((r) => r.kind === 'group' && (r as GroupNode).state === 'awaiting_review') as GroupNode;
    assert.ok(awaiting, 'an Awaiting review group holds the sweep');
    const rows = (await api.queue.getChildren(awaiting)) as QueueNode[];
    assert.equal(rows.length, 1);
    const node = rows[0] as SweepNode;
    assert.equal(node.kind, 'sweep');
    const item = api.queue.getTreeItem(node);
    assert.match(String(item.label), /^lr ∈ \{1e-5, 3e-5, 1e-4\} · 3 experiments$/);
    assert.match(String(item.description), /^MED risk · agent-s$/);
    assert.equal(item.contextValue, 'sweep.open');
    for (const s of fx.sweep) assert.match(String(item.tooltip), new RegExp(`${s.id}: lr=${s.lr.replace(/[-.]/g, '\\$&')} — MED · ${s.commit.slice(0, 12)}`));
    assert.equal(api.queue.getTreeItem(awaiting).description, '3');
    const members = (await api.queue.getChildren(node)) as ExperimentNode[];
    assert.deepEqual(members.map((m) => m.experimentId), sweepIds());
    assert.equal(api.queue.getParent(members[1]!), node);
    // the logic change stays a normal row in its own group
    const proposed = roots.find((r) => r.kind === 'group' && (r as GroupNode).state === 'proposed') as GroupNode;
    assert.deepEqual(((await api.queue.getChildren(proposed)) as ExperimentNode[]).map((n) => n.experimentId), [fx.logic]);
    assert.equal(api.queue.model.sweepOf(fx.logic), undefined);
  });

  it('opening the sweep shows its first member with the table of members and their values', async () => {
    const panel = await vscode.commands.executeCommand<ReviewPanel>('overseer.openSweep', api.queue.sweepNode(fx.sweep[0]!.id));
    assert.ok(panel, 'the review panel opened');
    const st = await until('the sweep state', () => panel.lastState?.sweep && panel.lastState, 30_000);
    assert.equal(st.experiment.id, fx.sweep[0]!.id);
    assert.deepEqual(st.sweep!.members.map((m) => [m.id, m.values.join(','), m.commit, m.open]), fx.sweep.map((s) => [s.id, s.lr, s.commit, true]));
    assert.deepEqual(st.sweep!.params, ['lr']);
    assert.ok(st.files.some((f) => f.path === 'train.py'));
  });

  it('approving one proposal above low risk asks first; dismissed, nothing is decided', async () => {
    const w = stubWarnings(() => undefined);
    try {
      await vscode.commands.executeCommand('overseer.approveExperiment', fx.logic);
    } finally {
      w.restore();
    }
    assert.equal(w.seen.length, 1);
    assert.match(w.seen[0]!.message, new RegExp(`^Approve ${fx.logic} \\("warmup"\\)\\? It is medium risk\\.$`));
    assert.match(w.seen[0]!.detail ?? '', /not screened yet/);
    assert.equal((await api.conn.client.getExperiment(fx.logic)).state, 'proposed');
  });

  it('approving the sweep (after its confirmation) gives each experiment its own approval pinned to its own commit', async () => {
    const w = stubWarnings((m) => (m.startsWith('Approve the sweep') ? 'Approve Sweep (3)' : undefined));
    let r: { id: string }[] | undefined;
    try {
      r = await vscode.commands.executeCommand<{ id: string }[]>('overseer.approveSweep', api.queue.sweepNode(fx.sweep[0]!.id));
    } finally {
      w.restore();
    }
    assert.equal(w.seen.length, 1, 'one confirmation for the sweep');
    assert.match(w.seen[0]!.message, /^Approve the sweep "lr ∈ \{1e-5, 3e-5, 1e-4\} · 3 experiments" \(3 experiments\)\? 3 members are above low risk \(highest: medium\)\.$/);
    for (const s of fx.sweep) assert.match(w.seen[0]!.detail ?? '', new RegExp(`${s.id} — medium: \\[medium\\] not screened yet`));
    assert.deepEqual(r?.map((x) => x.id), sweepIds());
    // through the hub's API: each approved at its own commit
    for (const s of fx.sweep) {
      const x = await api.conn.client.getExperiment(s.id);
      assert.equal(x.state, 'approved');
      assert.equal(x.verdict?.commit, s.commit);
    }
    // through the ledger: one experiment.approved per member, each pinned to its own commit, by the human
    const events = fs
      .readFileSync(path.join(fx.dir, 'ledger.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { type: string; actor: { kind: string; id: string }; data: { experimentId: string; commit: string } })
      .filter((e) => e.type === 'experiment.approved');
    assert.deepEqual(events.map((e) => [e.data.experimentId, e.data.commit, e.actor.kind, e.actor.id]), fx.sweep.map((s) => [s.id, s.commit, 'human', 'sweep-tester']));
    assert.equal(new Set(events.map((e) => e.data.commit)).size, 3);
    // the sweep row is gone; the logic change is still undecided
    await until('no open sweep', () => api.queue.model.sweepList().length === 0);
    assert.equal(api.queue.model.get(fx.logic)?.state, 'proposed');
    assert.equal((await api.conn.client.triage()).sweeps.length, 0);
  });
});
