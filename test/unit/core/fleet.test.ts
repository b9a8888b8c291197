import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { FleetState } from '../../../src/core/fleet';
import { FleetService } from '../../../src/core/service';
import { HUMAN, agentActor, tmpDir } from '../../support/tmp';

const SHA = (c: string) => c.repeat(40);

describe('FleetState projection', () => {
  let t: ReturnType<typeof tmpDir>;
  let svc: FleetService;
  beforeEach(async () => {
    t = tmpDir();
    const pins = new Map([SHA('a'), SHA('b'), SHA('c'), SHA('d')].map((c, i) => [c, { commit: c, tree: SHA(String(i + 1)) }]));
    svc = await FleetService.open(t.dir, {
      noSync: true,
      resolveCommit: async (_r, c) => {
        const p = pins.get(c);
        if (!p) throw new Error('no such commit');
        return p;
      },
    });
    await svc.createFleet(HUMAN, 'proj');
    for (const id of ['aar-1', 'aar-2']) {
      await svc.registerAgent(HUMAN, { agentId: id, direction: `direction of ${id}`, repoPath: path.join(t.dir, id), budget: { gpuHours: 10, usd: 5, evalQueries: 9 } });
    }
  });
  afterEach(async () => {
    await svc.close();
    t.cleanup();
  });

  const RES = { gpus: 1, gpuHours: 1, timeLimitMinutes: 5 };
  const propose = (agent: string, commit: string, title = 't') =>
    svc.propose(agentActor(agent), { title, rationale: 'r', command: 'run', resources: RES, taskMode: 'normal', commit });

  it('orders the queue with undecided work first and groups by state', async () => {
    const a = await propose('aar-1', SHA('a'), 'first');
    const b = await propose('aar-2', SHA('b'), 'second');
    const c = await propose('aar-1', SHA('c'), 'third');
    await svc.approve(HUMAN, a.id, a);
    await svc.veto(HUMAN, c.id, { ...c, reason: 'probing' });
    const q = svc.state.queue();
    assert.deepEqual(q.map((g) => g.state), ['proposed', 'approved', 'vetoed']);
    assert.deepEqual(q[0]!.experiments.map((x) => x.id), [b.id]);
    assert.equal(svc.state.awaitingReviewCount(), 1);
    assert.deepEqual(svc.state.experimentsOf('aar-1').map((x) => x.title), ['first', 'third']);
  });

  it('experiment versions change with every event about the experiment, and only then (the agent list cache rests on it)', async () => {
    const { listExperiments, listExperimentsJson } = await import('../../../src/hub/ops');
    const ctx = { service: svc, fleetDir: t.dir };
    const agent = agentActor('aar-1');
    const a = await propose('aar-1', SHA('a'), 'first');
    const b = await propose('aar-1', SHA('b'), 'second');
    const same = () => assert.equal(listExperimentsJson(ctx, agent, {}), JSON.stringify(listExperiments(ctx, agent, {})));
    same();
    const va = svc.state.experimentVersion(a.id);
    const vb = svc.state.experimentVersion(b.id);
    await svc.post(agentActor('aar-2'), { title: 'f', summary: 'a finding' }); // names no experiment, changes none
    assert.equal(svc.state.experimentVersion(a.id), va);
    await svc.approve(HUMAN, a.id, a);
    assert.notEqual(svc.state.experimentVersion(a.id), va, 'the approved one changed');
    assert.equal(svc.state.experimentVersion(b.id), vb, 'the other did not');
    same();
    assert.equal((JSON.parse(listExperimentsJson(ctx, agent, {})) as { experiments: { id: string; state: string }[] }).experiments.find((x) => x.id === a.id)!.state, 'approved');
    // a follow-up names the experiment it supersedes: both change
    const vb2 = svc.state.experimentVersion(b.id);
    const c = await svc.propose(agent, { title: 'third', rationale: 'r', command: 'run', resources: RES, taskMode: 'normal', commit: SHA('c'), supersedes: b.id });
    assert.notEqual(svc.state.experimentVersion(b.id), vb2);
    same();
    assert.equal(listExperimentsJson(ctx, agent, { state: 'superseded' }), JSON.stringify(listExperiments(ctx, agent, { state: 'superseded' })));
    assert.match(listExperimentsJson(ctx, agent, {}), new RegExp(c.id));
    // an agent never lists another's
    assert.throws(() => listExperimentsJson(ctx, agent, { agentId: 'aar-2' }), /only list their own/);
  });

  it('keeps a per-experiment history and an audit trail of decisions, newest first', async () => {
    const a = await propose('aar-1', SHA('a'));
    await svc.comment(HUMAN, a.id, { file: 'x.py', line: 3, body: 'why?' });
    await svc.approve(HUMAN, a.id, { ...a, note: 'ok' });
    const x = svc.state.experiment(a.id)!;
    assert.deepEqual(x.history.map((h) => h.type), ['experiment.proposed', 'review.commented', 'experiment.approved']);
    const audit = svc.state.auditTrail(3);
    assert.equal(audit[0]!.type, 'experiment.approved');
    assert.match(audit[0]!.summary, new RegExp(`approved ${a.id}: ok`));
    assert.equal(audit[0]!.hash.length, 64);
  });

  it('round-trips through a snapshot to an identical projection', async () => {
    const a = await propose('aar-1', SHA('a'));
    await svc.approve(HUMAN, a.id, a);
    await svc.post(agentActor('aar-2'), { title: 'finding', summary: 's', metrics: { pgr: 0.4 } });
    await svc.markViewed(HUMAN, a.id, 'x.py', true);
    const copy = FleetState.fromJSON(JSON.parse(JSON.stringify(svc.state.toJSON())));
    assert.deepEqual(JSON.parse(JSON.stringify(copy.toJSON())), JSON.parse(JSON.stringify(svc.state.toJSON())));
    assert.ok(copy.viewed.get(a.id)!.has('x.py'));
  });

  it('sorts forum threads by new, top and discussed', async () => {
    const p1 = await svc.post(agentActor('aar-1'), { title: 'one', summary: 's' });
    const p2 = await svc.post(agentActor('aar-1'), { title: 'two', summary: 's' });
    await svc.vote(agentActor('aar-2'), p1.id, 'up');
    await svc.commentOnPost(HUMAN, p2.id, 'hmm');
    await svc.commentOnPost(HUMAN, p2.id, 'hmm again');
    assert.deepEqual(svc.state.threads('new').map((p) => p.title), ['two', 'one']);
    assert.deepEqual(svc.state.threads('top').map((p) => p.title), ['one', 'two']);
    assert.deepEqual(svc.state.threads('discussed').map((p) => p.title), ['two', 'one']);
  });
});
