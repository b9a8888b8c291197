// End to end over real HTTP with real processes: an agent commits a training script, proposes, a human
// approves, the hub's dispatcher runs the pinned commit on the default local runner, the job evaluates its
// predictions with its job-scoped token, and the experiment ends `scored` with a verified leaderboard entry.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Experiment } from '../../../src/core/model';
import { generateSyntheticDataset, itemsPath } from '../../../src/evaluation/datasets';
import { TokenStore, readTokenFile } from '../../../src/hub/auth';
import { HubClient, HubError } from '../../../src/hub/client';
import { createFleet } from '../../../src/hub/fleetSetup';
import { type Hub, startHub } from '../../../src/hub/server';
import { Sandbox } from '../../../src/git/sandbox';

const DATASET = 'syn';
const FAKE_SECRET = 'sk-ant-fake-secret-for-dispatch-test';

/**
 * The job (confined: it holds no token; the run's API proxy adds it): predicts from the first feature and
 * evaluates. With `--probe` it then probes what else it can reach through the proxy, and the hub directly.
 * Prints one `RESULT <json>` line (env key names only, never values). With `--wait`, first waits for a `go`
 * file in its working directory (lets a test restart the hub while the job runs).
 */
const PROBE_JS = `  out.direct = await fetch(hubUrl + '/api/fleet').then((r) => 'reached ' + r.status, (e) => 'failed ' + (e.cause && e.cause.code));
  out.other = (await call('GET', '/api/experiments/x-999')).status;
  out.propose = await call('POST', '/api/experiments', { commit: 'a'.repeat(40), command: 'x', title: 't', rationale: 'r', resources: { gpus: 0, gpuHours: 1, timeLimitMinutes: 1 }, taskMode: 'normal' });
  out.fleet = (await call('GET', '/api/fleet')).status;
  out.inbox = (await call('GET', '/api/inbox')).status;
  out.mcp = (await call('POST', '/mcp', { jsonrpc: '2.0', id: 1, method: 'tools/list' })).status;
`;
const TRAIN_JS = `
const fs = require('node:fs');
const [itemsFile, mode, hubUrl] = process.argv.slice(2);
const url = process.env.OVERSEER_EVAL_URL;
const auth = { 'content-type': 'application/json' };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function call(method, p, body) {
  const r = await fetch(url + p, { method, headers: auth, body: body === undefined ? undefined : JSON.stringify(body) });
  let j = null;
  try { j = await r.json(); } catch {}
  return { status: r.status, body: j };
}
(async () => {
  if (mode === '--wait') {
    for (let i = 0; i < 600 && !fs.existsSync('go'); i++) await sleep(50);
  }
  const items = fs.readFileSync(itemsFile, 'utf8').trim().split('\\n').map((l) => JSON.parse(l));
  const predictions = items.map((it) => (it.features[0] > 0 ? 1 : 0));
  const out = { envKeys: Object.keys(process.env).sort(), evalUrl: url };
  out.evaluate = await call('POST', '/api/evaluate-predictions', { predictions, dataset: '${DATASET}', split: 'test' });
  const me = process.env.OVERSEER_EXPERIMENT_ID;
  out.own = (await call('GET', '/api/experiments/' + me)).status;
  out.share = (await call('POST', '/api/findings/share', { summary: 'job result', run_id: me })).status;
  if (mode !== '--probe') {
    console.log('RESULT ' + JSON.stringify(out));
    process.exit(out.evaluate.status === 200 ? 0 : 3);
  }
%PROBE%  console.log('RESULT ' + JSON.stringify(out));
  process.exit(out.evaluate.status === 200 ? 0 : 3);
})().catch((e) => { console.error(e); process.exit(2); });
`;
/** The job's source: the probing part only in the probing run (a run's code is screened: probe code in an honest
 * run's commit flags it, and a flagged result awaits a human's acceptance). */
const jobSource = (probe: boolean) => TRAIN_JS.replace('%PROBE%', probe ? PROBE_JS : '');

interface JobResult {
  envKeys: string[];
  evalUrl: string;
  evaluate: { status: number; body: Record<string, unknown> };
  own: number;
  other?: number;
  propose?: { status: number; body: { error?: { code: string; message: string } } };
  fleet?: number;
  inbox?: number;
  mcp?: number;
  share: number;
  direct?: string;
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 45_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function jobResult(log: string): JobResult {
  const line = log.split('\n').find((l) => l.startsWith('RESULT '));
  assert.ok(line, `no RESULT line in the job log:\n${log}`);
  return JSON.parse(line.slice('RESULT '.length)) as JobResult;
}

async function readWholeLog(c: HubClient, id: string): Promise<string> {
  let text = '';
  let offset = 0;
  for (let i = 0; i < 100; i++) {
    const r = await c.runLog(id, offset);
    text += r.text;
    if (r.nextOffset === offset || r.eof) break;
    offset = r.nextOffset;
  }
  return text;
}

describe('hub dispatch + job-scoped evaluation (end to end)', function () {
  this.timeout(120_000);
  let dir: string;
  let hub: Hub | undefined;
  let human: HubClient;
  let agent: HubClient;
  let savedKey: string | undefined;

  async function open(port?: number, publicUrl?: string): Promise<Hub> {
    hub = await startHub({ fleetDir: dir, dispatch: true, port, publicUrl });
    human = new HubClient(hub.url, hub.createToken({ kind: 'human', id: 'alice' }));
    agent = new HubClient(hub.url, hub.createToken({ kind: 'agent', id: 'aar-1' }));
    return hub;
  }

  /** The experiment once its run ended (a score is recorded right after `succeeded`: wait for the hub). */
  async function runEnd(id: string): Promise<Experiment> {
    await waitFor('the run to end', () => (['succeeded', 'scored', 'failed', 'cancelled', 'timed_out'].includes(hub!.service.state.experiment(id)!.state) ? true : undefined));
    await hub!.idle();
    return hub!.service.state.experiment(id)!;
  }

  /** One seed job: these tests are about one job's run (seed jobs: seedJobs.test.ts). */
  async function proposeAndApprove(mode = ''): Promise<Experiment> {
    const sb = new Sandbox(path.join(dir, 'repos', 'aar-1'));
    const commit = await sb.commitFiles({ 'train.js': jobSource(mode === '--probe') }, 'train on the first feature');
    const items = itemsPath(path.join(dir, 'datasets'), DATASET, 'test');
    const command = `${JSON.stringify(process.execPath)} train.js ${JSON.stringify(items)} ${mode || '--'} ${hub!.url}`;
    const x = await agent.propose({ commit, command, title: 'first-feature baseline', rationale: 'sanity run', resources: { gpus: 0, gpuHours: 1, timeLimitMinutes: 5 }, taskMode: 'normal', seeds: 1 });
    await hub!.service.idle();
    await human.approve(x.id, { commit: x.commit, tree: x.tree, note: 'ok' });
    return x;
  }

  beforeEach(async () => {
    savedKey = process.env.ANTHROPIC_API_KEY;
    process.env.ANTHROPIC_API_KEY = FAKE_SECRET;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-dispatch-'));
    await createFleet(dir, { name: 'dispatch-fleet', agents: [{ id: 'aar-1', direction: 'baselines' }] });
    // createFleet declares no runners: `dispatch: true` must still run jobs (default local runner).
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'fleet.json'), 'utf8')).runners, []);
    generateSyntheticDataset({
      dataRoot: path.join(dir, 'datasets'),
      labelsRoot: path.join(dir, 'labels'),
      name: DATASET,
      seed: 11,
      sizes: { train_label: 40, train_unlabel: 40, test: 300, heldout: 40 },
    });
  });

  afterEach(async () => {
    await hub?.close();
    hub = undefined;
    if (savedKey === undefined) delete process.env.ANTHROPIC_API_KEY;
    else process.env.ANTHROPIC_API_KEY = savedKey;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('gives jobs the public URL when one is configured (compute nodes that cannot reach the bind address)', async () => {
    const probe = (await import('node:net')).createServer();
    const port = await new Promise<number>((res) => probe.listen(0, '127.0.0.1', () => res((probe.address() as { port: number }).port)));
    await new Promise((res) => probe.close(res));
    const publicUrl = `http://localhost:${port}`;
    await open(port, publicUrl);
    const x = await proposeAndApprove();
    const done = await runEnd(x.id);
    const r = jobResult(await readWholeLog(human, x.id));
    // the run's proxy forwards to the public URL; the job itself only sees its in-sandbox forwarder
    const proxyCfg = JSON.parse(fs.readFileSync(path.join(dir, 'runs', x.id, 'proxy.json'), 'utf8')) as { upstream: string };
    assert.equal(proxyCfg.upstream, publicUrl);
    assert.notEqual(proxyCfg.upstream, hub!.url);
    assert.equal(r.evalUrl, 'http://127.0.0.1:7480');
    assert.equal(r.evaluate.status, 200, JSON.stringify(r.evaluate.body));
    assert.equal(done.state, 'scored');
  });

  it('runs the approved commit, evaluates with a scoped token, scores and ranks it verified', async () => {
    await open();
    const x = await proposeAndApprove();
    const done = await runEnd(x.id);
    const log = await readWholeLog(human, x.id);
    assert.equal(done.state, 'scored', `state ${done.state} (${done.run?.reason ?? ''})\n${log}`);
    const r = jobResult(log);

    // The job saw its proxy's URL and no token, and nothing of the hub's secrets.
    assert.equal(r.evalUrl, 'http://127.0.0.1:7480');
    assert.ok(r.envKeys.includes('OVERSEER_EVAL_URL') && !r.envKeys.includes('OVERSEER_TOKEN'), r.envKeys.join(','));
    assert.ok(!r.envKeys.includes('ANTHROPIC_API_KEY'), r.envKeys.join(','));
    assert.ok(!log.includes(FAKE_SECRET));

    // What the run may do through its proxy (which adds the scoped token).
    assert.equal(r.evaluate.status, 200, JSON.stringify(r.evaluate.body));
    assert.equal((r.evaluate.body.release as { mode: string }).mode, 'run');
    assert.equal(r.own, 200);
    assert.ok(r.share === 200 || r.share === 201, `share: ${r.share}`);
    assert.equal(done.run!.report!.violations, 0, done.run!.report!.summary);
    assert.match(log, /overseer run report: no violations/);

    // The line screener takes the job's wait loop beside its evaluation call for a probing loop (a critical false
    // alarm), so the result awaits a human's acceptance; a human who has seen it accepts it, naming the false alarm.
    assert.equal(done.verification?.status, 'awaiting_acceptance', JSON.stringify(done.verification));
    const alarm = done.screening!.findings.find((f) => f.severity === 'critical')!;
    await human.acceptResult(x.id, { reason: 'one evaluation call; the loop only waits', falseAlarms: [{ kind: alarm.kind, file: alarm.file, line: alarm.line, why: 'a wait loop, no perturbed predictions' }] });
    await hub!.idle();

    // The score is the run's verified evaluation, pointing at its eval.query event.
    const score = hub!.service.state.experiment(x.id)!.score!;
    assert.equal(score.verified, true);
    assert.equal(score.dataset, DATASET);
    assert.equal(score.split, 'test');
    assert.equal(score.transferAcc, r.evaluate.body.transfer_acc);
    const events = await hub!.service.ledger.readAfter(0);
    const q = events.find((e) => e.seq === score.evalSeq);
    assert.ok(q && q.type === 'eval.query', 'evalSeq names the eval.query event');
    assert.equal(q.data.experimentId, x.id);
    assert.equal(q.data.runId, done.run!.jobId);
    const scored = events.find((e) => e.type === 'experiment.scored' && e.data.experimentId === x.id)!;
    assert.deepEqual(scored.actor, { kind: 'system', id: 'overseer' });

    // Leaderboard: a verified entry for this experiment.
    const lb = (await agent.leaderboard({ dataset: DATASET })) as unknown as { experiments: { experiment_id?: string; verified: boolean; transfer_acc: number | null }[] };
    const entry = lb.experiments.find((e) => e.experiment_id === x.id);
    assert.ok(entry, JSON.stringify(lb));
    assert.equal(entry.verified, true);
    assert.equal(entry.transfer_acc, r.evaluate.body.transfer_acc);

    // The job token (held by the host-side proxy, 0600) was stored hashed with its scope, and is revoked now that the run ended.
    const tokenFile = path.join(dir, 'runs', x.id, 'job.token');
    assert.equal(fs.statSync(tokenFile).mode & 0o777, 0o600);
    const token = fs.readFileSync(tokenFile, 'utf8');
    assert.match(token, /^ovs_/);
    const tf = fs.readFileSync(path.join(dir, 'tokens.json'), 'utf8');
    assert.ok(!tf.includes(token.split('_').slice(2).join('_')), 'secret not stored');
    const rec = readTokenFile(path.join(dir, 'tokens.json')).tokens.find((t) => t.scope?.experimentId === x.id);
    assert.ok(rec && rec.revoked === true && rec.principal.id === 'aar-1');
    await assert.rejects(new HubClient(hub!.url, token).getExperiment(x.id), (e: unknown) => e instanceof HubError && e.status === 401);

    // An ordinary agent token cannot bind an evaluation to a run: it is never verified.
    const items = fs.readFileSync(itemsPath(path.join(dir, 'datasets'), DATASET, 'test'), 'utf8').trim().split('\n');
    const adhoc = await agent.evaluatePredictions({ predictions: items.map(() => 1), dataset: DATASET, split: 'test', run_id: done.run!.jobId });
    assert.equal((adhoc as unknown as { release: { mode: string } }).release.mode, 'ladder');

    // Run log: the tail via a negative offset is the end of the whole log.
    const tail = await human.runLog(x.id, -40);
    assert.equal(tail.text, log.slice(-tail.text.length));
    assert.ok(tail.text.length > 0 && tail.text.length <= 40);
    assert.equal(tail.nextOffset, tail.size);
  });

  it('a run that probes other routes is refused by its proxy, reported, and its score is not verified', async () => {
    await open();
    const x = await proposeAndApprove('--probe');
    const done = await runEnd(x.id);
    const log = await readWholeLog(human, x.id);
    const r = jobResult(log);
    assert.equal(r.evaluate.status, 200, JSON.stringify(r.evaluate.body));
    for (const [k, s] of Object.entries({ other: r.other, propose: r.propose!.status, fleet: r.fleet, inbox: r.inbox, mcp: r.mcp })) assert.equal(s, 403, k);
    assert.match(r.propose!.body.error!.message, /run proxy only forwards/);
    assert.match(r.direct!, /^failed /, 'the hub is not reachable except through the proxy');
    assert.equal(hub!.service.state.experimentsOf('aar-1').length, 1, 'nothing was proposed');
    // the host-side proxy's refusals are in the run report: the ledger, the log, and the score's verification
    const rep = done.run!.report!;
    assert.ok(rep.violations >= 5, rep.summary);
    const items = (rep.report as { items: { kind: string; detail: string; source: string }[] }).items;
    for (const p of ['GET /api/experiments/x-999', 'POST /api/experiments', 'GET /api/fleet', 'GET /api/inbox', 'POST /mcp']) {
      assert.ok(items.some((i) => i.kind === 'proxy_denied' && i.source === 'host' && i.detail.startsWith(p)), `${p} named in the report: ${JSON.stringify(items)}`);
    }
    assert.match(log, /VIOLATION \[host\] proxy_denied \(blocked\): POST \/api\/experiments/);
    assert.equal(done.state, 'scored');
    assert.equal(done.score!.verified, false);
    assert.match(String(done.score!.unverifiedReason), /run report: .*proxy_denied/);
    assert.ok(hub!.service.state.auditTrail().some((a) => a.type === 'run.report' && a.summary.includes(x.id)), 'an audit (attention) entry');
    // the leaderboard does not rank it verified, and says why
    const lb = (await agent.leaderboard({ dataset: DATASET })) as unknown as { experiments: { experiment_id?: string; verified: boolean; rank: number | null; unverified_reason?: string }[] };
    const entry = lb.experiments.find((e) => e.experiment_id === x.id);
    assert.ok(entry, JSON.stringify(lb));
    assert.equal(entry.verified, false);
    assert.equal(entry.rank, null);
    assert.match(entry.unverified_reason ?? '', /run report: .*proxy_denied/);
  });

  it('a restarted hub honours the job token of a reattached running job', async () => {
    const first = await open();
    const port = first.port;
    const x = await proposeAndApprove('--wait');
    await waitFor('the job to run', () => (hub!.service.state.experiment(x.id)!.state === 'running' ? true : undefined));
    await first.close();
    hub = undefined;
    // Same port: the job was told this URL.
    await open(port);
    fs.writeFileSync(path.join(dir, 'runs', x.id, 'wt', 'go'), '');
    const done = await runEnd(x.id);
    const log = await readWholeLog(human, x.id);
    assert.equal(done.state, 'scored', `state ${done.state}\n${log}`);
    const r = jobResult(log);
    assert.equal(r.evaluate.status, 200);
    // a critical false alarm of the line screener (the wait loop) holds the result for a human's acceptance
    assert.equal(done.verification?.status, 'awaiting_acceptance');
    await human.acceptResult(x.id, { reason: 'seen: one evaluation, the loop waits for the go file' });
    assert.equal(hub!.service.state.experiment(x.id)!.score!.verified, true);
  });

  it('revokes job tokens of runs that ended while no hub listened, and refuses malformed scopes', async () => {
    const store = new TokenStore(dir);
    const { token } = store.create({ kind: 'agent', id: 'aar-1' }, { experimentId: 'x-404' });
    assert.equal(store.authenticate(`Bearer ${token}`), undefined, 'scope-unaware callers get nothing');
    assert.deepEqual(store.authenticateScoped(`Bearer ${token}`), { actor: { kind: 'agent', id: 'aar-1' }, scope: { experimentId: 'x-404' } });
    // A record whose scope was tampered into something invalid is dropped, not widened to a full token.
    const { token: t2, record } = store.create({ kind: 'agent', id: 'aar-1' }, { experimentId: 'x-1' });
    const f = path.join(dir, 'tokens.json');
    const j = JSON.parse(fs.readFileSync(f, 'utf8')) as { tokens: { id: string; scope?: unknown }[] };
    j.tokens.find((t) => t.id === record.id)!.scope = { experimentId: 42 };
    fs.writeFileSync(f, JSON.stringify(j));
    assert.equal(new TokenStore(dir).verifyScoped(t2), undefined);
    await open();
    assert.equal(hub!.tokens.verifyScoped(token), undefined, 'no such experiment: revoked at start');
    await assert.rejects(new HubClient(hub!.url, token).evaluatePredictions({ predictions: [1], dataset: DATASET }), (e: unknown) => e instanceof HubError && e.status === 401);
  });
});
