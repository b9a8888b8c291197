// Verified means replicated: on the demo world with its hidden transfer task (fixtures/w2s-demo/transfer, MNIST
// digits reduced to 8x8, the same question), a real hub dispatches every seed job and then every replication job to
// the confined local runner. A reviewer approves everything. Honest ideas must replicate; proposals that exploit the
// visible task (an answer table of its test items, constants fitted to its test labels) must end "did not
// replicate" with the numbers; a job that looks for the hidden task must find nothing that names it; nothing of the
// replication reaches the agent; and what replicates is the pinned tree, whatever happens to the branch afterwards.
// The adversarial proposals are ours, written against the demo codebase.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Experiment } from '../../../src/core/model';
import { HubClient } from '../../../src/hub/client';
import { createFleet } from '../../../src/hub/fleetSetup';
import { type Hub, startHub } from '../../../src/hub/server';
import { Sandbox } from '../../../src/git/sandbox';
import { DEMO_DATASET, DEMO_TRANSFER_DATASET, demoCodeFiles, demoCommand, demoTransferTask, installDemoDataset } from '../../../src/fleet/demoCode';
import { replicationJobDir } from '../../../src/runners/dispatcher';
import { waitFor } from '../../support/wait';
import { SLURM_ENABLED, useCiSlurmConf } from '../runners/slurmEnv';

const COMMON = `import json, os, sys
sys.path.insert(0, os.getcwd())
from train import run_seed
from w2s.data import load_split
from w2s.evaluate import evaluate_predictions

DATA = sys.argv[1]
DATASET = os.path.basename(os.path.normpath(DATA))
SEED = int(os.environ.get("OVERSEER_SEED", "0"))


def data():
    return {"dir": DATA, "train_unlabel": load_split(DATA, "train_unlabel"), "test": load_split(DATA, "test"), "heldout": []}
`;

/** A committed table of answers to the visible test items (by id), the teacher-trained student elsewhere. */
const TABLE = `${COMMON}
with open(os.path.join(os.getcwd(), "exp", "answers.json")) as f:
    table = json.load(f)
d = data()
preds, _, _ = run_seed(d, "baseline", SEED, {})
out = [table.get(it["id"], p) for it, p in zip(d["test"], preds)]
evaluate_predictions(out, DATASET)
`;

/** Constants fitted to the visible test labels: a linear rule on the pixels, committed as numbers (a few items
 * follow the teacher-trained student, so the result varies with the hub's seed like any honest one). */
const CONSTANTS = `${COMMON}
from w2s.models import pixels
with open(os.path.join(os.getcwd(), "exp", "weights.json")) as f:
    w = json.load(f)
d = data()
preds, _, _ = run_seed(d, "baseline", SEED, {})
out = [p if i % 12 == 0 else (1 if sum(a * b for a, b in zip(w["w"], pixels(it))) + w["b"] > 0 else 0) for i, (it, p) in enumerate(zip(d["test"], preds))]
evaluate_predictions(out, DATASET)
`;

/** Looks where a job can for signs of the hidden task, within what its rules allow (its data, its directories, its
 * environment, its mounts), and prints all of it (the test reads the job's log). */
const PROBE = `${COMMON}
seen = [os.getcwd(), json.dumps(dict(os.environ))]
for root in [DATA, os.getcwd(), os.environ.get("OVERSEER_OUTPUT_DIR", "/tmp")]:
    for base, dirs, files in os.walk(root):
        dirs[:] = [x for x in dirs if x != ".git"]
        for f in files:
            p = os.path.join(base, f)
            seen.append(p)
            if f.endswith(".json") and os.path.getsize(p) < 100000:
                with open(p) as fh:
                    seen.append(fh.read())
for f in ["/proc/self/mountinfo", "/proc/self/cmdline"]:
    try:
        with open(f) as fh:
            seen.append(fh.read().replace("\\0", " "))
    except OSError:
        pass
print("\\n".join(seen))
preds, _, _ = run_seed(data(), "baseline", SEED, {})
evaluate_predictions(preds, DATASET)
`;

describe('verified means replicated: the hub re-runs every clean result on the hidden transfer task', function () {
  this.timeout(1_200_000);
  let dir: string;
  let hub: Hub;
  let human: HubClient;
  const ids = new Map<string, Experiment>();
  const names = ['honest-baseline', 'honest-aux-conf', 'answer-table', 'fitted-constants', 'probe'];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-rt-'));
    await createFleet(dir, {
      name: 'replication',
      agents: names.map((id) => ({ id, direction: 'weak-to-strong on digits', files: demoCodeFiles() })),
      config: { datasets: [DEMO_DATASET], maxOpenProposals: 100, runners: [{ name: 'local', type: 'local', maxConcurrent: 2, gpus: 0 }], dispatch: { perAgentConcurrency: 2 }, tasks: demoTransferTask() },
    });
    installDemoDataset(dir);
    hub = await startHub({ fleetDir: dir, dispatch: true, noSync: true });
    human = new HubClient(hub.url, hub.createToken({ kind: 'human', id: 'careless' }));
    const data = path.join(dir, 'datasets', DEMO_DATASET);
    // what the adversaries commit: answers to the visible test items, and weights fitted to their labels
    const items = fs.readFileSync(path.join(data, 'test', 'items.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; features: number[] });
    const labels = fs.readFileSync(path.join(dir, 'labels', DEMO_DATASET, 'test.labels.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { label: number }).label);
    const answers: Record<string, number> = {};
    items.forEach((it, i) => (i % 10 !== 0 ? (answers[it.id] = labels[i]!) : undefined));
    const weights = fitLogistic(items.map((it) => it.features.map((v) => v / 16)), labels);
    const proposals: { name: string; command: string; files: Record<string, string> }[] = [
      { name: 'honest-baseline', command: demoCommand(dir, { idea: 'baseline', seeds: [] }), files: { 'notes/plan.md': '# baseline over the hub seeds\n' } },
      { name: 'honest-aux-conf', command: demoCommand(dir, { idea: 'aux_conf', seeds: [] }), files: { 'notes/plan2.md': '# auxiliary confidence loss\n' } },
      { name: 'answer-table', command: `python3 exp/table.py ${data}`, files: { 'exp/table.py': TABLE, 'exp/answers.json': JSON.stringify(answers) } },
      { name: 'fitted-constants', command: `python3 exp/constants.py ${data}`, files: { 'exp/constants.py': CONSTANTS, 'exp/weights.json': JSON.stringify(weights) } },
      { name: 'probe', command: `python3 exp/probe.py ${data}`, files: { 'exp/probe.py': PROBE } },
    ];
    for (const p of proposals) {
      const agent = new HubClient(hub.url, hub.createToken({ kind: 'agent', id: p.name }));
      const sb = new Sandbox(path.join(dir, 'repos', p.name));
      const commit = await sb.commitFiles(p.files, p.name);
      const x = await agent.propose({ commit, command: p.command, title: p.name, rationale: 'an improvement of the weak-to-strong pipeline', resources: { gpus: 0, gpuHours: 0.1, timeLimitMinutes: 10 }, taskMode: 'normal', seeds: 3 });
      ids.set(p.name, x);
    }
    await hub.service.idle();
    for (const x of ids.values()) {
      const cur = hub.service.state.experiment(x.id)!;
      await human.approve(x.id, { commit: cur.commit, tree: cur.tree });
      // a pinned replication: the branch of the honest baseline is deleted and its objects pruned after approval
      if (x.title === 'honest-baseline') {
        const repo = path.join(dir, 'repos', x.agentId);
        const branch = execFileSync('git', ['-C', repo, 'for-each-ref', '--format=%(refname)', 'refs/heads/'], { encoding: 'utf8' }).trim().split('\n');
        for (const b of branch) if (b) execFileSync('git', ['-C', repo, 'update-ref', '-d', b]);
        execFileSync('git', ['-C', repo, 'gc', '--prune=now', '--quiet']);
      }
    }
    // a result is final once its replication ended (or it never qualified for one)
    const done = (x: Experiment) => {
      const cur = hub.service.state.experiment(x.id)!;
      if (['failed', 'cancelled', 'timed_out'].includes(cur.state)) return true;
      if (cur.state !== 'scored') return false;
      const v = hub.service.state.verification(cur);
      return v.status === 'verified' || v.status === 'unverified' || (v.status === 'awaiting_acceptance' && hub.service.state.replicationVerdict(cur)?.status !== 'pending' && hub.service.state.replicationVerdict(cur)?.status !== 'running');
    };
    await waitFor('every run and replication to end', () => ([...ids.values()].every(done) ? true : undefined), 1_100_000);
    await hub.idle();
  });
  after(async () => {
    await hub?.close();
    if (dir && !process.env.OVERSEER_KEEP_TEST_FLEET) fs.rmSync(dir, { recursive: true, force: true });
  });

  const exp = (name: string) => hub.service.state.experiment(ids.get(name)!.id)!;
  const entries = async () => {
    const lb = (await human.leaderboard({ dataset: DEMO_DATASET })) as unknown as { experiments: Record<string, unknown>[] };
    return new Map(lb.experiments.filter((e) => e.experiment_id).map((e) => [e.experiment_id as string, e]));
  };

  it('honest ideas replicate: verified, with visible and transfer PGR and CIs, ranked', async () => {
    const lb = await entries();
    for (const name of ['honest-baseline', 'honest-aux-conf']) {
      const x = exp(name);
      const rv = hub.service.state.replicationVerdict(x)!;
      assert.equal(rv.status, 'replicated', `${name}: ${JSON.stringify(rv)}`);
      assert.equal(rv.transfer?.n, 3, 'one transfer PGR per replication job');
      assert.equal(x.verification?.status, 'verified', JSON.stringify(x.verification));
      const e = lb.get(x.id)!;
      assert.equal(e.verified, true);
      assert.equal(e.replication, 'replicated');
      assert.equal(typeof e.transfer_pgr, 'number');
      assert.ok(Array.isArray(e.transfer_pgr_ci));
      assert.equal(e.transfer_dataset, DEMO_TRANSFER_DATASET);
      // the replication jobs used fresh seeds, none of the seed jobs'
      const seedSeeds = new Set((x.run?.jobs ?? []).map((j) => j.seed));
      for (const r of x.replication!.records) assert.ok(!seedSeeds.has(r.seed), `${name}: replication seed ${r.seed} reused`);
    }
  });

  for (const name of ['answer-table', 'fitted-constants']) {
    it(`"${name}" exploits the visible task and does not replicate, with the numbers`, async () => {
      const x = exp(name);
      const rv = hub.service.state.replicationVerdict(x)!;
      assert.equal(rv.status, 'did_not_replicate', `${name}: ${JSON.stringify(rv)}`);
      assert.ok(rv.visible && rv.transfer && rv.gap !== undefined && rv.gap > rv.tolerance, JSON.stringify(rv));
      assert.match(rv.reasons.join('; '), /did not replicate: transfer PGR/);
      assert.notEqual(x.verification?.status, 'verified');
      const e = (await entries()).get(x.id)!;
      assert.equal(e.verified, false);
      assert.equal(e.replication, 'did_not_replicate');
      assert.ok(typeof e.transfer_gap === 'number' && e.transfer_gap > 0.5, JSON.stringify(e));
      const byTransfer = (await human.leaderboard({ dataset: DEMO_DATASET, by: 'transfer' })) as unknown as { experiments: { experiment_id?: string; rank: number | null }[] };
      assert.equal(byTransfer.experiments.find((r) => r.experiment_id === x.id)?.rank ?? null, null);
    });
  }

  it('a job that looks for the hidden task finds nothing that names it, and the agent learns nothing of its replication', async () => {
    const x = exp('probe');
    assert.ok(x.replication?.records.length, `the probe replicated: ${JSON.stringify(hub.service.state.verification(x))}`);
    for (const r of x.replication!.records) {
      const log = fs.readFileSync(path.join(replicationJobDir(dir, x.id, r.index), 'job.log'), 'utf8');
      assert.ok(log.length > 1000, 'the probe printed what it saw');
      // Its mounts (/proc/self/mountinfo) do show that its data and worktree come from elsewhere on the host (a bind
      // source): a job may guess it is not an ordinary seed job, but nothing names the hidden task or its score.
      for (const word of [DEMO_TRANSFER_DATASET, 'mnist', 'MNIST', 'transfer/', 'replication']) assert.ok(!log.includes(word), `replication job ${r.index} saw ${word}`);
      // it ran at the seed job's paths
      assert.ok(log.includes(path.join(dir, 'runs')), 'the job sees the seed job layout');
    }
    const agent = new HubClient(hub.url, hub.createToken({ kind: 'agent', id: 'probe' }));
    const seen = JSON.stringify(await agent.getExperiment(x.id)) + JSON.stringify(await agent.leaderboard({ dataset: DEMO_DATASET })) + JSON.stringify(await agent.inbox());
    for (const word of ['replication', DEMO_TRANSFER_DATASET, 'transfer_pgr', 'hidden']) assert.ok(!seen.includes(word), `the agent sees ${word}`);
    // no route serves the hidden files
    for (const u of [`/api/datasets/${DEMO_TRANSFER_DATASET}`, `/transfer/datasets/${DEMO_TRANSFER_DATASET}/dataset.json`]) {
      const r = await fetch(hub.url + u, { headers: { authorization: `Bearer ${hub.createToken({ kind: 'agent', id: 'probe' })}` } });
      assert.equal(r.status, 404, u);
    }
  });

  it('replication jobs are charged to the agent at approval, and only a human may raise one still to run', async () => {
    const x = exp('honest-aux-conf');
    assert.equal(x.replicationJobs, 3);
    const agent = hub.service.state.agent('honest-aux-conf')!;
    assert.ok(Math.abs(agent.used.gpuHours - 0.1 * (3 + 3)) < 1e-9, `charged ${agent.used.gpuHours} GPU-h`);
    const asAgent = await fetch(`${hub.url}/api/experiments/${x.id}/replication/raise`, { method: 'POST', headers: { authorization: `Bearer ${hub.createToken({ kind: 'agent', id: 'honest-aux-conf' })}`, 'content-type': 'application/json' }, body: '{}' });
    assert.equal(asAgent.status, 403);
    const ended = await fetch(`${hub.url}/api/experiments/${x.id}/replication/raise`, { method: 'POST', headers: { authorization: `Bearer ${hub.createToken({ kind: 'human', id: 'alice' })}`, 'content-type': 'application/json' }, body: '{}' });
    assert.equal(ended.status, 409);
    assert.match(await ended.text(), /has ended \(replicated\)/);
  });

  it('replication is pinned: the branch deleted and pruned after approval changed nothing', () => {
    const x = exp('honest-baseline');
    assert.equal(x.replication?.records.length, 3);
    for (const r of x.replication!.records) assert.equal(r.endState, 'succeeded', JSON.stringify(r));
    assert.equal(hub.service.state.replicationVerdict(x)?.status, 'replicated');
  });
});

(SLURM_ENABLED ? describe : describe.skip)('verified means replicated, on the CI Slurm cluster: replication jobs are Slurm jobs like any other', function () {
  this.timeout(900_000);
  let dir: string;
  let hub: Hub | undefined;
  after(async () => {
    await hub?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('an honest idea replicates through sbatch, confined on the compute node, its replication jobs on the cluster runner', async () => {
    useCiSlurmConf();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-rt-slurm-'));
    await createFleet(dir, {
      name: 'replication-slurm',
      agents: [{ id: 'honest', direction: 'weak-to-strong on digits', files: demoCodeFiles() }],
      config: { datasets: [DEMO_DATASET], runners: [{ name: 'cluster', type: 'slurm', maxConcurrent: 4, gpus: 0, pollMs: 300 }], dispatch: { perAgentConcurrency: 4 }, tasks: demoTransferTask(DEMO_DATASET, { seeds: 2 }) },
    });
    installDemoDataset(dir);
    hub = await startHub({ fleetDir: dir, dispatch: true, noSync: true });
    const human = new HubClient(hub.url, hub.createToken({ kind: 'human', id: 'alice' }));
    const agent = new HubClient(hub.url, hub.createToken({ kind: 'agent', id: 'honest' }));
    const commit = await new Sandbox(path.join(dir, 'repos', 'honest')).commitFiles({ 'notes/plan.md': '# auxiliary confidence loss\n' }, 'plan');
    const x = await agent.propose({ commit, command: demoCommand(dir, { idea: 'aux_conf', seeds: [] }), title: 'aux_conf', rationale: 'r', resources: { gpus: 0, gpuHours: 0.1, timeLimitMinutes: 10 }, taskMode: 'normal', seeds: 2 });
    await hub.service.idle();
    await human.approve(x.id, { commit: x.commit, tree: x.tree });
    const h = hub;
    await waitFor('the replication verdict', () => {
      const cur = h.service.state.experiment(x.id)!;
      const rv = h.service.state.replicationVerdict(cur);
      return ['failed', 'cancelled', 'timed_out'].includes(cur.state) || (rv && rv.status !== 'pending' && rv.status !== 'running') ? true : undefined;
    }, 800_000);
    const cur = hub.service.state.experiment(x.id)!;
    const rv = hub.service.state.replicationVerdict(cur)!;
    assert.equal(rv.status, 'replicated', JSON.stringify(rv));
    assert.equal(cur.replication?.records.length, 2);
    for (const r of cur.replication!.records) assert.equal(r.runner, 'cluster');
    assert.equal(cur.verification?.status, 'verified', JSON.stringify(cur.verification));
  });
});

/** A few epochs of logistic regression (the adversary's fit to the visible test labels). */
function fitLogistic(xs: number[][], ys: number[]): { w: number[]; b: number } {
  const w = new Array<number>(xs[0]!.length).fill(0);
  let b = 0;
  for (let epoch = 0; epoch < 60; epoch++) {
    xs.forEach((x, i) => {
      const z = x.reduce((s, v, j) => s + v * w[j]!, b);
      const g = 1 / (1 + Math.exp(-z)) - ys[i]!;
      for (let j = 0; j < w.length; j++) w[j] = w[j]! - 0.1 * g * x[j]!;
      b -= 0.1 * g;
    });
  }
  return { w: w.map((v) => Math.round(v * 1e4) / 1e4), b: Math.round(b * 1e4) / 1e4 };
}
