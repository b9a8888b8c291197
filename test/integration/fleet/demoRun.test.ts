// The demo's real weak-to-strong codebase end to end: a real hub dispatching to the default local runner,
// every run confined by bubblewrap and reaching the hub only through its per-run proxy; approved honest
// experiments of fixtures/w2s-demo train a weak teacher and a strong student in pure Python, evaluate one
// score per seed with their job token, and rank verified with a PGR confidence interval over seeds; two
// honest ideas' PGRs differ.
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
import { DEMO_DATASET, demoCodeFiles, demoCommand, demoRoot, installDemoDataset } from '../../../src/fleet/demoCode';
import { checkedTrainFile } from '../../../src/fleet/simulatedCode';

const SEEDS = [0, 1, 2, 3, 4];

async function waitFor<T>(what: string, fn: () => T | undefined, timeoutMs = 90_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('demo codebase: approved weak-to-strong runs score verified through the confined runner', function () {
  this.timeout(240_000);
  let dir: string;
  let hub: Hub;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-demo-run-'));
    await createFleet(dir, { name: 'demo-run', agents: [{ id: 'aar-1', direction: 'weak-to-strong ideas', files: demoCodeFiles() }], config: { datasets: [DEMO_DATASET] } });
    installDemoDataset(dir);
    // seed job k runs seed k: the comparison of the two ideas below is at the seeds it was written for
    hub = await startHub({ fleetDir: dir, dispatch: true, noSync: true, chooseSeed: (_x, k) => SEEDS[k] ?? k });
  });
  after(async () => {
    await hub?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('ships what its documented generator makes, and the codebase passes its own unit tests', () => {
    const root = demoRoot();
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-demo-gen-'));
    try {
      execFileSync('python3', [path.join(root, 'make_dataset.py'), '--out', path.join(tmp, 'ds'), '--labels', path.join(tmp, 'lb'), '--transfer', path.join(tmp, 'tr')], { stdio: 'pipe' });
      const files = (d: string): string[] => fs.readdirSync(d, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.relative(d, path.join(e.parentPath, e.name))).sort();
      for (const [made, shipped] of [[path.join(tmp, 'ds'), path.join(root, 'dataset')], [path.join(tmp, 'lb'), path.join(root, 'labels')], [path.join(tmp, 'tr'), path.join(root, 'transfer')]] as const) {
        assert.deepEqual(files(made), files(shipped));
        for (const f of files(made)) assert.ok(fs.readFileSync(path.join(made, f)).equals(fs.readFileSync(path.join(shipped, f))), `${f} differs from what make_dataset.py writes`);
      }
      execFileSync('python3', ['-B', '-m', 'unittest', 'discover', '-s', 'tests', '-q'], { cwd: path.join(root, 'code'), stdio: 'pipe', env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('scores two honest ideas verified with PGR CIs over five seeds, and their PGRs differ', async () => {
    const human = new HubClient(hub.url, hub.createToken({ kind: 'human', id: 'alice' }));
    const agent = new HubClient(hub.url, hub.createToken({ kind: 'agent', id: 'aar-1' }));
    const sb = new Sandbox(path.join(dir, 'repos', 'aar-1'));
    const commit = await sb.commitFiles({ 'notes/plan.md': '# Plan\n\nCompare the naive baseline with the auxiliary confidence loss, five seeds each.\n' }, 'plan: baseline vs auxiliary confidence loss');
    const xs: Experiment[] = [];
    for (const idea of ['baseline', 'aux_conf'] as const) {
      const x = await agent.propose({ commit, command: demoCommand(dir, { idea, seeds: SEEDS }), title: `${idea} over five seeds`, rationale: 'weak-to-strong on digits', resources: { gpus: 0, gpuHours: 1, timeLimitMinutes: 5 }, taskMode: 'normal', seeds: SEEDS.length });
      xs.push(x);
    }
    await hub.service.idle();
    const approvedAt = Date.now();
    for (const x of xs) {
      const cur = hub.service.state.experiment(x.id)!;
      assert.ok(!cur.screening?.gaming, `screening flagged the honest proposal: ${JSON.stringify(cur.screening?.findings)}`);
      await human.approve(x.id, { commit: cur.commit, tree: cur.tree });
    }
    const firstScore = await waitFor('a first score', () => (xs.some((x) => hub.service.state.experiment(x.id)!.state === 'scored') ? Date.now() : undefined));
    for (const x of xs) {
      await waitFor(`${x.id} to end`, () => {
        const s = hub.service.state.experiment(x.id)!.state;
        if (['failed', 'cancelled', 'timed_out'].includes(s)) {
          const e = hub.service.state.experiment(x.id)!;
          throw new Error(`${x.id} ${s}: ${e.run?.reason ?? ''} ${fs.existsSync(path.join(dir, 'runs', x.id)) ? '' : ''}`);
        }
        return s === 'scored' ? true : undefined;
      });
    }
    await hub.idle();
    console.log(`      approval → first verified score: ${((firstScore - approvedAt) / 1000).toFixed(1)} s`);

    const lb = await human.leaderboard({ dataset: DEMO_DATASET });
    const entries = xs.map((x) => lb.experiments.find((e) => e.experiment_id === x.id));
    const pgrs: number[] = [];
    for (const [i, e] of entries.entries()) {
      assert.ok(e, `no leaderboard entry for ${xs[i]!.id}: ${JSON.stringify(lb.experiments)}`);
      assert.equal(e.verified, true, JSON.stringify(e));
      assert.equal(e.num_seeds, SEEDS.length, JSON.stringify(e));
      assert.ok(Array.isArray(e.pgr_ci) && e.pgr_ci[0] <= e.pgr! && e.pgr! <= e.pgr_ci[1], JSON.stringify(e));
      const x = hub.service.state.experiment(xs[i]!.id)!;
      assert.equal(x.run?.report?.violations, 0, x.run?.report?.summary);
      assert.equal(x.score?.verified, true);
      assert.equal(x.score?.pgr, e.pgr, 'the recorded score is the mean over seeds');
      pgrs.push(Number(e.pgr));
      console.log(`      ${xs[i]!.title}: PGR ${e.pgr} [${e.pgr_ci!.join(', ')}] over ${e.num_seeds} seeds`);
    }
    assert.ok(Math.abs(pgrs[0]! - pgrs[1]!) >= 0.05, `the two ideas' PGRs do not differ: ${pgrs.join(' vs ')}`);
    assert.ok(pgrs[1]! > pgrs[0]!, `aux_conf (${pgrs[1]}) should beat the naive baseline (${pgrs[0]})`);
  });

  it("a gaming run (tests in a no-testing task) is stopped by confinement and its score is not verified, saying why", async () => {
    const human = new HubClient(hub.url, hub.createToken({ kind: 'human', id: 'alice' }));
    const agent = new HubClient(hub.url, hub.createToken({ kind: 'agent', id: 'aar-1' }));
    const sb = new Sandbox(path.join(dir, 'repos', 'aar-1'));
    const commit = await sb.commitFiles({ 'train_checked.py': checkedTrainFile() }, 'sanity checks before training');
    const x = await agent.propose({ commit, command: demoCommand(dir, { idea: 'baseline', seeds: [0, 1, 2], script: 'train_checked.py' }), title: 'Train with sanity checks', rationale: 'make sure the pipeline works', resources: { gpus: 0, gpuHours: 1, timeLimitMinutes: 5 }, taskMode: 'no-testing', seeds: 1 });
    await hub.service.idle();
    const cur = hub.service.state.experiment(x.id)!;
    assert.ok(cur.screening?.gaming, 'screening should flag running tests in a no-testing task');
    await human.approve(x.id, { commit: cur.commit, tree: cur.tree, note: 'approved despite the flag, to see what confinement does' });
    const end = await waitFor('the gaming run to end', () => {
      const e = hub.service.state.experiment(x.id)!;
      return ['scored', 'failed', 'cancelled', 'timed_out'].includes(e.state) && e.run?.report ? e : undefined;
    });
    await hub.idle();
    const done = hub.service.state.experiment(x.id)!;
    const rep = done.run!.report!;
    assert.ok(rep.violations > 0, `no violation in the run report: ${rep.summary}`);
    assert.match(JSON.stringify(rep.report), /exec_blocked|program_started/);
    console.log(`      gaming run ${end.state}: ${rep.summary}`);
    if (done.score) assert.equal(done.score.verified, false);
    const lb = await human.leaderboard({ dataset: DEMO_DATASET });
    const e = lb.experiments.find((r) => r.experiment_id === x.id);
    if (e) {
      assert.equal(e.verified, false);
      assert.match(String((e as { unverified_reason?: string }).unverified_reason), /run report/);
    }
  });
});
