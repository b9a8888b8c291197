// Attention over HTTP with real git sandboxes: risk on experiments, triage order, sweeps on real diffs.
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import * as path from 'node:path';
import type { ProposeRequest } from '../../../src/hub/api';
import { HubError } from '../../../src/hub/client';
import { startHubFixture, type HubFixture } from '../../support/hubFixture';

const ROOT = path.resolve(__dirname, '../../..');
const resources = { gpus: 1, gpuHours: 1, timeLimitMinutes: 30 };
const CONFIG = (lr: string, extra = '') => `{\n  "lr": ${lr},\n  "epochs": 3${extra}\n}\n`;
const TRAIN = 'import json\ncfg = json.load(open("config.json"))\nprint(cfg["lr"])\n';

/** Commit files on a fresh branch from main (each proposal against the same base), then back to main. */
async function branchCommit(fx: HubFixture, agentId: string, branch: string, files: Record<string, string>): Promise<string> {
  const sb = fx.sandbox(agentId);
  await sb.g.raw(['checkout', '-q', '-b', branch, 'main']);
  const c = await sb.commitFiles(files, `try ${branch}`);
  await sb.g.raw(['checkout', '-q', 'main']);
  return c;
}
const body = (commit: string, command: string, branch: string): ProposeRequest => ({ commit, command, title: `run ${branch}`, rationale: 'sweep', resources, taskMode: 'normal', branch });

describe('attention: risk, triage and sweeps', function () {
  let fx: HubFixture;
  before(async () => {
    fx = await startHubFixture({ agents: 2, files: { 'README.md': '# s\n', 'train.py': TRAIN, 'config.json': CONFIG('1e-3'), 'eval/scorer.py': 'def score(p, y): return (p == y).mean()\n' }, config: { tasks: { default: { protectedPaths: ['eval/**'] } } } });
  });
  after(async () => fx?.close());

  it('humans read risk with reasons; agents never see it', async () => {
    const c = await branchCommit(fx, 'aar-2', 'prot', { 'eval/scorer.py': 'def score(p, y): return 1.0\n' });
    const x = await fx.agent('aar-2').propose(body(c, 'python train.py', 'prot'));
    await fx.service.idle();
    const h = await fx.human.getExperiment(x.id);
    assert.ok(h.risk);
    assert.ok(['high', 'critical'].includes(h.risk.level), JSON.stringify(h.risk));
    assert.ok(h.risk.reasons.some((r) => /touches protected path: eval\/scorer\.py/.test(r.text)), JSON.stringify(h.risk.reasons));
    // stable: asked twice, the same words
    assert.deepEqual((await fx.human.getExperiment(x.id)).risk, h.risk);
    assert.equal((await fx.agent('aar-2').getExperiment(x.id)).risk, undefined);
    assert.ok((await fx.agent('aar-2').listExperiments()).experiments.every((e) => e.risk === undefined));
    await fx.human.veto(x.id, { commit: h.commit, tree: h.tree, reason: 'edits the scorer' });
  });

  it('groups proposals whose diffs differ only in values; logic changes are not grouped; one decision, one event per commit', async () => {
    const a = fx.agent('aar-1');
    const lrs = ['1e-5', '3e-5', '1e-4'];
    const sweep = [];
    for (const [i, lr] of lrs.entries()) sweep.push(await a.propose(body(await branchCommit(fx, 'aar-1', `lr-${i}`, { 'config.json': CONFIG(lr) }), `python train.py --seed ${i}`, `lr-${i}`)));
    // same file, a logic change beside the value: not part of the sweep
    const logic = await a.propose(body(await branchCommit(fx, 'aar-1', 'logic', { 'config.json': CONFIG('2e-5', ',\n  "schedule": "cosine"') }), 'python train.py --seed 9', 'logic'));
    const code = await a.propose(body(await branchCommit(fx, 'aar-1', 'code', { 'train.py': TRAIN.replace('print(cfg["lr"])', 'print(cfg["lr"] * 2)'), 'config.json': CONFIG('5e-5') }), 'python train.py --seed 3', 'code'));
    await fx.service.idle();
    const t = await fx.human.triage();
    assert.equal(t.sweeps.length, 1, JSON.stringify(t.sweeps));
    const s = t.sweeps[0]!;
    assert.deepEqual(s.experimentIds, sweep.map((x) => x.id));
    assert.ok(!s.experimentIds.includes(logic.id) && !s.experimentIds.includes(code.id));
    assert.equal(s.label, 'lr ∈ {1e-5, 3e-5, 1e-4}, seed ∈ {0, 1, 2} · 3 experiments');
    // the human CLI lists the sweep as one row
    // (asynchronously: the hub runs in this process)
    const cli = await promisify(execFile)(process.execPath, ['--import=tsx', path.join(ROOT, 'src/cli/main.ts'), 'queue', '--hub', fx.url], { cwd: ROOT, env: { ...process.env, OVERSEER_TOKEN: fx.humanToken }, encoding: 'utf8', timeout: 60_000 });
    assert.ok(cli.stdout.includes(`sweep ${s.id}: lr ∈ {1e-5, 3e-5, 1e-4}, seed ∈ {0, 1, 2} · 3 experiments`), cli.stdout);
    // triage order: risk, then age
    const rank = { low: 0, medium: 1, high: 2, critical: 3 } as const;
    for (let i = 1; i < t.experiments.length; i++) {
      const p = t.experiments[i - 1]!;
      const q = t.experiments[i]!;
      assert.ok(rank[p.risk!.level] > rank[q.risk!.level] || (p.risk!.level === q.risk!.level && p.proposedSeq < q.proposedSeq));
    }
    // a stale pin stops the whole sweep before any decision
    const members = t.experiments.filter((x) => s.experimentIds.includes(x.id)).map((x) => ({ experimentId: x.id, commit: x.commit, tree: x.tree }));
    const stale = members.map((m, i) => (i === 2 ? { ...m, commit: logic.commit } : m));
    await assert.rejects(fx.human.decideSweep({ decision: 'approve', members: stale }), (e: unknown) => e instanceof HubError && e.status === 409);
    assert.equal((await fx.human.getExperiment(members[0]!.experimentId)).state, 'awaiting_review');
    // agents may not decide sweeps
    await assert.rejects(a.decideSweep({ decision: 'approve', members }), (e: unknown) => e instanceof HubError && e.status === 403);
    const r = await fx.human.decideSweep({ decision: 'approve', members });
    assert.deepEqual(r.experiments.map((x) => x.state), ['approved', 'approved', 'approved']);
    const events = (await fx.service.ledger.readAfter(0)).filter((e) => e.type === 'experiment.approved');
    for (const m of members) {
      const ev = events.filter((e) => e.type === 'experiment.approved' && e.data.experimentId === m.experimentId);
      assert.equal(ev.length, 1);
      assert.equal((ev[0]!.data as { commit: string }).commit, m.commit);
      assert.deepEqual(ev[0]!.actor, { kind: 'human', id: 'alice' });
    }
  });

  it('a re-run of the approved commit with only value changes is low risk', async () => {
    const a = fx.agent('aar-1');
    const t0 = await fx.human.triage();
    for (const x of t0.experiments) await fx.human.veto(x.id, { commit: x.commit, tree: x.tree, reason: 'clear the queue' });
    const approved = (await fx.human.listExperiments({ agentId: 'aar-1', state: 'approved' })).experiments.sort((p, q) => q.verdict!.seq - p.verdict!.seq)[0]!;
    const sb = fx.sandbox('aar-1');
    await sb.g.raw(['checkout', '-q', '-b', 'rerun', approved.commit]);
    const c = await sb.commitFiles({ 'config.json': CONFIG('7e-5') }, 'rerun with another lr');
    await sb.g.raw(['checkout', '-q', 'main']);
    const x = await a.propose(body(c, approved.command.replace(/--seed \d+/, '--seed 7'), 'rerun'));
    await fx.service.idle();
    const h = await fx.human.getExperiment(x.id);
    assert.equal(h.risk!.level, 'low', JSON.stringify(h.risk));
    assert.ok(h.risk!.reasons.some((q) => q.text.startsWith(`re-run of approved commit ${approved.commit.slice(0, 12)}`)), JSON.stringify(h.risk));
  });

  it('a sweep cannot approve a member screening flagged or of critical risk: each needs its own review; a sweep veto still works', async () => {
    const a = fx.agent('aar-2');
    const xs: Awaited<ReturnType<typeof a.propose>>[] = [];
    for (const v of ['0.9', '0.95']) xs.push(await a.propose(body(await branchCommit(fx, 'aar-2', `scorer-${v}`, { 'eval/scorer.py': `def score(p, y): return ${v}\n` }), 'python train.py', `scorer-${v}`)));
    await fx.service.idle();
    const t = await fx.human.triage();
    const s = t.sweeps.find((q) => q.experimentIds.includes(xs[0]!.id));
    assert.ok(s, `the two scorer edits differ only in a value: one sweep (${JSON.stringify(t.sweeps)})`);
    const members = t.experiments.filter((x) => s.experimentIds.includes(x.id));
    assert.ok(members.some((x) => x.screening?.gaming || x.risk?.level === 'critical'), JSON.stringify(members.map((x) => [x.risk, x.screening?.gaming])));
    const pins = members.map((x) => ({ experimentId: x.id, commit: x.commit, tree: x.tree }));
    await assert.rejects(fx.human.decideSweep({ decision: 'approve', members: pins }), (e: unknown) => e instanceof HubError && e.status === 409 && e.code === 'needs_individual_review' && /one by one/.test(e.message));
    for (const x of members) assert.equal((await fx.human.getExperiment(x.id)).state, 'awaiting_review', 'nothing was approved');
    const r = await fx.human.decideSweep({ decision: 'veto', members: pins, reason: 'edits the scorer' });
    assert.deepEqual(r.experiments.map((x) => x.state), members.map(() => 'vetoed'));
  });
});
