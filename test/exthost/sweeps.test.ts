// Sweeps in a real VS Code extension host (code-server) against an embedded hub on a real fleet: proposals
// whose git commits differ only in one literal are one Queue row (a new one arriving joins it); the sweep
// review page shows the members and their values, and a stale pin reloads it without deciding anything;
// approving the sweep from the command (after its confirmation) gives each experiment its own
// experiment.approved event pinned to its own commit; a logic change is not grouped; a sweep with a
// critical, gaming-flagged member cannot be approved as a sweep (its veto works). And single approvals:
// above low risk a modal first, on critical the typed experiment id; bulk approval skips high/critical.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { SYSTEM, type ScreeningReport } from '../../src/core/model';
import { FLEET_CONFIG, FleetService } from '../../src/core/service';
import { Sandbox } from '../../src/git/sandbox';
import { HubClient } from '../../src/hub/client';
import { TokenStore } from '../../src/hub/auth';
import type { OverseerApi } from '../../src/host/extension';
import type { ExperimentNode, GroupNode, SweepNode, QueueNode } from '../../src/host/trees/queueTree';
import type { ReviewPanel } from '../../src/host/webviews/reviewPanel';
import { enterFleet, leaveFleet, until } from './host';



const TRAIN = ['import json', '', 'lr = 0.001', 'epochs = 3', '', 'def main():', '    for e in range(epochs):', '        print(e, lr)', '', 'main()', ''].join('\n');
const resources = { gpus: 1, gpuHours: 1, timeLimitMinutes: 30 };

interface SweepFleet {
  dir: string;
  repo: string;
  agentToken: string;
  sweep: { id: string; commit: string; lr: string }[];
  logic: string;
  /** A second sweep (over `epochs`): a clean member and a critical, gaming-flagged one. */
  epochs: { clean: string; flagged: string };
}

/** A fleet with one agent: three branches off main changing only `lr`, one changing the logic, and two
 * changing only `epochs` (screened: one clean, one flagged for gaming with a critical finding). */
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
  const ep: string[] = [];
  for (const n of ['5', '8']) {
    const c = await onBranch(`epochs-${n}`, TRAIN.replace('epochs = 3', `epochs = ${n}`));
    ep.push((await svc.propose(A, { title: `epochs ${n}`, rationale: 'longer', command: 'python train.py', resources, taskMode: 'normal', commit: c, branch: `epochs-${n}` })).id);
  }
  const clean: ScreeningReport = { gaming: false, score: 0, findings: [] };
  const flagged: ScreeningReport = {
    gaming: true,
    score: 0.95,
    findings: [{ kind: 'label_access', severity: 'critical', file: 'train.py', line: 4, explanation: 'reads held-out labels', confidence: 0.95, source: 'static' }],
  };
  await svc.append('experiment.screened', SYSTEM, { experimentId: ep[0]!, report: clean });
  await svc.append('experiment.screened', SYSTEM, { experimentId: ep[1]!, report: flagged });
  await svc.close();
  // this agent keeps more than the default 3 proposals open (a sweep of four, plus the others)
  const cfg = path.join(dir, FLEET_CONFIG);
  const prev = fs.existsSync(cfg) ? (JSON.parse(fs.readFileSync(cfg, 'utf8')) as Record<string, unknown>) : {};
  fs.writeFileSync(cfg, JSON.stringify({ ...prev, maxOpenProposals: 0 }, null, 2));
  const agentToken = new TokenStore(dir).create({ kind: 'agent', id: 'agent-s' }).token;
  return { dir, repo, agentToken, sweep, logic: logic.id, epochs: { clean: ep[0]!, flagged: ep[1]! } };
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

type InputFn = typeof vscode.window.showInputBox;

/** Answer the next input boxes with `answer`, recording their options. */
function stubInput(answer: string | undefined): { seen: vscode.InputBoxOptions[]; restore(): void } {
  const win = vscode.window as { showInputBox: InputFn };
  const original = win.showInputBox;
  const seen: vscode.InputBoxOptions[] = [];
  win.showInputBox = (async (opts?: vscode.InputBoxOptions) => {
    seen.push(opts ?? {});
    return answer;
  }) as unknown as InputFn;
  return { seen, restore: () => (win.showInputBox = original) };
}

describe('Overseer sweeps in the extension host', function () {
  this.timeout(120_000);
  let api: OverseerApi;
  let fx: SweepFleet;
  let tmp: string;

  before(async function () {
    this.timeout(90_000);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-exthost-sweeps-'));
    fx = await makeSweepFleet(path.join(tmp, 'fleet'));
    api = await enterFleet(fx.dir, 'sweep tester');
    await api.queue.reload();
  });

  after(async () => {
    await leaveFleet(api, fx?.dir, { closeEditors: true });
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const sweepIds = () => fx.sweep.map((s) => s.id);
  let panel: ReviewPanel;

  it('proposals differing only in a literal are one row under Awaiting review; a logic change is not grouped', async () => {
    await until('two sweep rows', () => api.queue.model.sweepList().length === 2, 30_000);
    const roots = (await api.queue.getChildren()) as QueueNode[];
    // the suite is bundled apart from the extension: nodes are told apart by their kind, not instanceof
    const awaiting = roots.find((r) => r.kind === 'group' && (r as GroupNode).state === 'awaiting_review') as GroupNode;
    assert.ok(awaiting, 'an Awaiting review group holds the sweeps');
    const rows = (await api.queue.getChildren(awaiting)) as QueueNode[];
    assert.deepEqual(rows.map((r) => r.kind), ['sweep', 'sweep'], 'every undecided proposal but the logic change is in a sweep');
    // triage order: the epochs sweep has a critical member, it comes first
    const [epochs, lr] = rows as SweepNode[];
    assert.equal(epochs!.sweepId, fx.epochs.clean);
    assert.equal(lr!.sweepId, fx.sweep[0]!.id);
    const item = api.queue.getTreeItem(lr!);
    assert.match(String(item.label), /^lr ∈ \{1e-5, 3e-5, 1e-4\} · 3 experiments$/);
    assert.match(String(item.description), /^MED risk · agent-s$/);
    assert.equal(item.contextValue, 'sweep.open');
    for (const s of fx.sweep) assert.match(String(item.tooltip), new RegExp(`${s.id}: lr=${s.lr.replace(/[-.]/g, '\\$&')} — MED · ${s.commit.slice(0, 12)}`));
    const ei = api.queue.getTreeItem(epochs!);
    assert.match(String(ei.label), /^epochs ∈ \{5, 8\} · 2 experiments$/);
    assert.match(String(ei.description), /^CRIT risk · agent-s · approve members individually$/);
    assert.equal(ei.contextValue, 'sweep.refused');
    assert.equal(api.queue.getTreeItem(awaiting).description, '5');
    const members = (await api.queue.getChildren(lr)) as ExperimentNode[];
    assert.deepEqual(members.map((m) => m.experimentId), sweepIds());
    assert.equal(api.queue.getParent(members[1]!), lr);
    // the logic change stays a normal row in its own group
    const proposed = roots.find((r) => r.kind === 'group' && (r as GroupNode).state === 'proposed') as GroupNode;
    assert.deepEqual(((await api.queue.getChildren(proposed)) as ExperimentNode[]).map((n) => n.experimentId), [fx.logic]);
    assert.equal(api.queue.model.sweepOf(fx.logic), undefined);
  });

  it('a new proposal differing only in the value joins the sweep row (the queue refetches sweeps after it arrives)', async () => {
    const sb = new Sandbox(fx.repo);
    await sb.g.raw(['checkout', '-q', '-b', 'lr-3e-4', 'main']);
    const c = await sb.commitFiles({ 'train.py': TRAIN.replace('lr = 0.001', 'lr = 3e-4') }, 'try lr-3e-4');
    await sb.g.raw(['checkout', '-q', 'main']);
    const agent = new HubClient(api.conn.status.url!, fx.agentToken);
    const x = await agent.propose({ commit: c, command: 'python train.py', title: 'lr 3e-4', rationale: 'one more', resources, taskMode: 'normal', branch: 'lr-3e-4' });
    fx.sweep.push({ id: x.id, commit: x.commit, lr: '3e-4' });
    const row = await until('the sweep to grow', () => api.queue.model.sweep(fx.sweep[0]!.id)?.memberIds.length === 4 && api.queue.model.sweep(fx.sweep[0]!.id), 30_000);
    assert.deepEqual(row.memberIds, sweepIds());
    assert.equal(row.label, 'lr ∈ {1e-5, 3e-5, 1e-4, 3e-4} · 4 experiments');
  });

  it('opening the sweep shows its first member with the table of members and their values', async () => {
    panel = await vscode.commands.executeCommand<ReviewPanel>('overseer.openSweep', api.queue.sweepNode(fx.sweep[0]!.id));
    assert.ok(panel, 'the review panel opened');
    const st = await until('the sweep state', () => panel.lastState?.sweep && panel.lastState, 30_000);
    assert.equal(st.experiment.id, fx.sweep[0]!.id);
    assert.deepEqual(st.sweep!.members.map((m) => [m.id, m.values.join(','), m.commit, m.open]), fx.sweep.map((s) => [s.id, s.lr, s.commit, true]));
    assert.deepEqual(st.sweep!.params, ['lr']);
    assert.ok(st.files.some((f) => f.path === 'train.py'));

    // a decision at a pin that is not the member's (a stale page) decides nothing and reloads the sweep
    const decide = (panel as unknown as { decideSweep(p: unknown): Promise<unknown> }).decideSweep.bind(panel);
    const members = st.sweep!.members.map((m) => ({ experimentId: m.id, commit: m.commit, tree: m.tree }));
    members[1] = { ...members[1]!, commit: fx.sweep[0]!.commit };
    const before = panel.lastState;
    await assert.rejects(decide({ sweepId: st.sweep!.id, decision: 'approve', members }), /The sweep changed since it was shown \(.*is pinned to.*\): reloaded, review it again/);
    const again = await until('the reloaded sweep', () => panel.lastState !== before && !!panel.lastState?.sweep?.note && panel.lastState, 30_000);
    assert.match(again.sweep!.note!, /^Nothing was decided: /);
    for (const s of fx.sweep) assert.ok(['proposed', 'screening', 'awaiting_review'].includes((await api.conn.client.getExperiment(s.id)).state), `${s.id} still undecided`);
    // a sweep with a critical, gaming-flagged member is refused by the page's host too
    const ep = [fx.epochs.clean, fx.epochs.flagged].map((id) => api.queue.model.get(id)!).map((x) => ({ experimentId: x.id, commit: x.commit, tree: x.tree }));
    await assert.rejects(decide({ sweepId: fx.epochs.clean, decision: 'approve', members: ep }), new RegExp(`${fx.epochs.flagged} is critical risk; ${fx.epochs.flagged} is flagged by screening`));
    assert.equal((await api.conn.client.getExperiment(fx.epochs.flagged)).state, 'awaiting_review');
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
    const n = fx.sweep.length;
    // the members proposed through the hub's API were screened by it (low risk); the others were not (medium)
    const above = (await Promise.all(fx.sweep.map((s) => api.conn.client.getExperiment(s.id)))).filter((x) => x.risk?.level !== 'low');
    assert.ok(above.length >= 1 && above.length < n, `some members above low risk: ${above.map((x) => x.id).join(', ')}`);
    const w = stubWarnings((m) => (m.startsWith('Approve the sweep') ? `Approve Sweep (${n})` : undefined));
    let r: { id: string }[] | undefined;
    try {
      r = await vscode.commands.executeCommand<{ id: string }[]>('overseer.approveSweep', api.queue.sweepNode(fx.sweep[0]!.id));
    } finally {
      w.restore();
    }
    assert.equal(w.seen.length, 1, 'one confirmation for the sweep');
    assert.equal(w.seen[0]!.message, `Approve the sweep "lr ∈ {1e-5, 3e-5, 1e-4, 3e-4} · 4 experiments" (4 experiments)? ${above.length} members are above low risk (highest: medium).`);
    for (const x of above) assert.match(w.seen[0]!.detail ?? '', new RegExp(`^${x.id} — medium: \\[medium\\] not screened yet`, 'm'));
    assert.match(w.seen[0]!.detail ?? '', new RegExp(`pinned to its own commit: ${fx.sweep.map((s) => `${s.id}@${s.commit.slice(0, 10)}`).join(', ')}$`));
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
    assert.equal(new Set(events.map((e) => e.data.commit)).size, 4);
    // the sweep row is gone (the epochs one is still open); the logic change is still undecided
    await until('the lr sweep to close', () => api.queue.model.sweepList().length === 1);
    assert.equal(api.queue.model.get(fx.logic)?.state, 'proposed');
    assert.deepEqual((await api.conn.client.triage()).sweeps.map((q) => q.experimentIds), [[fx.epochs.clean, fx.epochs.flagged]]);
  });

  it('a sweep with a critical, gaming-flagged member cannot be approved as a sweep; its veto decides every member', async () => {
    const w = stubWarnings(() => 'Approve Sweep (2)');
    try {
      assert.equal(await vscode.commands.executeCommand('overseer.approveSweep', api.queue.sweepNode(fx.epochs.clean)), undefined);
    } finally {
      w.restore();
    }
    assert.equal(w.seen.length, 1);
    assert.match(w.seen[0]!.message, new RegExp(`cannot be approved as a sweep: ${fx.epochs.flagged} is critical risk; ${fx.epochs.flagged} is flagged by screening for possible evaluation gaming\\. Approve those individually`));
    for (const id of [fx.epochs.clean, fx.epochs.flagged]) assert.equal((await api.conn.client.getExperiment(id)).state, 'awaiting_review');

    // one-by-one: critical asks for the typed id (a wrong one approves nothing)
    const gw = stubWarnings(() => 'Approve Anyway');
    const input = stubInput('not-the-id');
    try {
      await vscode.commands.executeCommand('overseer.approveExperiment', fx.epochs.flagged);
    } finally {
      gw.restore();
      input.restore();
    }
    assert.match(gw.seen[0]!.message, /for possible evaluation gaming \(critical risk\)/);
    assert.equal(input.seen.length, 1);
    assert.match(String(input.seen[0]!.title), /CRITICAL risk/);
    assert.match(String(input.seen[0]!.prompt), /Type the experiment id/);
    assert.equal(typeof input.seen[0]!.validateInput?.('nope'), 'string');
    assert.equal(input.seen[0]!.validateInput?.(fx.epochs.flagged), undefined);
    assert.equal((await api.conn.client.getExperiment(fx.epochs.flagged)).state, 'awaiting_review');

    // bulk approval skips high/critical (and gaming) and asks once for the medium ones: dismissed, nothing approved
    const bw = stubWarnings(() => undefined);
    let r!: { approved: string[]; skipped: string[] };
    try {
      r = (await vscode.commands.executeCommand<{ approved: string[]; skipped: string[] }>('overseer.approveSelected', undefined, [api.queue.expNode(fx.epochs.flagged), api.queue.expNode(fx.logic)]))!;
    } finally {
      bw.restore();
    }
    assert.deepEqual(r, { approved: [], skipped: [fx.epochs.flagged], failed: [] });
    assert.match(bw.seen[0]!.message, /^Approve 1 experiment\? 1 is medium risk\.$/);
    assert.match(bw.seen[0]!.detail ?? '', new RegExp(`^${fx.logic} \\("warmup"\\): \\[medium\\] not screened yet`));

    // the review page's batch approval refuses it too
    const x = api.queue.model.get(fx.epochs.flagged)!;
    const batch = await (panel as unknown as { batchApprove(items: unknown[]): Promise<{ results: { experimentId: string; ok: boolean; error?: string }[] }> }).batchApprove([{ experimentId: x.id, commit: x.commit, tree: x.tree }]);
    assert.deepEqual(batch.results, [{ experimentId: x.id, ok: false, error: 'flagged for gaming: approve it individually' }]);

    // the sweep's veto needs a reason and decides each member at its own pin
    const vetoed = await vscode.commands.executeCommand<{ id: string; state: string; verdict?: { commit: string } }[]>('overseer.vetoSweep', api.queue.sweepNode(fx.epochs.clean), 'gaming in one member');
    assert.deepEqual(vetoed?.map((x) => [x.id, x.state]), [[fx.epochs.clean, 'vetoed'], [fx.epochs.flagged, 'vetoed']]);
    for (const id of [fx.epochs.clean, fx.epochs.flagged]) {
      const x = await api.conn.client.getExperiment(id);
      assert.equal(x.verdict?.commit, x.commit);
      assert.equal(x.verdict?.reason, 'gaming in one member');
    }
    await until('no open sweep', () => api.queue.model.sweepList().length === 0);
  });

  it('a sweep row selected for bulk approval stands for its members, each through the risk rules', async () => {
    const sb = new Sandbox(fx.repo);
    const agent = new HubClient(api.conn.status.url!, fx.agentToken);
    const ids: string[] = [];
    for (const n of ['11', '13']) {
      await sb.g.raw(['checkout', '-q', '-b', `ep-${n}`, 'main']);
      const c = await sb.commitFiles({ 'train.py': TRAIN.replace('epochs = 3', `epochs = ${n}`) }, `try ep-${n}`);
      await sb.g.raw(['checkout', '-q', 'main']);
      ids.push((await agent.propose({ commit: c, command: 'python train.py', title: `epochs ${n}`, rationale: 'bulk', resources, taskMode: 'normal', branch: `ep-${n}` })).id);
    }
    const row = await until('the new sweep row', () => api.queue.model.sweepList().find((r) => r.memberIds.includes(ids[0]!) && r.memberIds.length === 2), 30_000);
    const bw = stubWarnings(() => 'Approve All');
    let r!: { approved: string[]; skipped: string[]; failed: string[] };
    try {
      r = (await vscode.commands.executeCommand<typeof r>('overseer.approveSelected', undefined, [api.queue.sweepNode(row.id)]))!;
    } finally {
      bw.restore();
    }
    assert.deepEqual([...r.approved].sort(), [...ids].sort(), JSON.stringify(r));
    for (const id of ids) assert.equal((await api.conn.client.getExperiment(id)).state, 'approved');
  });
});
