// What "verified" means, end to end over real HTTP with real confined runs: a reviewer who approves everything
// still gets no verified score from a run that exits non-zero after evaluating, from a flagged proposal whose result
// no human accepted after seeing it, or from a run that declares a laxer task mode than its fleet's.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Experiment } from '../../../src/core/model';
import { generateSyntheticDataset, itemsPath } from '../../../src/evaluation/datasets';
import { HubClient, HubError } from '../../../src/hub/client';
import { createFleet } from '../../../src/hub/fleetSetup';
import { type Hub, startHub } from '../../../src/hub/server';
import { Sandbox } from '../../../src/git/sandbox';
import { waitFor } from '../../support/wait';

const DATASET = 'syn';

/** Predicts from the first feature, evaluates through the run's proxy, then does what `mode` says. */
const JOB_JS = `
const fs = require('node:fs');
const [itemsFile, mode] = process.argv.slice(2);
(async () => {
  const items = fs.readFileSync(itemsFile, 'utf8').trim().split('\\n').map((l) => JSON.parse(l));
  const predictions = items.map((it) => (it.features[0] > 0 ? 1 : 0));
  const r = await fetch(process.env.OVERSEER_EVAL_URL + '/api/evaluate-predictions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ predictions, dataset: '${DATASET}', split: 'test' }) });
  console.log('EVAL ' + r.status);
  if (mode === '--spawn') {
    try { require('node:child_process').execFileSync('/bin/true'); console.log('SPAWNED'); } catch (e) { console.log('SPAWN REFUSED ' + e.code); }
  }
  process.exit(mode === '--fail' ? 3 : 0);
})().catch((e) => { console.error(e); process.exit(2); });
`;

/** Never run by the job: screening reads it and flags a read of the test labels. */
const FLAGGED_PY = `import json

def peek():
    with open("labels/${DATASET}/test.labels.jsonl") as f:
        return [json.loads(l)["label"] for l in f]
`;

type Entry = { experiment_id?: string; verified: boolean; status?: string; unverified_reason?: string; rank: number | null };


describe('verified scores under careless approval (real hub, real confined runs)', function () {
  this.timeout(180_000);
  let dir: string;
  let hub: Hub | undefined;
  let human: HubClient;
  let agent: HubClient;

  async function open(config: Record<string, unknown> = {}): Promise<void> {
    await createFleet(dir, { name: 'verification-fleet', agents: [{ id: 'aar-1', direction: 'baselines' }], config: { maxOpenProposals: 100, ...config } });
    generateSyntheticDataset({ dataRoot: path.join(dir, 'datasets'), labelsRoot: path.join(dir, 'labels'), name: DATASET, seed: 5, sizes: { train_label: 40, train_unlabel: 40, test: 200, heldout: 40 } });
    hub = await startHub({ fleetDir: dir, dispatch: true });
    human = new HubClient(hub.url, hub.createToken({ kind: 'human', id: 'alice' }));
    agent = new HubClient(hub.url, hub.createToken({ kind: 'agent', id: 'aar-1' }));
  }

  /** Commit, propose (as the agent declares), and approve at the pin shown, as a careless reviewer does. */
  async function approveEverything(mode: string, files: Record<string, string> = {}, taskMode: 'normal' | 'no-testing' = 'normal'): Promise<Experiment> {
    const sb = new Sandbox(path.join(dir, 'repos', 'aar-1'));
    const commit = await sb.commitFiles({ 'job.js': JOB_JS, ...files }, `job ${mode}`);
    const items = itemsPath(path.join(dir, 'datasets'), DATASET, 'test');
    const x = await agent.propose({ commit, command: `${JSON.stringify(process.execPath)} job.js ${JSON.stringify(items)} ${mode}`, title: `job ${mode}`, rationale: 'r', resources: { gpus: 0, gpuHours: 1, timeLimitMinutes: 5 }, taskMode, seeds: 1 });
    await hub!.service.idle();
    await human.approve(x.id, { commit: x.commit, tree: x.tree });
    return x;
  }

  async function ended(id: string): Promise<Experiment> {
    // a run that evaluated and succeeded is scored right after it ends: wait for that too
    await waitFor('the run to end', () => (['scored', 'failed', 'cancelled', 'timed_out'].includes(hub!.service.state.experiment(id)!.state) ? true : undefined));
    await hub!.idle();
    return hub!.service.state.experiment(id)!;
  }

  async function entry(id: string): Promise<Entry> {
    const lb = (await human.leaderboard({ dataset: DATASET })) as unknown as { experiments: Entry[] };
    const e = lb.experiments.find((q) => q.experiment_id === id);
    assert.ok(e, `no leaderboard entry for ${id}: ${JSON.stringify(lb)}`);
    return e;
  }

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-verify-'));
  });
  afterEach(async () => {
    await hub?.close();
    hub = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a clean run is verified; a run that evaluates and then exits non-zero is not, and says why', async () => {
    await open();
    const ok = await approveEverything('--ok');
    const bad = await approveEverything('--fail');
    const a = await ended(ok.id);
    const b = await ended(bad.id);
    assert.equal(a.state, 'scored', a.run?.reason);
    assert.equal(b.state, 'failed');
    const ea = await entry(ok.id);
    assert.equal(ea.verified, true);
    assert.equal(ea.status, 'verified');
    assert.equal(ea.rank, 1);
    const eb = await entry(bad.id);
    assert.equal(eb.verified, false, 'the failed run evaluated, but its score is not verified');
    assert.equal(eb.status, 'unverified');
    assert.match(eb.unverified_reason ?? '', /run failed \(exit 3\)/);
    assert.equal(eb.rank, null);
  });

  it('a flagged proposal runs when approved, awaits acceptance after its result, and only a human accepts it', async () => {
    await open();
    const x = await approveEverything('--ok', { 'tools/peek.py': FLAGGED_PY });
    const seen = hub!.service.state.experiment(x.id)!;
    assert.equal(seen.screening?.gaming, true, JSON.stringify(seen.screening?.findings.map((f) => [f.kind, f.severity])));
    const done = await ended(x.id);
    assert.equal(done.state, 'scored', done.run?.reason);
    const before = await entry(x.id);
    assert.equal(before.status, 'awaiting_acceptance');
    assert.equal(before.verified, false);
    assert.match(before.unverified_reason ?? '', /accept the result/);
    assert.equal((await human.getExperiment(x.id)).verification?.status, 'awaiting_acceptance');

    // agents (and job tokens) cannot accept; bad bodies get a clear error and change nothing
    await assert.rejects(agent.acceptResult(x.id, { reason: 'trust me' }), (e: unknown) => e instanceof HubError && e.status === 403);
    await assert.rejects(human.acceptResult(x.id, { reason: '' }), (e: unknown) => e instanceof HubError && e.status === 400);
    await assert.rejects(human.acceptResult(x.id, { reason: 'ok', falseAlarms: [{ kind: 'nope', file: 'x', line: 1, why: 'w' }] }), (e: unknown) => e instanceof HubError && e.status === 400);
    await assert.rejects(human.acceptResult('exp-999', { reason: 'ok' }), (e: unknown) => e instanceof HubError && e.status === 404);
    assert.equal((await entry(x.id)).status, 'awaiting_acceptance');

    const f = seen.screening!.findings.find((q) => q.severity === 'critical' || q.severity === 'high')!;
    const accepted = await human.acceptResult(x.id, { reason: 'peek.py is never run by the command', falseAlarms: [{ kind: f.kind, file: f.file, line: f.line, why: 'dead code' }] });
    assert.equal(accepted.verification?.status, 'verified');
    const after = await entry(x.id);
    assert.equal(after.status, 'verified');
    assert.equal(after.verified, true);
    await assert.rejects(human.acceptResult(x.id, { reason: 'twice' }), (e: unknown) => e instanceof HubError && e.status === 409);
  });

  it("the fleet's no-testing mode confines a run whose proposal declares normal, and screening says so", async () => {
    await open({ tasks: { 'code-gen': { mode: 'no-testing' } } });
    const x = await approveEverything('--spawn', {}, 'normal');
    const seen = hub!.service.state.experiment(x.id)!;
    assert.ok(seen.screening?.findings.some((f) => f.kind === 'task-mode-laxer'), JSON.stringify(seen.screening?.findings));
    const done = await ended(x.id);
    const rep = done.run?.report;
    assert.ok(rep, 'the run has a report');
    assert.equal((rep.report as { taskMode?: string }).taskMode, 'no-testing');
    const kinds = (rep.report as { items: { kind: string }[] }).items.map((i) => i.kind);
    assert.ok(kinds.includes('exec_blocked'), `the spawn was refused by the no-testing filter: ${rep.summary}`);
    assert.notEqual(done.score?.verified, true);
  });
});
