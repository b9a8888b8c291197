// Run-bound label extraction against the real hub over HTTP with the real ledger: each "run" is a proposal
// an agent made, a human approved over the API, the hub recorded as dispatched and running (the dispatcher's
// part, played by the test so that no job process is needed), and whose job-scoped token evaluates.
// A probing alert suspends the agent's evaluation until a human resumes it; the state is a fold of the ledger.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateSyntheticDataset } from '../../../src/evaluation/datasets';
import { HubClient, HubError } from '../../../src/hub/client';
import { evalCommand } from '../../../src/cli/eval';
import { createFleet } from '../../../src/hub/fleetSetup';
import { type Hub, startHub } from '../../../src/hub/server';
import { Sandbox } from '../../../src/git/sandbox';
import type { Oracle } from '../../fixtures/evaluation/attackers';
import { type NewRun, type RunAttackResult, runFlips, targetedAccuracy } from '../../fixtures/evaluation/runAttackers';

const DATASET = 'syn';
const N = 400;
const AGENT = 'aar-1';

interface EvalStatusBody {
  agents: { agentId: string; suspended: { reason: string; dataset: string; seq: number } | null; lastResumed: { by: string; note?: string } | null }[];
}

async function expectHttp(p: Promise<unknown>, status: number, code?: string, msg?: RegExp): Promise<HubError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof HubError, String(err));
    assert.equal(err.status, status, err.message);
    if (code) assert.equal(err.code, code, err.message);
    if (msg) assert.match(err.message, msg);
    return err;
  }
  assert.fail(`expected HTTP ${status}`);
}

describe('run-bound evaluation over HTTP: extraction, suspension, human resume', function () {
  this.timeout(120_000);
  let dir: string;
  let hub: Hub | undefined;
  let human: HubClient;
  let agent: HubClient;
  let labels: number[];
  let k = 0;

  async function open(): Promise<Hub> {
    hub = await startHub({ fleetDir: dir, noSync: true });
    human = new HubClient(hub.url, hub.createToken({ kind: 'human', id: 'alice' }));
    agent = new HubClient(hub.url, hub.createToken({ kind: 'agent', id: AGENT }));
    return hub;
  }

  /** Propose (agent) → approve (human, HTTP) → dispatched + running (hub) → a job token for the run. */
  async function approvedRun(): Promise<{ experimentId: string; job: HubClient }> {
    const h = hub!;
    const sb = new Sandbox(path.join(dir, 'repos', AGENT));
    const commit = await sb.commitFiles({ 'train.py': `print("run ${++k}")\n` }, `run ${k}`);
    const x = await agent.propose({ commit, command: 'python train.py', title: `run ${k}`, rationale: 'sweep', resources: { gpus: 0, gpuHours: 1, timeLimitMinutes: 5 }, taskMode: 'normal' });
    await h.service.idle();
    // one seed job, recorded as the dispatcher records it; its token is scoped to (experiment, seed job 0)
    await human.approve(x.id, { commit: x.commit, tree: x.tree, note: 'ok', seeds: 1 });
    await h.service.markJobDispatched(x.id, { index: 0, seed: 1000 + k, runner: 'local', jobId: `job-${k}`, commit: x.commit, tree: x.tree });
    await h.service.markJobRunning(x.id, 0, `job-${k}`);
    const { token } = h.tokens.create({ kind: 'agent', id: AGENT }, { experimentId: x.id, job: 0 });
    return { experimentId: x.id, job: new HubClient(h.url, token) };
  }

  const newRun: NewRun = async () => {
    const { job } = await approvedRun();
    const oracle: Oracle = async (preds) => {
      try {
        const r = await job.evaluatePredictions({ predictions: preds, dataset: DATASET, split: 'test' });
        assert.equal((r as unknown as { release: { mode: string } }).release.mode, 'run');
        return { correct: r.correct as number, transferAcc: r.transfer_acc as number, newBest: (r as unknown as { release: { new_best: boolean } }).release.new_best };
      } catch (err) {
        if (err instanceof HubError && (err.status === 403 || err.status === 429)) return null;
        throw err;
      }
    };
    return oracle;
  };

  function report(name: string, r: RunAttackResult): { targeted: number; all: number } {
    const t = targetedAccuracy(r.guess, labels, r.targeted);
    const all = targetedAccuracy(r.guess, labels, labels.keys()).accuracy;
    process.stdout.write(
      `      [HTTP run-bound ${name}] ${r.runs} runs, ${r.queries} queries${r.refused ? ' (then refused)' : ''}: ` +
        `${(100 * t.accuracy).toFixed(1)}% of ${t.items} targeted (${t.guessed} guessed), ${(100 * all).toFixed(1)}% of all ${labels.length}\n`,
    );
    return { targeted: t.accuracy, all };
  }

  const status = async () => ((await human.evaluationStatus()) as unknown as EvalStatusBody).agents.find((a) => a.agentId === AGENT)!;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-runprobe-'));
    await createFleet(dir, { name: 'probe-fleet', agents: [{ id: AGENT, direction: 'baselines' }] });
    const ds = generateSyntheticDataset({
      dataRoot: path.join(dir, 'datasets'),
      labelsRoot: path.join(dir, 'labels'),
      name: DATASET,
      seed: 17,
      sizes: { train_label: 40, train_unlabel: 40, test: N, heldout: 40 },
    });
    labels = [...ds.labels.test];
    k = 0;
  });

  afterEach(async () => {
    await hub?.close();
    hub = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('defaults: a flip attack through runs is suspended (403 naming the reason) until a human resumes; survives restarts', async () => {
    await open();
    const r = await runFlips(N, newRun, { runs: 8, perRun: 10, group: 1 });
    const m = report('single flips, defaults', r);
    assert.equal(r.refused, true, 'the attacker was suspended');
    assert.ok(r.runs <= 2, `${r.runs} runs before the suspension`);
    assert.ok(m.targeted <= 0.55 && m.all <= 0.55);

    // Every further evaluation is refused with the reason: job token of a new run, and the agent's own token.
    const { job } = await approvedRun();
    const items = labels.map(() => 0);
    await expectHttp(job.evaluatePredictions({ predictions: items, dataset: DATASET, split: 'test' }), 403, 'evaluation_suspended', /probing suspected on syn\/test/);
    await expectHttp(agent.evaluatePredictions({ predictions: items, dataset: DATASET, split: 'train_label' }), 403, 'evaluation_suspended');
    const st = await status();
    assert.equal(st.suspended?.reason, 'probing_suspected');
    const events = await hub!.service.ledger.readAfter(0);
    const alert = events.find((e) => e.type === 'eval.probing_suspected')!;
    assert.equal(st.suspended?.seq, alert.seq);
    assert.equal((alert.data as { suspended?: boolean }).suspended, true);

    // Only a human resumes: the agent's token and a job token are refused, and nothing is recorded.
    await expectHttp(agent.resumeEvaluation(AGENT), 403);
    await expectHttp(job.resumeEvaluation(AGENT), 403);
    await expectHttp(human.resumeEvaluation('nobody'), 404);
    await expectHttp(human.resumeEvaluation('../x'), 400);
    assert.ok(!(await hub!.service.ledger.readAfter(0)).some((e) => e.type === 'eval.resumed'));

    // A restarted hub folds the suspension from the ledger.
    await hub!.close();
    await open();
    assert.ok((await status()).suspended, 'still suspended after a restart');
    await expectHttp(agent.evaluatePredictions({ predictions: items, dataset: DATASET, split: 'test' }), 403, 'evaluation_suspended');

    const resumed = (await human.resumeEvaluation(AGENT, 'looked at it: flip sweep, agent warned')) as { suspended: unknown; lastResumed: { by: string; note: string } };
    assert.equal(resumed.suspended, null);
    assert.deepEqual({ by: resumed.lastResumed.by, note: resumed.lastResumed.note }, { by: 'alice', note: 'looked at it: flip sweep, agent warned' });
    await expectHttp(human.resumeEvaluation(AGENT), 409, 'not_suspended');
    const ev = (await hub!.service.ledger.readAfter(0)).filter((e) => e.type === 'eval.resumed');
    assert.equal(ev.length, 1);
    assert.deepEqual(ev[0]!.actor, { kind: 'human', id: 'alice' });
    const audit = await human.audit(50);
    assert.ok(audit.entries.some((e) => e.type === 'eval.resumed'), 'the resumption is in the audit trail');

    // Restart again: resumed stays resumed, and evaluation works.
    await hub!.close();
    await open();
    assert.equal((await status()).suspended, null);
    const ok = await agent.evaluatePredictions({ predictions: items, dataset: DATASET, split: 'test' });
    assert.equal(ok.total, N);
  });

  it('fleet.json evaluation.freezeOnProbing false: single and group flips over several approved runs stay ≤ 55%', async () => {
    const cfg = path.join(dir, 'fleet.json');
    fs.writeFileSync(cfg, JSON.stringify({ ...JSON.parse(fs.readFileSync(cfg, 'utf8')), evaluation: { freezeOnProbing: false } }, null, 2));
    await open();
    const singles = await runFlips(N, newRun, { runs: 6, perRun: 10, group: 1 });
    const s = report('single flips, 10 per run', singles);
    const groups = await runFlips(N, newRun, { runs: 6, perRun: 3, group: 8, offset: 100 });
    const g = report('group flips (8), 3 per run', groups);
    for (const [r, m] of [[singles, s], [groups, g]] as const) {
      assert.equal(r.refused, false);
      assert.equal(r.runs, 6);
      assert.ok(m.targeted <= 0.55, `${r.attack}: ${m.targeted} of targeted`);
      assert.ok(m.all <= 0.55);
    }
    assert.equal(targetedAccuracy(singles.guess, labels, singles.targeted).guessed, 0, 'single flips never moved a run score');
    const events = await hub!.service.ledger.readAfter(0);
    const alerts = events.filter((e) => e.type === 'eval.probing_suspected');
    assert.equal(alerts.length, 1, 'the probing was still flagged');
    assert.equal((alerts[0]!.data as { suspended?: boolean }).suspended, false);
    assert.equal((await status()).suspended, null);
    // Every query was charged to the agent's budget (all run-bound, all logged).
    const queries = events.filter((e) => e.type === 'eval.query');
    assert.equal(queries.length, singles.queries + groups.queries);
    assert.ok(queries.every((e) => (e.data as { experimentId?: string }).experimentId));
    assert.equal(hub!.service.state.agent(AGENT)!.used.evalQueries, queries.length);
  });

  it('CLI: `overseer eval status` shows the suspension and `overseer eval resume` lifts it (human token only)', async () => {
    await open();
    const r = await runFlips(N, newRun, { runs: 3, perRun: 10, group: 1 });
    assert.equal(r.refused, true);
    const humanToken = hub!.createToken({ kind: 'human', id: 'bob' });
    const agentToken = hub!.createToken({ kind: 'agent', id: AGENT });
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => (out.push(String(chunk)), true)) as typeof process.stdout.write;
    try {
      assert.equal(await evalCommand(['status', '--hub', hub!.url, '--token', humanToken]), 0);
      await assert.rejects(evalCommand(['resume', AGENT, '--hub', hub!.url, '--token', agentToken]), (e: unknown) => e instanceof HubError && e.status === 403);
      assert.equal(await evalCommand(['resume', AGENT, '--hub', hub!.url, '--token', humanToken, '--note', 'checked']), 0);
      assert.equal(await evalCommand(['resume', '--hub', hub!.url, '--token', humanToken]), 1, 'no agent id');
    } finally {
      process.stdout.write = write;
    }
    assert.match(out.join(''), new RegExp(`${AGENT}\\tSUSPENDED since .* \\(probing suspected on syn/test`));
    assert.match(out.join(''), /evaluation access of aar-1 resumed/);
    assert.equal((await status()).lastResumed?.by, 'bob');
  });

  it('a malformed fleet.json evaluation section stops the hub with an error naming the field', async () => {
    const cfg = path.join(dir, 'fleet.json');
    fs.writeFileSync(cfg, JSON.stringify({ ...JSON.parse(fs.readFileSync(cfg, 'utf8')), evaluation: { freezeOnProbing: 'yes' } }));
    await assert.rejects(startHub({ fleetDir: dir, noSync: true }), /evaluation\.freezeOnProbing: .*boolean/);
  });
});
