import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { DomainError } from '../../../src/core/lifecycle';
import { FleetService } from '../../../src/core/service';
import { Sandbox } from '../../../src/git/sandbox';
import { HUMAN, agentActor, tmpDir } from '../../support/tmp';

const RES = { gpus: 1, gpuHours: 2, timeLimitMinutes: 30 };
const isDomain = (code: string) => (err: unknown) => err instanceof DomainError && err.code === code;

describe('FleetService (real git sandboxes)', () => {
  let t: ReturnType<typeof tmpDir>;
  let svc: FleetService;
  let sb: Sandbox;
  const aar1 = agentActor('aar-1');

  beforeEach(async () => {
    t = tmpDir();
    svc = await FleetService.open(t.dir);
    await svc.createFleet(HUMAN, 'unit');
    sb = await Sandbox.init(path.join(t.dir, 'repos', 'aar-1'), { files: { 'train.py': 'weak = load_weak()\n' } });
    await svc.registerAgent(HUMAN, { agentId: 'aar-1', direction: 'confidence weighting', repoPath: sb.repo, budget: { gpuHours: 5, usd: 10, evalQueries: 50 } });
    await svc.registerAgent(HUMAN, { agentId: 'aar-2', direction: 'auxiliary loss', repoPath: sb.repo, budget: { gpuHours: 5, usd: 10, evalQueries: 50 } });
  });
  afterEach(async () => {
    await svc.close();
    t.cleanup();
  });

  async function propose(files: Record<string, string> = { 'train.py': 'weak = load_weak()\nfit(weak)\n' }, extra = {}) {
    const commit = await sb.commitFiles(files, 'experiment');
    // one seed job unless a test says otherwise: these budgets are written for one job per experiment
    return svc.propose(aar1, { title: 'Fit on weak labels', rationale: 'because', command: 'python train.py', resources: RES, taskMode: 'normal', commit, seeds: 1, ...extra });
  }

  it('pins a proposal to the commit and its tree, with the base commit for diffs', async () => {
    const x = await propose();
    const pin = await sb.resolve(x.commit);
    assert.equal(x.tree, pin.tree);
    assert.ok(x.baseCommit && x.baseCommit !== x.commit);
    assert.equal(x.state, 'proposed');
    const files = await sb.changedFiles(x.baseCommit, x.commit);
    assert.deepEqual(files.map((f) => [f.path, f.additions, f.deletions]), [['train.py', 1, 0]]);
  });

  it('rejects a commit that is not in the agent repository, and short SHAs', async () => {
    await assert.rejects(svc.propose(aar1, { title: 't', rationale: 'r', command: 'c', resources: RES, taskMode: 'normal', commit: 'a'.repeat(40) }), isDomain('invalid'));
    const head = await sb.head();
    await assert.rejects(svc.propose(aar1, { title: 't', rationale: 'r', command: 'c', resources: RES, taskMode: 'normal', commit: head.slice(0, 12) }), isDomain('invalid'));
    assert.equal(svc.state.experiments.size, 0);
  });

  it('never lets an agent decide, not even on another agent experiment', async () => {
    const x = await propose();
    await assert.rejects(svc.approve(aar1, x.id, x), isDomain('forbidden'));
    await assert.rejects(svc.approve(agentActor('aar-2'), x.id, x), isDomain('forbidden'));
    await assert.rejects(svc.veto(aar1, x.id, { ...x, reason: 'mine' }), isDomain('forbidden'));
    assert.equal(svc.state.experiment(x.id)!.state, 'proposed');
  });

  it('requires the approval to name the exact pinned commit and tree', async () => {
    const x = await propose();
    const moved = await sb.commitFiles({ 'train.py': 'labels = open("labels.json")\n' }, 'sneaky follow-up');
    const movedTree = (await sb.resolve(moved)).tree;
    await assert.rejects(svc.approve(HUMAN, x.id, { commit: moved, tree: movedTree }), isDomain('stale_review'));
    await assert.rejects(svc.approve(HUMAN, x.id, { commit: x.commit, tree: movedTree }), isDomain('stale_review'));
    await svc.approve(HUMAN, x.id, { commit: x.commit, tree: x.tree });
    const after = svc.state.experiment(x.id)!;
    assert.equal(after.state, 'approved');
    assert.equal(after.verdict!.commit, x.commit);
    assert.notEqual(after.verdict!.commit, await sb.head());
  });

  it('first decision wins under concurrency; the loser gets a conflict naming the winner', async () => {
    const x = await propose();
    const results = await Promise.allSettled([
      svc.approve({ kind: 'human', id: 'alice' }, x.id, x),
      svc.veto({ kind: 'human', id: 'bob' }, x.id, { ...x, reason: 'probing' }),
      svc.approve({ kind: 'human', id: 'carol' }, x.id, x),
    ]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    const losers = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    assert.equal(losers.length, 2);
    for (const l of losers) {
      assert.ok(isDomain('conflict')(l.reason));
      assert.match((l.reason as Error).message, /already approved by alice/);
    }
    assert.equal(svc.state.audit.filter((a) => a.type.startsWith('experiment.') && a.summary.includes(x.id)).length, 1);
  });

  it('checks the GPU-hour budget at approval and refunds nothing silently', async () => {
    const a = await propose({ 'a.py': '1\n' }, { resources: { ...RES, gpuHours: 4 } });
    const b = await propose({ 'b.py': '2\n' }, { resources: { ...RES, gpuHours: 2 } });
    await svc.approve(HUMAN, a.id, a);
    await assert.rejects(svc.approve(HUMAN, b.id, b), (e: unknown) => isDomain('budget_exceeded')(e) && /has 1.00 of 5 left/.test((e as Error).message));
    await svc.setBudget(HUMAN, 'aar-1', { gpuHours: 6 });
    await svc.approve(HUMAN, b.id, b);
    assert.equal(svc.state.budgetOf('aar-1')!.used.gpuHours, 6);
    await assert.rejects(svc.setBudget(aar1, 'aar-1', { gpuHours: 100 }), isDomain('forbidden'));
  });

  it('seed jobs: the approval fixes N (the human may change it), charges N × the per-seed estimate, and a veto refunds it', async () => {
    await svc.setBudget(HUMAN, 'aar-1', { gpuHours: 100 });
    const asked = await propose({ 's.py': '1\n' }, { seeds: 4, resources: { ...RES, gpuHours: 1.5 } });
    assert.equal(asked.seeds, 4);
    const x = await svc.approve(HUMAN, asked.id, asked);
    assert.equal(svc.state.experiment(x.id)!.seedJobs, 4, 'the proposal asked for 4');
    assert.equal(svc.state.budgetOf('aar-1')!.used.gpuHours, 6);
    const y0 = await propose({ 't.py': '1\n' }, { seeds: 4, resources: { ...RES, gpuHours: 2 } });
    await svc.approve(HUMAN, y0.id, { ...y0, seeds: 2 });
    assert.equal(svc.state.experiment(y0.id)!.seedJobs, 2, 'the human changed it to 2');
    assert.equal(svc.state.budgetOf('aar-1')!.used.gpuHours, 10);
    await svc.requestCancel(HUMAN, y0.id, 'not now'); // approved, not dispatched: a veto, refunded
    assert.equal(svc.state.budgetOf('aar-1')!.used.gpuHours, 6);
    const none = await propose({ 'u.py': '1\n' }, { seeds: undefined });
    await svc.approve(HUMAN, none.id, none);
    assert.equal(svc.state.experiment(none.id)!.seedJobs, 3, 'nobody named a number: the default of 3');
    const events = await svc.ledger.readAfter(0);
    assert.deepEqual(events.filter((e) => e.type === 'experiment.approved').map((e) => (e.data as { seeds?: number }).seeds), [4, 2, 3]);
    await assert.rejects(propose({ 'v.py': '1\n' }, { seeds: 21 }), isDomain('invalid'));
    const w = await propose({ 'w.py': '1\n' });
    await assert.rejects(svc.approve(HUMAN, w.id, { ...w, seeds: 0 }), isDomain('invalid'));
    await assert.rejects(svc.approve(HUMAN, w.id, { ...w, seeds: 60 }), (e: unknown) => isDomain('invalid')(e));
  });

  it('requires reasons for veto and request-changes, and delivers verdicts and comments to the agent inbox only', async () => {
    const x = await propose();
    await assert.rejects(svc.veto(HUMAN, x.id, { ...x, reason: '  ' }), isDomain('invalid'));
    await svc.comment(HUMAN, x.id, { file: 'train.py', line: 2, body: 'Where is the weak teacher?' });
    await svc.requestChanges(HUMAN, x.id, { ...x, reason: 'use the weak labels' });
    const inbox = svc.state.inboxOf('aar-1');
    assert.deepEqual(inbox.map((i) => i.kind), ['review_comment', 'verdict']);
    assert.match(inbox[1]!.text, /changes requested — use the weak labels/);
    assert.deepEqual(svc.state.inboxOf('aar-2'), []);
  });

  it('a follow-up commit is a new proposal that supersedes the old one', async () => {
    const x = await propose();
    await svc.requestChanges(HUMAN, x.id, { ...x, reason: 'fix' });
    const y = await propose({ 'train.py': 'weak = load_weak()\nfit(weak, epochs=2)\n' }, { supersedes: x.id });
    assert.equal(svc.state.experiment(x.id)!.state, 'superseded');
    assert.equal(svc.state.experiment(x.id)!.supersededBy, y.id);
    await assert.rejects(propose({ 'z.py': '' }, { supersedes: x.id }), isDomain('conflict'));
  });

  it("superseding another agent's experiment answers exactly like superseding a missing one", async () => {
    const x = await propose();
    const commit = await sb.commitFiles({ 'other.py': 'x = 1\n' }, 'other');
    const as2 = (supersedes: string) =>
      svc.propose(agentActor('aar-2'), { title: 't', rationale: 'r', command: 'python other.py', resources: RES, taskMode: 'normal', commit, supersedes });
    const theirs = await as2(x.id).then(() => undefined, (e: unknown) => e);
    const missing = await as2('exp-999999').then(() => undefined, (e: unknown) => e);
    assert.ok(isDomain('not_found')(theirs) && isDomain('not_found')(missing));
    assert.equal((theirs as Error).message.replace(x.id, 'ID'), (missing as Error).message.replace('exp-999999', 'ID'));
  });

  it('dispatch only at the approved pin, exactly once', async () => {
    const x = await propose();
    await assert.rejects(svc.markDispatched(x.id, { runner: 'local', jobId: '1', commit: x.commit, tree: x.tree }), isDomain('conflict'));
    await svc.approve(HUMAN, x.id, x);
    const tip = await sb.commitFiles({ 'evil.py': '' }, 'moved');
    await assert.rejects(svc.markDispatched(x.id, { runner: 'local', jobId: '1', commit: tip, tree: x.tree }), isDomain('stale_review'));
    await svc.markDispatched(x.id, { runner: 'local', jobId: '1', commit: x.commit, tree: x.tree });
    await assert.rejects(svc.markDispatched(x.id, { runner: 'local', jobId: '2', commit: x.commit, tree: x.tree }), isDomain('conflict'));
    await svc.markRunning(x.id, '1');
    await svc.markFinished(x.id, { state: 'failed', exitCode: 3 });
    await assert.rejects(svc.markFinished(x.id, { state: 'succeeded', exitCode: 0 }), isDomain('conflict'));
    assert.equal(svc.state.experiment(x.id)!.run!.exitCode, 3);
  });

  it('paused agents cannot propose or post; humans resume them', async () => {
    await svc.pauseAgent(HUMAN, 'aar-1', 'budget cap');
    await assert.rejects(propose(), isDomain('paused'));
    await assert.rejects(svc.post(aar1, { title: 'x', summary: 'y' }), isDomain('paused'));
    await assert.rejects(svc.resumeAgent(aar1, 'aar-1'), isDomain('forbidden'));
    await svc.resumeAgent(HUMAN, 'aar-1');
    await propose();
  });

  it('forum: posts, votes (not on your own), comments, and human verdicts reach the author', async () => {
    const p = await svc.post(aar1, { title: 'PGR 0.8', summary: 'we **did** it', metrics: { pgr: 0.8, numSeeds: 1 } });
    await assert.rejects(svc.vote(aar1, p.id, 'up'), isDomain('forbidden'));
    assert.equal(await svc.vote(agentActor('aar-2'), p.id, 'up'), 1);
    assert.equal(await svc.vote(agentActor('aar-2'), p.id, 'down'), -1);
    await svc.commentOnPost(agentActor('aar-2'), p.id, 'seeds?');
    await assert.rejects(svc.forumVerdict(aar1, p.id, 'verified'), isDomain('forbidden'));
    await svc.forumVerdict(HUMAN, p.id, 'suspect', 'one seed only');
    const post = svc.state.posts.get(p.id)!;
    assert.equal(post.comments.length, 1);
    assert.equal(post.humanVerdict!.verdict, 'suspect');
    assert.match(svc.state.inboxOf('aar-1').at(-1)!.text, /marked suspect: one seed only/);
    await assert.rejects(svc.vote(HUMAN, 'f-nope', 'up'), isDomain('not_found'));
  });

  it('restarts from its snapshot to the same state', async () => {
    const x = await propose();
    await svc.approve(HUMAN, x.id, x);
    await svc.close();
    svc = await FleetService.open(t.dir);
    const y = svc.state.experiment(x.id)!;
    assert.equal(y.state, 'approved');
    assert.equal(svc.state.budgetOf('aar-1')!.used.gpuHours, 2);
    await propose({ 'more.py': '' });
    await svc.close();
    svc = await FleetService.open(t.dir, { onWarning: () => undefined });
    assert.equal(svc.state.experiments.size, 2);
  });

  it('runs screening on proposals when a screener is configured', async () => {
    await svc.close();
    svc = await FleetService.open(t.dir, {
      screen: async (x) => ({
        gaming: x.command.includes('majority'),
        score: 0.9,
        findings: [{ kind: 'weak_label_bypass', severity: 'high', file: 'train.py', line: 2, explanation: 'majority vote', confidence: 0.9, source: 'static' }],
      }),
    });
    const commit = await sb.commitFiles({ 'train.py': 'x\nmajority\n' }, 'm');
    const x = await svc.propose(aar1, { title: 't', rationale: 'r', command: 'python majority.py', resources: RES, taskMode: 'normal', commit });
    await svc.idle();
    const after = svc.state.experiment(x.id)!;
    assert.equal(after.state, 'awaiting_review');
    assert.equal(after.screening!.gaming, true);
  });
});
