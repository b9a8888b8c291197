// The hub over real HTTP on loopback with real git sandbox repositories.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { verifyLedgerFile } from '../../../src/core/ledger';
import { HubError } from '../../../src/hub/client';
import type { ProposeRequest } from '../../../src/hub/api';
import { startHubFixture, type HubFixture } from '../../support/hubFixture';

const resources = { gpus: 1, gpuHours: 2, timeLimitMinutes: 30 };

async function proposal(fx: HubFixture, agentId: string, files: Record<string, string> = { 'train.py': 'print("v2")\n' }): Promise<ProposeRequest> {
  const commit = await fx.commit(agentId, files, 'try something');
  return { commit, command: 'python train.py', title: 'try v2', rationale: 'because', resources, taskMode: 'normal' };
}

async function rejects(p: Promise<unknown>, status: number, code?: string): Promise<HubError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof HubError, `expected HubError, got ${String(err)}`);
    assert.equal(err.status, status, `${err.code}: ${err.message}`);
    if (code) assert.equal(err.code, code);
    return err;
  }
  assert.fail(`expected HTTP ${status}`);
}

describe('hub over HTTP', function () {
  let fx: HubFixture;
  before(async () => {
    fx = await startHubFixture({ agents: 2 });
  });
  after(async () => {
    await fx?.close();
  });

  it('binds loopback and reports the caller', async () => {
    assert.match(fx.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const me = await fx.agent('aar-1').whoami();
    assert.deepEqual(me.actor, { kind: 'agent', id: 'aar-1' });
    assert.equal(me.fleet, 'test-fleet');
    const h = await fx.human.whoami();
    assert.deepEqual(h.actor, { kind: 'human', id: 'alice' });
  });

  it('agent proposes, human approves the pinned commit, agent reads the verdict in its inbox', async () => {
    const a = fx.agent('aar-1');
    const body = await proposal(fx, 'aar-1');
    const x = await a.propose(body);
    assert.equal(x.agentId, 'aar-1');
    assert.equal(x.commit, body.commit);
    assert.match(x.tree, /^[0-9a-f]{40}$/);
    const before = (await a.inbox()).lastSeq;
    const approved = await fx.human.approve(x.id, { commit: x.commit, tree: x.tree, note: 'go' });
    assert.equal(approved.state, 'approved');
    const box = await a.inbox(before);
    const v = box.items.find((i) => i.kind === 'verdict' && i.experimentId === x.id);
    assert.ok(v, 'verdict in inbox');
    assert.equal(v.data.decision, 'approved');
    assert.equal(v.data.by, 'alice');
    // The decision is attributed to the human in the ledger.
    const events = await fx.service.ledger.readAfter(0);
    const ev = events.find((e) => e.type === 'experiment.approved' && e.data.experimentId === x.id)!;
    assert.deepEqual(ev.actor, { kind: 'human', id: 'alice' });
    const prop = events.find((e) => e.type === 'experiment.proposed' && e.data.experimentId === x.id)!;
    assert.deepEqual(prop.actor, { kind: 'agent', id: 'aar-1' });
  });

  it('screens every proposal and hides the screening report from the agent', async () => {
    const a = fx.agent('aar-1');
    const x = await a.propose(await proposal(fx, 'aar-1', { 'eval.py': 'labels = open("/data/test_labels.json").read()\n' }));
    await fx.service.idle();
    const forHuman = await fx.human.getExperiment(x.id);
    assert.equal(forHuman.state, 'awaiting_review');
    assert.ok(forHuman.screening, 'human sees the screening report');
    const forAgent = await a.getExperiment(x.id);
    assert.equal(forAgent.screening, undefined);
  });

  it("refuses an agent's approval with 403 and writes nothing", async () => {
    const a = fx.agent('aar-1');
    const x = await a.propose(await proposal(fx, 'aar-1'));
    await fx.service.idle();
    const seq = fx.service.ledger.lastSeq;
    await rejects(a.approve(x.id, { commit: x.commit, tree: x.tree }), 403, 'forbidden');
    await rejects(a.veto(x.id, { commit: x.commit, tree: x.tree, reason: 'no' }), 403);
    await rejects(a.setBudget('aar-1', { gpuHours: 1e6 }), 403);
    await rejects(a.fleet(), 403);
    await rejects(a.audit(), 403);
    assert.equal(fx.service.ledger.lastSeq, seq);
    assert.equal((await fx.human.getExperiment(x.id)).state, 'awaiting_review');
  });

  it('a second decision gets 409, and of two concurrent conflicting decisions exactly one wins', async () => {
    const a = fx.agent('aar-2');
    const x = await a.propose(await proposal(fx, 'aar-2'));
    await fx.human.veto(x.id, { commit: x.commit, tree: x.tree, reason: 'too costly' });
    const e = await rejects(fx.human.approve(x.id, { commit: x.commit, tree: x.tree }), 409, 'conflict');
    assert.match(e.message, /already vetoed/);

    const y = await a.propose(await proposal(fx, 'aar-2'));
    const bob = fx.hub.createToken({ kind: 'human', id: 'bob' });
    const { HubClient } = await import('../../../src/hub/client');
    const bobC = new HubClient(fx.url, bob);
    const results = await Promise.allSettled([
      fx.human.approve(y.id, { commit: y.commit, tree: y.tree }),
      bobC.veto(y.id, { commit: y.commit, tree: y.tree, reason: 'no' }),
      bobC.requestChanges(y.id, { commit: y.commit, tree: y.tree, reason: 'redo' }),
    ]);
    const ok = results.filter((r) => r.status === 'fulfilled');
    const conflicts = results.filter((r) => r.status === 'rejected' && (r.reason as HubError).status === 409);
    assert.equal(ok.length, 1);
    assert.equal(conflicts.length, 2);
    const decisions = (await fx.service.ledger.readAfter(0)).filter(
      (ev) => ['experiment.approved', 'experiment.vetoed', 'experiment.changes_requested'].includes(ev.type) && (ev.data as { experimentId: string }).experimentId === y.id,
    );
    assert.equal(decisions.length, 1);
  });

  it('rejects a decision naming a different commit than the pinned one (409 stale_review)', async () => {
    const x = await fx.agent('aar-1').propose(await proposal(fx, 'aar-1'));
    const other = await fx.commit('aar-1', { 'train.py': 'print("sneaky")\n' });
    await rejects(fx.human.approve(x.id, { commit: other, tree: x.tree }), 409, 'stale_review');
  });

  it('refuses a proposal whose commit is not in the agent repo with 400', async () => {
    const a = fx.agent('aar-1');
    const seq = fx.service.ledger.lastSeq;
    const body = await proposal(fx, 'aar-1');
    await rejects(a.propose({ ...body, commit: 'a'.repeat(40) }), 400);
    // A commit that exists only in another agent's sandbox.
    const foreign = await fx.commit('aar-2', { 'x.py': 'x = 1\n' });
    await rejects(a.propose({ ...body, commit: foreign }), 400);
    await rejects(a.propose({ ...body, commit: body.commit.slice(0, 12) }), 400, 'invalid');
    await rejects(a.propose({ ...body, agentId: 'aar-2' }), 403);
    assert.equal(fx.service.ledger.lastSeq, seq);
  });

  it("makes another agent's inbox, experiments and diffs unreadable", async () => {
    const x = await fx.agent('aar-1').propose(await proposal(fx, 'aar-1'));
    await fx.human.comment(x.id, { file: 'train.py', line: 1, side: 'head', body: 'why?' });
    const b = fx.agent('aar-2');
    await rejects(b.request('GET', '/api/inbox', undefined, { agentId: 'aar-1' }), 403);
    const own = await b.inbox();
    assert.ok(own.items.every((i) => i.experimentId === undefined || fx.service.state.experiment(i.experimentId)?.agentId === 'aar-2'));
    assert.ok(!own.items.some((i) => i.experimentId === x.id));
    // Another agent's experiment answers exactly like one that does not exist (no id oracle).
    await rejects(b.getExperiment(x.id), 404);
    await rejects(b.experimentDiff(x.id), 404);
    await rejects(b.experimentFiles(x.id), 404);
    await rejects(b.experimentContent(x.id, 'train.py', 'head'), 404);
    await rejects(b.experimentComments(x.id), 404);
    const other = await b.getExperiment(x.id).catch((e: Error) => e.message);
    const none = await b.getExperiment('exp-999999').catch((e: Error) => e.message);
    assert.equal(String(other).replace(x.id, 'ID'), String(none).replace('exp-999999', 'ID'));
    await rejects(b.listExperiments({ agentId: 'aar-1' }), 403);
    await rejects(b.agent('aar-1'), 403);
    await rejects(b.commits('aar-1'), 403);
    const mine = await b.listExperiments();
    assert.ok(mine.experiments.every((e) => e.agentId === 'aar-2'));
    // The owner sees its review comment.
    const a = await fx.agent('aar-1').inbox();
    assert.ok(a.items.some((i) => i.kind === 'review_comment' && i.experimentId === x.id));
  });

  it('serves review data to humans: files, diff, content at base/head, comments, viewed', async () => {
    const a = fx.agent('aar-1');
    const x = await a.propose(await proposal(fx, 'aar-1', { 'train.py': 'print("v3")\n', 'bin.dat': '\u0000\u0001binary' }));
    const files = await fx.human.experimentFiles(x.id);
    const byPath = new Map(files.files.map((f) => [f.path, f]));
    assert.equal(byPath.get('train.py')?.binary, false);
    assert.equal(byPath.get('bin.dat')?.binary, true);
    assert.equal(byPath.get('train.py')?.viewed, false);
    const d = await fx.human.experimentDiff(x.id, 'train.py');
    assert.match(d.patch, /\+print\("v3"\)/);
    const head = await fx.human.experimentContent(x.id, 'train.py', 'head');
    assert.equal(Buffer.from(head.base64, 'base64').toString(), 'print("v3")\n');
    const base = await fx.human.experimentContent(x.id, 'train.py', 'base');
    assert.notEqual(Buffer.from(base.base64, 'base64').toString(), 'print("v3")\n');
    const bin = await fx.human.experimentContent(x.id, 'bin.dat', 'head');
    assert.equal(bin.isBinary, true);
    await rejects(fx.human.experimentContent(x.id, '../../etc/passwd', 'head'), 400);
    await fx.human.markViewed(x.id, 'train.py', true);
    assert.equal((await fx.human.experimentFiles(x.id)).files.find((f) => f.path === 'train.py')?.viewed, true);
    const c = await fx.human.comment(x.id, { file: 'train.py', line: 1, side: 'head', body: '<script>alert(1)</script>' });
    const reply = await a.comment(x.id, { file: 'train.py', line: 1, side: 'head', body: 'ok', inReplyTo: c.id });
    const list = await fx.human.experimentComments(x.id);
    assert.deepEqual(list.comments.map((k) => k.id), [c.id, reply.id]);
    assert.equal(list.comments[0]!.body, '<script>alert(1)</script>', 'stored verbatim; escaping is the renderer\'s job');
    const commits = await fx.human.commits('aar-1', undefined, 3);
    assert.equal(commits.commits[0]!.sha, x.commit);
    const detail = await fx.human.agent('aar-1');
    assert.ok(detail.branches.some((b) => b.name === 'main'));
  });

  it('lets humans manage budgets and pause/resume agents; a paused agent cannot propose', async () => {
    const agent = await fx.human.setBudget('aar-2', { gpuHours: 1 });
    assert.equal(agent.budget.gpuHours, 1);
    const x = await fx.agent('aar-2').propose({ ...(await proposal(fx, 'aar-2')), resources: { gpus: 1, gpuHours: 5, timeLimitMinutes: 10 } });
    await rejects(fx.human.approve(x.id, { commit: x.commit, tree: x.tree }), 402, 'budget_exceeded');
    await fx.human.setBudget('aar-2', { gpuHours: 100 });
    const paused = await fx.human.pauseAgent('aar-2', 'probing the eval');
    assert.equal(paused.status, 'paused');
    await rejects(fx.agent('aar-2').propose(await proposal(fx, 'aar-2')), 423, 'paused');
    const resumed = await fx.human.resumeAgent('aar-2');
    assert.equal(resumed.status, 'active');
    const audit = await fx.human.audit(50);
    assert.ok(audit.entries.some((e) => e.type === 'agent.paused' && e.actor.id === 'alice'));
    const fleet = await fx.human.fleet();
    assert.equal(fleet.counts.agents, 2);
    assert.ok(fleet.queue.length > 0);
  });

  it('authenticates every route: 401 without or with a bad token, 404 JSON for unknown routes', async () => {
    for (const auth of [undefined, 'Bearer nope', `Bearer ${fx.agentTokens['aar-1']!.slice(0, -1)}x`, 'Basic abc']) {
      const res = await fetch(`${fx.url}/api/whoami`, { headers: auth ? { authorization: auth } : {} });
      assert.equal(res.status, 401);
      const j = (await res.json()) as { error: { code: string } };
      assert.equal(j.error.code, 'unauthorized');
    }
    const res = await fetch(`${fx.url}/api/nope`, { headers: { authorization: `Bearer ${fx.humanToken}` } });
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'not_found');
    await rejects(fx.human.getExperiment('exp-999999'), 404, 'not_found');
    await rejects(fx.human.getFinding('f-999999'), 404);
  });

  it('stores tokens hashed in a 0600 file and never puts a secret in the ledger', async () => {
    const file = path.join(fx.dir, 'tokens.json');
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const text = fs.readFileSync(file, 'utf8');
    const ledger = fs.readFileSync(path.join(fx.dir, 'ledger.jsonl'), 'utf8');
    for (const t of [fx.humanToken, ...Object.values(fx.agentTokens)]) {
      // ovs_<id>_<secret>: the secret is base64url and may itself contain '_'.
      const secret = t.split('_').slice(2).join('_');
      assert.equal(secret.length, 43);
      assert.ok(!text.includes(t), 'token in tokens.json');
      assert.ok(!ledger.includes(t), 'token in the ledger');
      assert.ok(!ledger.includes(secret), 'token secret in the ledger');
      assert.ok(!text.includes(secret), 'token secret in tokens.json');
    }
    await fx.hub.idle();
    const created = (await fx.service.ledger.readAfter(0)).filter((e) => e.type === 'auth.token_created');
    assert.ok(created.length >= 3, `${created.length} auth.token_created events`);
    assert.ok(created.some((e) => e.data.principal.id === 'aar-1' && e.data.principal.kind === 'agent'));
  });

  it('keeps the ledger chain valid', async () => {
    await fx.hub.idle();
    const r = verifyLedgerFile(path.join(fx.dir, 'ledger.jsonl'));
    assert.ok(r.ok, r.why);
  });
});
