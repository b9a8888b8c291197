// Seeds belong to the hub (issue 22), end to end over real HTTP with real confined (bubblewrap) runs: an approval
// fixes N seed jobs, the hub chooses each job's seed (OVERSEER_SEED, `{seed}`), runs each as its own job with its
// own token, and a job's evaluation is identified by its token alone: one score per seed job and split, whatever
// the request body says. The leaderboard averages over the seed jobs the approval fixed, shows identical vectors
// as duplicates, and calls an entry with a missing seed job incomplete.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Experiment } from '../../../src/core/model';
import { generateSyntheticDataset, itemsPath } from '../../../src/evaluation/datasets';
import { readTokenFile } from '../../../src/hub/auth';
import { HubClient } from '../../../src/hub/client';
import { createFleet } from '../../../src/hub/fleetSetup';
import { type Hub, startHub } from '../../../src/hub/server';
import { Sandbox } from '../../../src/git/sandbox';
import { seedJobDir } from '../../../src/runners/dispatcher';
import { waitFor } from '../../support/wait';

const DATASET = 'syn';

/**
 * `node job.js <items> <mode> <seed from {seed}> <requests>`: predicts from the first feature; its own vector flips
 * ~20% of the items chosen by the seed (mode `same`: no flips, identical in every seed job). Then it evaluates
 * `requests` times through its proxy with varied bodies: its own vector, all ones, all zeros, its complement;
 * random `run_id`, `seed`, `idea_name`, `idea_uid` (or none at all). Mode `skip2`: seed job 2 does not evaluate.
 * Prints `RESULT <json>`.
 */
const JOB_JS = `
const fs = require('node:fs');
const [itemsFile, mode, seedArg, requestsArg] = process.argv.slice(2);
const url = process.env.OVERSEER_EVAL_URL;
const seed = Number(process.env.OVERSEER_SEED);
const index = Number(process.env.OVERSEER_SEED_INDEX);
let st = seed >>> 0;
const rnd = () => ((st = (st * 1664525 + 1013904223) >>> 0) / 2 ** 32);
(async () => {
  const items = fs.readFileSync(itemsFile, 'utf8').trim().split('\\n').map((l) => JSON.parse(l));
  const base = items.map((it) => (it.features[0] > 0 ? 1 : 0));
  const own = mode === 'same' ? base : base.map((p) => (rnd() < 0.2 ? 1 - p : p));
  const vectors = [own, own.map(() => 1), own.map(() => 0), own.map((p) => 1 - p)];
  const out = { seedEnv: process.env.OVERSEER_SEED, seedArg, index, numSeeds: process.env.OVERSEER_NUM_SEEDS, responses: [] };
  const requests = mode === 'skip2' && index === 2 ? 0 : Number(requestsArg);
  for (let i = 0; i < requests; i++) {
    const body = { predictions: vectors[i % 4], dataset: '${DATASET}', split: 'test' };
    const r = rnd();
    if (r < 0.75) body.run_id = 'run-' + Math.floor(rnd() * 1e9);
    if (r < 0.5) body.seed = Math.floor(rnd() * 1e6);
    if (r < 0.25) Object.assign(body, { idea_name: 'idea-' + i, idea_uid: 'u' + Math.floor(rnd() * 1e6) });
    const res = await fetch(url + '/api/evaluate-predictions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const j = await res.json().catch(() => null);
    out.responses.push([res.status, j && j.transfer_acc, j && j.release && j.release.new_best, j && j.error && j.error.code]);
  }
  console.log('RESULT ' + JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(2); });
`;

interface JobOut {
  seedEnv: string;
  seedArg: string;
  index: number;
  numSeeds: string;
  responses: [number, number | null, boolean | null, string | null][];
}

interface Entry {
  experiment_id?: string;
  verified: boolean;
  rank: number | null;
  transfer_acc: number | null;
  transfer_acc_ci?: [number, number] | null;
  num_seeds: number;
  preliminary: boolean;
  seed_jobs?: number;
  seed_jobs_evaluated?: number;
  status?: string;
  duplicate_seeds?: number;
  seeds?: number[];
  unverified_reason?: string;
}


describe('seed jobs: the hub owns the seeds and the identity of every score (real hub, real bwrap runs)', function () {
  this.timeout(300_000);
  let dir: string;
  let hub: Hub;
  let human: HubClient;
  let agent: HubClient;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-seeds-'));
    await createFleet(dir, {
      name: 'seeds-fleet',
      agents: [{ id: 'aar-1', direction: 'baselines' }],
      budgets: { gpuHours: 100, evalQueries: 5000 },
      config: { runners: [{ name: 'local', type: 'local', maxConcurrent: 3 }], dispatch: { perAgentConcurrency: 3 } },
    });
    generateSyntheticDataset({ dataRoot: path.join(dir, 'datasets'), labelsRoot: path.join(dir, 'labels'), name: DATASET, seed: 5, sizes: { train_label: 40, train_unlabel: 40, test: 300, heldout: 40 } });
    hub = await startHub({ fleetDir: dir, dispatch: true });
    human = new HubClient(hub.url, hub.createToken({ kind: 'human', id: 'alice' }));
    agent = new HubClient(hub.url, hub.createToken({ kind: 'agent', id: 'aar-1' }));
  });

  afterEach(async () => {
    await hub?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Propose job.js in `mode` asking for `seeds` seed jobs; approve (optionally changing the number); wait for the end. */
  async function run(mode: string, requests: number, seeds: number, approveSeeds?: number): Promise<{ x: Experiment; jobs: JobOut[] }> {
    const sb = new Sandbox(path.join(dir, 'repos', 'aar-1'));
    const commit = await sb.commitFiles({ 'job.js': JOB_JS }, `job ${mode}`);
    const items = itemsPath(path.join(dir, 'datasets'), DATASET, 'test');
    const command = `${JSON.stringify(process.execPath)} job.js ${JSON.stringify(items)} ${mode} {seed} ${requests}`;
    const p = await agent.propose({ commit, command, title: `seeds ${mode}`, rationale: 'seed jobs', resources: { gpus: 0, gpuHours: 0.5, timeLimitMinutes: 5 }, taskMode: 'normal', num_seeds: seeds });
    assert.equal(p.seeds, seeds);
    await hub.service.idle();
    const approved = await human.approve(p.id, { commit: p.commit, tree: p.tree, ...(approveSeeds ? { seeds: approveSeeds } : {}) });
    assert.equal(approved.seedJobs, approveSeeds ?? seeds);
    await waitFor('the experiment to end', () => (['succeeded', 'scored', 'failed', 'cancelled', 'timed_out'].includes(hub.service.state.experiment(p.id)!.state) ? true : undefined));
    await hub.idle();
    const x = hub.service.state.experiment(p.id)!;
    const jobs: JobOut[] = [];
    for (let k = 0; k < x.seedJobs!; k++) {
      const log = fs.readFileSync(path.join(seedJobDir(dir, x.id, k), 'job.log'), 'utf8');
      // the hub serves each seed job's log
      const served = await human.runLog(x.id, 0, k);
      assert.equal(served.text, log.slice(0, served.text.length));
      const line = log.split('\n').find((l) => l.startsWith('RESULT '));
      assert.ok(line, `seed job ${k} printed no RESULT:\n${log}`);
      jobs.push(JSON.parse(line.slice(7)) as JobOut);
    }
    return { x, jobs };
  }

  async function entryOf(id: string): Promise<Entry> {
    const lb = (await agent.leaderboard({ dataset: DATASET })) as unknown as { experiments: Entry[] };
    const e = lb.experiments.find((q) => q.experiment_id === id);
    assert.ok(e, JSON.stringify(lb));
    return e;
  }

  it('1,002 evaluation requests with varied bodies from 3 seed jobs give exactly one score per seed job and split; seeds are the hub’s', async () => {
    const { x, jobs } = await run('vary', 334, 4, 3); // the agent asked for 4; the human fixed 3
    assert.equal(x.state, 'scored', `${x.state}: ${x.run?.reason}`);
    const events = await hub.service.ledger.readAfter(0);
    const dispatched = events.filter((e) => e.type === 'run.job_dispatched' && e.data.experimentId === x.id) as Array<{ data: { index: number; seed: number; jobId: string } }>;
    assert.deepEqual(dispatched.map((e) => e.data.index).sort(), [0, 1, 2]);
    const seedOf = new Map(dispatched.map((e) => [e.data.index, e.data.seed]));
    assert.equal(new Set(seedOf.values()).size, 3, 'a different seed for every job');
    let total = 0;
    const scores: number[] = [];
    for (const j of jobs) {
      // OVERSEER_SEED and the substituted {seed} are the seed the ledger recorded for this job
      assert.equal(Number(j.seedEnv), seedOf.get(j.index));
      assert.equal(j.seedArg, j.seedEnv);
      assert.equal(j.numSeeds, '3');
      assert.equal(j.responses.length, 334);
      total += j.responses.length;
      assert.ok(j.responses.every((r) => r[0] === 200), JSON.stringify(j.responses.find((r) => r[0] !== 200)));
      const released = new Set(j.responses.map((r) => r[1]));
      assert.equal(released.size, 1, `seed job ${j.index}: one score, got ${[...released].join(', ')}`);
      assert.deepEqual(j.responses.map((r) => r[2]), [true, ...Array(333).fill(false)], 'the first fixes it; the rest repeat it with new_best false');
      scores.push(j.responses[0]![1]!);
    }
    assert.equal(total, 1002);
    // the ledger: every query bound to its seed job by the token; the body's run_id stored, never the identity
    const queries = events.filter((e) => e.type === 'eval.query' && e.data.experimentId === x.id) as unknown as Array<{ data: { job?: number; seed?: number; runId?: string; clientRunId?: string; released: { new_best: boolean } } }>;
    assert.equal(queries.length, 1002);
    for (const q of queries) {
      assert.ok(q.data.job !== undefined && q.data.seed === seedOf.get(q.data.job));
      assert.equal(q.data.runId, dispatched.find((d) => d.data.index === q.data.job)!.data.jobId);
    }
    assert.ok(queries.filter((q) => q.data.clientRunId).length > 500, 'client run ids are stored');
    assert.ok(queries.filter((q) => (q.data as { clientSeed?: string }).clientSeed).length > 300, 'client seeds are stored');
    assert.ok(queries.filter((q) => (q.data as { ideaName?: string }).ideaName).length > 100, 'idea names are stored');
    assert.equal(queries.filter((q) => q.data.released.new_best).length, 3);
    // per-job tokens: one per seed job, scoped to (experiment, job), all revoked now
    const toks = readTokenFile(path.join(dir, 'tokens.json')).tokens.filter((t) => t.scope?.experimentId === x.id);
    assert.deepEqual(toks.map((t) => t.scope!.job).sort(), [0, 1, 2]);
    assert.ok(toks.every((t) => t.revoked));
    // the leaderboard: mean over the 3 seed jobs the approval fixed
    const e = await entryOf(x.id);
    // one score per seed job; the 999 other vectors the jobs sent after their score are probes: the entry is demoted
    assert.equal(e.verified, false);
    assert.equal(e.status, 'unverified');
    assert.match(e.unverified_reason ?? '', /seed jobs submitted \d+ further prediction vector\(s\) after their score/);
    assert.equal(e.seed_jobs, 3);
    assert.equal(e.seed_jobs_evaluated, 3);
    assert.equal(e.num_seeds, 3);
    assert.equal(e.duplicate_seeds, 0);
    assert.deepEqual(e.seeds, [0, 1, 2].map((k) => seedOf.get(k)));
    assert.ok(Math.abs(e.transfer_acc! - scores.reduce((a, b) => a + b, 0) / 3) < 1e-4, `${e.transfer_acc} vs ${scores}`);
    // budget: 3 seed jobs × 0.5 GPU-h
    assert.equal(hub.service.state.agent('aar-1')!.used.gpuHours, 1.5);
    assert.equal(x.score!.verified, false, 'the recorded score is demoted like its entry');
    assert.match(String(x.score!.unverifiedReason), /further prediction vector/);
    assert.equal(x.score!.seedJobs, 3);
  });

  it('identical prediction vectors from different seed jobs are shown as duplicates and count once', async () => {
    const { x, jobs } = await run('same', 2, 3);
    assert.equal(x.state, 'scored');
    assert.equal(new Set(jobs.map((j) => j.responses[0]![1])).size, 1);
    const e = await entryOf(x.id);
    assert.equal(e.seed_jobs_evaluated, 3);
    assert.equal(e.duplicate_seeds, 2, 'three seeds, one vector');
    assert.equal(e.num_seeds, 1, 'one independent result');
    assert.equal(e.verified, false, 'a result that does not vary with the seed is not verified');
    assert.match(e.unverified_reason ?? '', /2 seed job\(s\) submitted a prediction vector identical to another seed job's/);
    assert.equal(e.preliminary, true);
    assert.equal(e.transfer_acc_ci ?? null, null, 'no zero-width CI from copies');
    assert.equal(x.score!.duplicateSeeds, 2);
  });

  it('a seed job that did not evaluate makes the entry incomplete, never verified', async () => {
    const { x } = await run('skip2', 1, 3);
    assert.equal(x.state, 'scored');
    const e = await entryOf(x.id);
    assert.equal(e.status, 'incomplete');
    assert.equal(e.seed_jobs_evaluated, 2);
    assert.equal(e.verified, false);
    assert.equal(e.rank, null);
    assert.match(e.unverified_reason ?? '', /incomplete: 2 of 3 seed jobs evaluated/);
    assert.equal(x.score!.verified, false);
    assert.match(String(x.score!.unverifiedReason), /2 of 3 seed jobs/);
  });

  it('many run_ids in one job give one score (an AAR client that sends no seed info)', async () => {
    // the measured attack: one run evaluated the test split with 4 run_ids and got 4 fresh scores
    const { x, jobs } = await run('vary', 8, 1);
    assert.equal(x.seedJobs, 1);
    const r = jobs[0]!.responses;
    assert.equal(new Set(r.map((q) => q[1])).size, 1, JSON.stringify(r));
    assert.equal(r.filter((q) => q[2]).length, 1);
    const e = await entryOf(x.id);
    assert.equal(e.num_seeds, 1);
    assert.equal(e.seed_jobs, 1);
  });
});
