// Agent episodes over HTTP with real git sandboxes and the real screener: each trigger (a gaming veto, a probing
// alert, a run report naming violations) opens an episode that holds the agent's open proposals; held proposals
// are out of triage, refused by decisions and by dispatch; only a human resolves (every step a ledger event); a
// held proposal released individually is decided at its own pin.
import * as assert from 'node:assert/strict';
import type { ProposeRequest } from '../../../src/hub/api';
import { HubError } from '../../../src/hub/client';
import { SYSTEM } from '../../../src/core/model';
import { majorityVoteFile } from '../../../src/fleet/simulatedCode';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startHubFixture, type HubFixture } from '../../support/hubFixture';

const small = { gpus: 1, gpuHours: 1, timeLimitMinutes: 30 };
let n = 0;
async function propose(fx: HubFixture, agentId: string, files: Record<string, string>, resources = small) {
  const commit = await fx.commit(agentId, files, `change ${++n}`);
  const body: ProposeRequest = { commit, command: `python train.py --seed ${n}`, title: `try ${n}`, rationale: 'r', resources, taskMode: 'normal' };
  const x = await fx.agent(agentId).propose(body);
  await fx.hub.idle();
  return fx.human.getExperiment(x.id);
}
const code = (e: unknown) => (e instanceof HubError ? `${e.status} ${e.code}` : String(e));
const types = async (fx: HubFixture, after: number) => (await fx.service.ledger.readAfter(after)).map((e) => `${e.type}:${e.actor.kind}`);

describe('agent episodes', function () {
  let fx: HubFixture;
  beforeEach(async () => {
    fx = await startHubFixture({ agents: 2, config: { episodes: true } });
  });
  afterEach(async () => fx?.close());

  it('a gaming veto opens an episode: open and new proposals are held (out of triage, refused one by one), one row, human-only resume with a note to the inbox', async () => {
    const other = await propose(fx, 'aar-1', { 'notes.txt': 'a\n' });
    const gaming = await propose(fx, 'aar-1', { 'w2s/labels.py': majorityVoteFile() });
    assert.equal(gaming.screening?.gaming, true, JSON.stringify(gaming.screening));
    const honest = await propose(fx, 'aar-2', { 'notes.txt': 'b\n' });
    const seq0 = fx.service.ledger.lastSeq;
    await fx.human.veto(gaming.id, { commit: gaming.commit, tree: gaming.tree, reason: 'majority vote over labels' });
    await fx.hub.idle();
    assert.deepEqual(await types(fx, seq0), ['experiment.vetoed:human', 'episode.opened:system']);
    const t = await fx.human.triage();
    assert.equal(t.episodes?.length, 1);
    const ep = t.episodes![0]!;
    assert.deepEqual([ep.agentId, ep.trigger, ep.experimentId, ep.held], ['aar-1', 'gaming_veto', gaming.id, 1]);
    const ids = t.experiments.map((x) => x.id);
    assert.ok(ids.includes(honest.id) && !ids.includes(other.id), ids.join(','));
    // decided one by one: refused while held
    await assert.rejects(fx.human.approve(other.id, { commit: other.commit, tree: other.tree }), (e) => code(e) === '423 held');
    // a new proposal is accepted, and held
    const later = await propose(fx, 'aar-1', { 'notes.txt': 'c\n' });
    assert.equal(later.state, 'awaiting_review');
    const view = await fx.human.episode(ep.id);
    assert.deepEqual(view.held.map((x) => x.id).sort(), [other.id, later.id].sort());
    assert.ok(view.vetoes.some((v) => v.experimentId === gaming.id && v.gaming));
    assert.ok(view.findings.some((f) => f.experimentId === gaming.id));
    // only humans resolve
    await assert.rejects(fx.agent('aar-1').resolveEpisode(ep.id, { action: 'resume', note: 'me' }), (e) => code(e).startsWith('403'));
    await assert.rejects(fx.human.resolveEpisode(ep.id, { action: 'resume', note: ' ' }), (e) => code(e).startsWith('400'));
    const seq1 = fx.service.ledger.lastSeq;
    const done = await fx.human.resolveEpisode(ep.id, { action: 'resume', note: 'do not combine labelers again' });
    assert.equal(done.episode.resolution?.action, 'resume');
    assert.equal(done.episode.resolution?.by, 'alice');
    assert.deepEqual(await types(fx, seq1), ['episode.resolved:human']);
    await assert.rejects(fx.human.resolveEpisode(ep.id, { action: 'retire', note: 'again' }), (e) => code(e) === '409 conflict');
    const inbox = await fx.agent('aar-1').inbox(0);
    assert.ok(inbox.items.some((i) => i.text.includes('do not combine labelers again')), JSON.stringify(inbox.items.map((i) => i.text)));
    const after = (await fx.human.triage()).experiments.map((x) => x.id);
    assert.ok(after.includes(other.id) && after.includes(later.id));
    assert.ok(fx.service.state.auditTrail().some((a) => a.type === 'episode.resolved' && a.actor.id === 'alice'));
  });

  it('a probing alert opens an episode; resuming lifts the alert as the human; an approved, undispatched proposal is held and never dispatches', async () => {
    const x = await propose(fx, 'aar-2', { 'notes.txt': 'p\n' });
    await fx.human.approve(x.id, { commit: x.commit, tree: x.tree });
    await fx.service.append('eval.probing_suspected', SYSTEM, { agentId: 'aar-2', dataset: 'syn', split: 'test', evidence: { flips: 9 }, suspended: true });
    await fx.hub.idle();
    const ep = fx.service.state.episodes.openOf('aar-2');
    assert.equal(ep?.trigger, 'probing_alert');
    assert.equal(fx.service.state.episodes.isHeld(fx.service.state.experiment(x.id)!), true);
    await assert.rejects(fx.service.markDispatched(x.id, { runner: 'local', jobId: 'j1', commit: x.commit, tree: x.tree }), /held/);
    const seq = fx.service.ledger.lastSeq;
    await fx.human.resolveEpisode(ep!.id, { action: 'resume', note: 'probing explained' });
    assert.deepEqual(await types(fx, seq), ['eval.resumed:human', 'episode.resolved:human']);
    assert.equal(fx.service.state.openProbingAlerts.get('aar-2') ?? 0, 0);
    await fx.service.markDispatched(x.id, { runner: 'local', jobId: 'j1', commit: x.commit, tree: x.tree });
    assert.equal(fx.service.state.experiment(x.id)!.state, 'dispatched');
  });

  it('a run report naming violations opens an episode; a second trigger is evidence of the same episode', async () => {
    const x = await propose(fx, 'aar-1', { 'notes.txt': 'r\n' });
    await fx.service.append('run.report', SYSTEM, { experimentId: x.id, jobId: 'j', sandbox: 'bwrap', violations: 2, summary: 'network denied twice', report: {} });
    const ep = fx.service.state.episodes.openOf('aar-1')!;
    assert.equal(ep.trigger, 'run_violation');
    await fx.service.append('eval.probing_suspected', SYSTEM, { agentId: 'aar-1', dataset: 'syn', split: 'test', evidence: {}, suspended: false });
    assert.equal(fx.service.state.episodes.open().length, 1);
    assert.deepEqual(fx.service.state.episodes.openOf('aar-1')!.evidence.map((q) => q.kind), ['opened', 'probing_alert']);
    // a report without violations opens nothing
    await fx.service.append('run.report', SYSTEM, { experimentId: x.id, jobId: 'j', sandbox: 'bwrap', violations: 0, summary: 'clean', report: {} });
    assert.equal(fx.service.state.episodes.openOf('aar-2'), undefined);
  });

  it('a held proposal released individually is decided at its own pin (a stale pin is refused) and never by a policy', async () => {
    await fx.human.setPolicy({ rules: [{ name: 'everything', expr: 'true' }], auditShare: 0 });
    await fx.hub.idle();
    const held = await propose(fx, 'aar-1', { 'notes.txt': 'h\n' });
    assert.equal(held.state, 'approved', 'the permissive rule approves before any episode');
    const x = await propose(fx, 'aar-2', { 'notes.txt': 'x\n' });
    await fx.service.append('eval.probing_suspected', SYSTEM, { agentId: 'aar-2', dataset: 'syn', split: 'test', evidence: {}, suspended: false });
    const y = await propose(fx, 'aar-2', { 'notes.txt': 'y\n' });
    assert.equal(y.state, 'awaiting_review', 'held: no policy approves it');
    const ep = fx.service.state.episodes.openOf('aar-2')!;
    await assert.rejects(fx.agent('aar-2').releaseHeld(ep.id, y.id), (e) => code(e).startsWith('403'));
    await fx.human.releaseHeld(ep.id, y.id);
    await fx.hub.idle();
    assert.equal((await fx.human.getExperiment(y.id)).state, 'awaiting_review', 'released for a human, not for the policy');
    assert.ok((await fx.human.triage()).experiments.some((q) => q.id === y.id));
    await assert.rejects(fx.human.approve(y.id, { commit: x.commit, tree: x.tree }), (e) => code(e) === '409 stale_review');
    await fx.human.approve(y.id, { commit: y.commit, tree: y.tree });
    assert.equal(fx.service.state.experiment(y.id)!.state, 'approved');
    // the rest stays held: x was approved by the policy before the alert, and does not dispatch
    assert.equal(fx.service.state.experiment(x.id)!.state, 'approved');
    await assert.rejects(fx.service.markDispatched(x.id, { runner: 'local', jobId: 'j2', commit: x.commit, tree: x.tree }), /held/);
  });

  it('over MCP: a human token lists, reads and resolves episodes; an agent token has no such tools and is refused', async () => {
    const connect = async (token: string) => {
      const c = new Client({ name: 'test', version: '1.0.0' });
      await c.connect(new StreamableHTTPClientTransport(new URL(`${fx.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
      return c;
    };
    const ep = (await fx.human.holdAgent('aar-1', 'check over MCP')).episode;
    const agent = await connect(fx.agentTokens['aar-1']!);
    const human = await connect(fx.humanToken);
    try {
      assert.ok(!(await agent.listTools()).tools.some((t) => t.name.includes('episode')));
      const refused = await agent.callTool({ name: 'resolve_episode', arguments: { id: ep.id, action: 'resume', note: 'me' } });
      assert.equal(refused.isError, true);
      assert.ok((await human.listTools()).tools.some((t) => t.name === 'resolve_episode'));
      const listed = JSON.parse(((await human.callTool({ name: 'list_episodes', arguments: {} })).content as { text: string }[])[0]!.text) as { episodes: { id: string }[] };
      assert.deepEqual(listed.episodes.map((e) => e.id), [ep.id]);
      const r = await human.callTool({ name: 'resolve_episode', arguments: { id: ep.id, action: 'resume', note: 'fine' } });
      assert.ok(!r.isError, JSON.stringify(r));
      assert.equal(fx.service.state.episodes.episodes.get(ep.id)!.resolution?.by, 'alice');
    } finally {
      await agent.close();
      await human.close();
    }
  });

  it('retire: held proposals vetoed and the agent paused for good, by the human; probation holds back automatic approvals', async () => {
    const x = await propose(fx, 'aar-1', { 'notes.txt': 'k\n' });
    const ep = (await fx.human.holdAgent('aar-1', 'looks off')).episode;
    assert.equal(ep.trigger, 'human');
    await assert.rejects(fx.agent('aar-1').holdAgent('aar-2', 'rival'), (e) => code(e).startsWith('403'));
    const seq = fx.service.ledger.lastSeq;
    await fx.human.resolveEpisode(ep.id, { action: 'retire', note: 'gaming twice' });
    assert.deepEqual(await types(fx, seq), ['experiment.vetoed:human', 'agent.paused:human', 'episode.resolved:human']);
    assert.equal(fx.service.state.experiment(x.id)!.state, 'vetoed');
    assert.equal(fx.service.state.agent('aar-1')!.status, 'paused');
    await assert.rejects(fx.human.resumeAgent('aar-1'), (e) => code(e) === '409 conflict');
    await assert.rejects(propose(fx, 'aar-1', { 'notes.txt': 'l\n' }), (e) => code(e).startsWith('423'));

    await fx.human.setPolicy({ rules: [{ name: 'everything', expr: 'true' }], auditShare: 0 });
    const ep2 = (await fx.human.holdAgent('aar-2', 'check')).episode;
    await assert.rejects(fx.human.resolveEpisode(ep2.id, { action: 'probation', note: 'small only' }), (e) => code(e).startsWith('400'));
    await assert.rejects(fx.human.resolveEpisode(ep2.id, { action: 'probation', note: 'small only', probation: 'gpu_hours <=' }), (e) => code(e).startsWith('400'));
    await fx.human.resolveEpisode(ep2.id, { action: 'probation', note: 'small only', probation: 'gpu_hours <= 0.5' });
    const big = await propose(fx, 'aar-2', { 'notes.txt': 'big\n' });
    const tiny = await propose(fx, 'aar-2', { 'notes.txt': 'tiny\n' }, { gpus: 1, gpuHours: 0.25, timeLimitMinutes: 30 });
    assert.deepEqual([big.state, tiny.state], ['awaiting_review', 'approved']);
  });
});
