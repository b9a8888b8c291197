// Replays, against a real hub, the exact HTTP requests each client function of the AAR release sends (agent-side
// tools: server_api_tools, prior_work_tools, findings_sync, http_utils, utils/remote_evaluation) — through
// `overseer agent-proxy`, with no Authorization header, as that code does — and asserts that every response
// carries each field the function reads. Written from the protocol (method, path, headers, body, fields read);
// no AAR code is used.
//
// The seven client calls (function → request → fields read):
//  1. is_server_available            GET  /api/config (no headers)                     → status 200
//  2. evaluate_predictions_remote    POST /api/evaluate-predictions {predictions,dataset,split[,weak_model,strong_model]}
//                                         → raise_for_status; warnings, pgr_error (printed); whole body returned
//  3. evaluate_predictions (tool)    POST /api/evaluate-predictions {predictions,dataset,weak_model,strong_model}
//                                         → error?; transfer_acc, pgr non-null; correct, total, fixed_weak_acc, fixed_strong_acc
//  4. _auto_upload_snapshot          POST /api/snapshots/search {query:"idea_uid:U run_id:R",limit:1000}
//                                         → commits[].idea_uid, .run_id, .commit_id
//  5. share_finding (tool)           POST /api/findings/share {full field set, nulls included}
//                                         → error?; finding.id, finding.idea_name (local save); finding_id, post_id
//  6. get_leaderboard (tool)         GET  /api/leaderboard                              → experiments[]; entries[0].pgr
//  7. download_snapshot (tool)       GET  /api/snapshots/<id> (no headers)              → error?; idea_uid, run_id (truthy);
//                                         title, idea_name, pgr, files_snapshot
//  +  FindingsSync._fetch_all_findings GET /api/findings/all                            → findings[].id, .idea_name
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startAgentProxy, type AgentProxy } from '../../../src/cli/agentProxy';
import { baselinesPath, generateSyntheticDataset, simulatePredictions } from '../../../src/evaluation/datasets';
import { startHubFixture, type HubFixture } from '../../support/hubFixture';

/** AAR's http_utils DEFAULT_HEADERS (sent by its POST helper, its GET helper and the findings sync). */
const AAR_HEADERS = { 'user-agent': 'curl/8.0.0', accept: '*/*' };
const AAR_WEAK = 'Qwen/Qwen1.5-0.5B-Chat';
const AAR_STRONG = 'Qwen/Qwen3-4B-Base';

describe('AAR client replay (unchanged clients through agent-proxy)', function () {
  let fx: HubFixture;
  let ds: ReturnType<typeof generateSyntheticDataset>;
  let proxy: AgentProxy; // aar-1's
  let proxy2: AgentProxy; // aar-2's
  const clients: Client[] = [];
  /** ORCHESTRATOR_API_URL as AAR's get_server_url() reads it (trailing slash stripped). */
  let server: string;

  before(async () => {
    fx = await startHubFixture({ agents: 2 });
    ds = generateSyntheticDataset({
      dataRoot: path.join(fx.dir, 'datasets'),
      labelsRoot: path.join(fx.dir, 'labels'),
      name: 'math-binary',
      seed: 11,
      sizes: { train_label: 50, train_unlabel: 100, test: 200, heldout: 100 },
    });
    // The fleet maps AAR's model names onto its baseline pair.
    const bp = baselinesPath(path.join(fx.dir, 'datasets'), 'math-binary');
    const b = JSON.parse(fs.readFileSync(bp, 'utf8'));
    b.pairs[0].weak_aliases = [AAR_WEAK];
    b.pairs[0].strong_aliases = [AAR_STRONG];
    fs.writeFileSync(bp, JSON.stringify(b));
    const tokFile = path.join(fx.dir, 'aar-1.token');
    fs.writeFileSync(tokFile, `${fx.agentTokens['aar-1']}\n`, { mode: 0o600 });
    proxy = await startAgentProxy({ hubUrl: fx.url, token: readToken(tokFile), port: 0 });
    proxy2 = await startAgentProxy({ hubUrl: fx.url, token: fx.agentTokens['aar-2']!, port: 0 });
    server = proxy.url.replace(/\/+$/, '');
  });
  after(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await proxy?.close();
    await proxy2?.close();
    await fx?.close();
  });

  function readToken(f: string): string {
    return fs.readFileSync(f, 'utf8').trim();
  }

  async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; json: any }> {
    const res = await fetch(url, { headers });
    return { status: res.status, json: await res.json().catch(() => null) };
  }
  async function post(url: string, body: unknown, headers: Record<string, string> = AAR_HEADERS): Promise<{ status: number; json: any }> {
    const res = await fetch(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, json: await res.json().catch(() => null) };
  }

  const env = { IDEA_UID: 'idea-7f3a', RUN_ID: 'run-2026-001', DATASET_NAME: 'math-binary', WEAK_MODEL: AAR_WEAK, STRONG_MODEL: AAR_STRONG };
  let sharedCommit = '';
  let findingId = '';

  it('1. is_server_available: GET /api/config with no headers answers 200', async () => {
    const r = await get(`${server}/api/config`);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.dataset, 'math-binary');
    assert.deepEqual(r.json.available_datasets, ['math-binary']);
    assert.equal(typeof r.json.weak_model, 'string');
    assert.match(r.json.evaluation.release, /coarsened/);
    // Without the proxy (no identity) the hub refuses, so the probe reports "unavailable", never a crash.
    assert.equal((await get(`${fx.url}/api/config`)).status, 401);
  });

  it('2. evaluate_predictions_remote: the whole body, with warnings it prints', async () => {
    const preds = simulatePredictions(ds.labels.test, ds.difficulty.test, 0.8, 5);
    const r = await post(`${server}/api/evaluate-predictions`, { predictions: preds, dataset: 'math-binary', split: 'test', weak_model: AAR_WEAK, strong_model: AAR_STRONG });
    assert.equal(r.status, 200, JSON.stringify(r.json)); // raise_for_status
    for (const k of ['transfer_acc', 'pgr', 'correct', 'total', 'fixed_weak_acc', 'fixed_strong_acc']) assert.ok(k in r.json, k);
    assert.equal(r.json.total, 200);
    assert.equal(typeof r.json.pgr, 'number');
    assert.equal(r.json.pgr_error, undefined);
    // Overseer's release semantics, in the field the client prints.
    assert.equal(r.json.release_semantics, 'overseer-coarsened');
    assert.ok(Array.isArray(r.json.warnings) && r.json.warnings.some((w: string) => /probe-resistant/.test(w)));
    // Without model names (the client omits empty ones) the fleet's default pair is used.
    const d = await post(`${server}/api/evaluate-predictions`, { predictions: preds, dataset: 'math-binary', split: 'test' });
    assert.equal(d.status, 200);
    assert.equal(typeof d.json.pgr, 'number');
    // One flipped prediction does not reveal a label: the released score is the same coarse value.
    const flipped = [...preds];
    const i = preds.findIndex((p, k) => p === ds.labels.test[k]);
    flipped[i] = 1 - flipped[i]!;
    const f = await post(`${server}/api/evaluate-predictions`, { predictions: flipped, dataset: 'math-binary', split: 'test' });
    assert.equal(f.status, 200);
    assert.equal(f.json.correct, d.json.correct);
    // train_unlabel is never scored (AAR's server scores it): a 4xx the client raises as "Server error: ...".
    const tu = await post(`${server}/api/evaluate-predictions`, { predictions: preds.slice(0, 100), dataset: 'math-binary', split: 'train_unlabel' });
    assert.equal(tu.status, 403);
    assert.ok(tu.json.error);
  });

  it('3. evaluate_predictions tool: transfer_acc and pgr non-null with AAR model names; unknown models get pgr null', async () => {
    const preds = simulatePredictions(ds.labels.test, ds.difficulty.test, 0.85, 6);
    const r = await post(`${server}/api/evaluate-predictions`, { predictions: preds, dataset: 'math-binary', weak_model: AAR_WEAK, strong_model: AAR_STRONG });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.ok(!('error' in r.json));
    assert.notEqual(r.json.transfer_acc ?? null, null);
    assert.notEqual(r.json.pgr ?? null, null);
    for (const k of ['correct', 'total', 'fixed_weak_acc', 'fixed_strong_acc']) assert.ok(k in r.json, k);
    assert.equal(typeof r.json.fixed_weak_acc, 'number');
    // The tool sends "" for a model the agent did not name: treated as not named.
    const empty = await post(`${server}/api/evaluate-predictions`, { predictions: preds, dataset: 'math-binary', weak_model: '', strong_model: '' });
    assert.equal(empty.status, 200, JSON.stringify(empty.json));
    // AAR's server answers unknown models with pgr null (the tool then reports the missing field); so do we.
    const unk = await post(`${server}/api/evaluate-predictions`, { predictions: preds, dataset: 'math-binary', weak_model: 'gpt2', strong_model: 'gpt2-xl' });
    assert.equal(unk.status, 200, JSON.stringify(unk.json));
    assert.equal(unk.json.pgr, null);
    assert.match(unk.json.pgr_error, /no fixed baselines for weak_model=gpt2/);
  });

  it('4+5. share_finding: the snapshot-sequence search, then the full share payload (nulls, long title, S3 fields)', async () => {
    const search = async () => post(`${server}/api/snapshots/search`, { query: `idea_uid:${env.IDEA_UID} run_id:${env.RUN_ID}`, limit: 1000 });
    const s0 = await search();
    assert.equal(s0.status, 200, JSON.stringify(s0.json));
    assert.deepEqual(s0.json.commits, []);

    sharedCommit = await fx.commit('aar-1', { 'method.py': 'def method():\n    return "confidence"\n' }, 'aux loss');
    const title = `Confidence-weighted auxiliary loss ${'x'.repeat(420)}`; // > 300, within AAR's 500
    const metrics = { pgr: 0.45, transfer_acc: 0.78, weak_acc: 0.65, pgr_se: 0.03, transfer_acc_se: 0.02, num_seeds: 5 };
    // The tool's payload: always-present fields (null when unset), then the optional ones that are non-null.
    const payload = {
      summary: '## Aux loss\nConfidence-weighted auxiliary loss lifts PGR.\n',
      idea_uid: env.IDEA_UID,
      run_id: env.RUN_ID,
      dataset: env.DATASET_NAME,
      weak_model: env.WEAK_MODEL,
      strong_model: env.STRONG_MODEL,
      finding_type: 'result',
      pgr: metrics.pgr,
      pgr_se: metrics.pgr_se,
      transfer_acc: metrics.transfer_acc,
      transfer_acc_se: metrics.transfer_acc_se,
      weak_acc: metrics.weak_acc,
      strong_acc: null,
      num_seeds: metrics.num_seeds,
      title,
      idea_name: 'aux-conf-loss',
      config: { epochs: 3, lr: 1e-4 },
      worked: true,
      commit_id: sharedCommit,
      s3_path: `s3://bucket/ideas/${env.IDEA_UID}/${env.RUN_ID}/${sharedCommit}.tar.gz`,
      s3_key: `ideas/${env.IDEA_UID}/${env.RUN_ID}/${sharedCommit}.tar.gz`,
      sequence_number: 0,
      files_snapshot: ['method.py', 'README.md', 'train.py'],
    };
    const r = await post(`${server}/api/findings/share`, payload);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.ok(!('error' in r.json));
    assert.equal(typeof r.json.finding_id, 'string');
    assert.ok(r.json.post_id);
    assert.ok(r.json.finding.id);
    assert.equal(r.json.finding.idea_name, 'aux-conf-loss');
    findingId = r.json.finding_id;
    // Unknown AAR fields are stored with the finding and returned.
    for (const k of ['idea_uid', 'dataset', 'weak_model', 'strong_model', 'pgr_se', 'transfer_acc_se', 'weak_acc', 's3_path', 's3_key', 'sequence_number', 'files_snapshot']) {
      assert.deepEqual(r.json.finding[k], (payload as Record<string, unknown>)[k], k);
    }
    assert.equal(r.json.finding.strong_acc, null);
    assert.equal(r.json.finding.title, title);

    // A second share in the same run sees the first as its parent (sequence 1).
    const s1 = await search();
    const runCommits = s1.json.commits.filter((c: any) => c.idea_uid === env.IDEA_UID && c.run_id === env.RUN_ID);
    assert.equal(runCommits.length, 1);
    assert.equal(runCommits[runCommits.length - 1].commit_id, sharedCommit);

    // A share with nothing but the always-sent fields null (no IDEA_UID/RUN_ID in the environment, no metrics).
    const bare = await post(`${server}/api/findings/share`, {
      summary: 'untested idea: relabel with the strong model',
      idea_uid: null, run_id: null, dataset: null, weak_model: null, strong_model: null, finding_type: 'hypothesis',
      pgr: null, pgr_se: null, transfer_acc: null, transfer_acc_se: null, weak_acc: null, strong_acc: null, num_seeds: null,
    });
    assert.equal(bare.status, 200, JSON.stringify(bare.json));
    assert.equal(bare.json.finding.finding_type, 'hypothesis');
    // finding_type defaults as AAR's server does: "result" when it worked, else "observation".
    const noType = await post(`${server}/api/findings/share`, { summary: 'it did not help', worked: false, title: null });
    assert.equal(noType.json.finding.finding_type, 'observation');
    const worked = await post(`${server}/api/findings/share`, { summary: 'it helped', worked: true });
    assert.equal(worked.json.finding.finding_type, 'result');
  });

  it('FindingsSync: GET /api/findings/all carries id and idea_name (and the AAR fields)', async () => {
    const r = await get(`${server}/api/findings/all`, AAR_HEADERS);
    assert.equal(r.status, 200);
    const f = r.json.findings.find((x: any) => x.id === findingId);
    assert.ok(f);
    assert.equal(f.idea_name, 'aux-conf-loss');
    assert.equal(f.idea_uid, env.IDEA_UID);
    assert.ok(r.json.findings.every((x: any) => x.id && 'idea_name' in x));
  });

  it('6. get_leaderboard: GET /api/leaderboard with no parameters; AAR fields with a dataset', async () => {
    const r = await get(`${server}/api/leaderboard`, AAR_HEADERS);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    const entries = r.json.experiments ?? r.json.entries ?? r.json.leaderboard;
    assert.ok(Array.isArray(entries) && entries.length > 0);
    assert.ok('pgr' in entries[0]);
    // Like AAR's server, the configured dataset and models are the default: fixed baselines are filled in.
    assert.equal(typeof r.json.fixed_baselines.weak_acc, 'number');
    assert.equal(entries[0].weak_acc, r.json.fixed_baselines.weak_acc);
    const d = await get(`${server}/api/leaderboard?dataset=math-binary&weak_model=${encodeURIComponent(AAR_WEAK)}&strong_model=${encodeURIComponent(AAR_STRONG)}`, AAR_HEADERS);
    assert.equal(d.status, 200, JSON.stringify(d.json));
    assert.equal(typeof d.json.fixed_baselines.weak_acc, 'number');
    assert.equal(typeof d.json.fixed_baselines.strong_acc, 'number');
    assert.ok('weak_acc_se' in d.json.fixed_baselines && 'strong_acc_se' in d.json.fixed_baselines);
    for (const e of d.json.experiments) {
      for (const k of ['pgr', 'pgr_se', 'weak_acc', 'strong_acc']) assert.ok(k in e, k);
      assert.equal(e.weak_acc, d.json.fixed_baselines.weak_acc);
    }
    const self = d.json.experiments.find((e: any) => e.post_id === findingId);
    if (self) assert.equal(self.pgr_se, 0.03);
  });

  it('7. download_snapshot: GET /api/snapshots/<id> with no headers, idea_uid and run_id set', async () => {
    const r = await get(`${server}/api/snapshots/${sharedCommit}`);
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.ok(!('error' in r.json));
    assert.equal(r.json.idea_uid, env.IDEA_UID);
    assert.equal(r.json.run_id, env.RUN_ID);
    assert.ok(r.json.title.startsWith('Confidence-weighted'));
    assert.equal(r.json.idea_name, 'aux-conf-loss');
    assert.equal(r.json.pgr, 0.45);
    assert.deepEqual(r.json.files_snapshot, ['method.py', 'README.md', 'train.py']);
    assert.equal(r.json.files.find((x: any) => x.path === 'method.py').content, 'def method():\n    return "confidence"\n');
    // Another agent reads it too (shared on the forum).
    const other = await get(`${proxy2.url}/api/snapshots/${sharedCommit}`);
    assert.equal(other.status, 200);
    // An AAR snapshot id that is no git commit here: the metadata its finding shared.
    const aarId = 'a1b2c3d4e5f60718';
    await post(`${server}/api/findings/share`, { summary: 'snapshot from S3', finding_type: 'result', idea_uid: 'idea-9', run_id: 'run-9', commit_id: aarId, files_snapshot: ['a.py'] });
    const s = await get(`${server}/api/snapshots/${aarId}`);
    assert.equal(s.status, 200, JSON.stringify(s.json));
    assert.equal(s.json.idea_uid, 'idea-9');
    assert.equal(s.json.run_id, 'run-9');
    assert.deepEqual(s.json.files_snapshot, ['a.py']);
    // Unshared and unknown ids stay 404 (the tool raises and reports the error).
    for (const id of ['main', 'HEAD', '--all', '-ofile']) assert.equal((await get(`${server}/api/snapshots/${id}`)).status, 404, id);
    const secret = await fx.commit('aar-1', { 'secret.py': 'x = 1\n' });
    assert.equal((await get(`${proxy2.url}/api/snapshots/${secret}`)).status, 404);
  });

  it('AAR wrappers for search / get / vote / comment and AAR list filters', async () => {
    const s = await post(`${proxy2.url}/api/findings/search`, { query: 'auxiliary', limit: 5 });
    assert.equal(s.status, 200);
    assert.equal(s.json.results[0].id, findingId);
    assert.match(s.json.summary, /Found 1 result/);
    const one = await get(`${proxy2.url}/api/findings/${findingId}`);
    assert.equal(one.json.post.id, findingId);
    assert.ok(Array.isArray(one.json.post.comments));
    const v = await post(`${proxy2.url}/api/findings/${findingId}/vote`, { vote: 'up' });
    assert.equal(v.status, 200);
    assert.equal(v.json.post.upvotes, 1);
    const c = await post(`${proxy2.url}/api/findings/${findingId}/comments`, { content: 'seed 6 too?' });
    assert.equal(c.json.comment.content, 'seed 6 too?');
    const l = await get(`${proxy2.url}/api/findings?dataset=math-binary&worked=true&idea_name=aux-conf-loss`);
    assert.equal(l.status, 200, JSON.stringify(l.json));
    assert.deepEqual(l.json.findings.map((x: any) => x.id), [findingId]);
    // Our own clients (no compat header) keep Overseer's flat shapes.
    const flat = await fetch(`${fx.url}/api/findings/${findingId}`, { headers: { authorization: `Bearer ${fx.agentTokens['aar-2']}` } });
    assert.equal(((await flat.json()) as any).id, findingId);
  });

  it('stays strict: a field that is neither ours nor AAR\'s is a 400 naming it', async () => {
    const r = await post(`${server}/api/findings/share`, { summary: 's', idea_uid: null, bogus_field: 1 });
    assert.equal(r.status, 400);
    assert.match(r.json.error.message, /unknown field "bogus_field"/);
    const t = await post(`${server}/api/findings/share`, { summary: 's', title: 'x'.repeat(501) });
    assert.equal(t.status, 400);
    assert.match(t.json.error.message, /title/);
    const e = await post(`${server}/api/evaluate-predictions`, { predictions: [1], dataset: 'math-binary', nope: true });
    assert.equal(e.status, 400);
    assert.match(e.json.error.message, /"nope"/);
  });

  it('agent-proxy: loopback Host only, agent API only, the client cannot pick another identity', async () => {
    const wrongHost = await new Promise<number>((resolve, reject) => {
      const req = require('node:http').request({ host: '127.0.0.1', port: proxy.port, path: '/api/config', headers: { host: 'evil.example' } }, (res: any) => {
        res.resume();
        resolve(res.statusCode);
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(wrongHost, 403);
    assert.equal((await get(`${server}/git/aar-1/info/refs`)).status, 404);
    assert.equal((await get(`${server}/api/../events`)).status, 404);
    // A client's own Authorization is replaced by the agent's token.
    const who = await get(`${server}/api/whoami`, { authorization: `Bearer ${fx.humanToken}` });
    assert.equal(who.json.actor.id, 'aar-1');
    assert.equal(who.json.actor.kind, 'agent');
  });

  it('MCP through the proxy: AAR tool names, share_finding keeps the metrics fields', async () => {
    const client = new Client({ name: 'aar-agent', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${server}/mcp`)));
    clients.push(client);
    const names = (await client.listTools()).tools.map((t) => t.name);
    assert.ok(names.includes('get_leaderboard') && names.includes('download_snapshot'));
    const lb = await client.callTool({ name: 'get_leaderboard', arguments: {} });
    assert.ok(!lb.isError, JSON.stringify(lb.content));
    assert.ok(Array.isArray(JSON.parse((lb.content as any)[0].text).experiments));
    const snap = await client.callTool({ name: 'download_snapshot', arguments: { snapshot_id: sharedCommit } });
    assert.ok(!snap.isError, JSON.stringify(snap.content));
    assert.equal(JSON.parse((snap.content as any)[0].text).run_id, env.RUN_ID);
    const sh = await client.callTool({
      name: 'share_finding',
      arguments: { summary: 'via mcp', finding_type: 'result', pgr: 0.3, pgr_se: 0.02, weak_acc: 0.6, strong_acc: 0.9, idea_uid: 'idea-m', num_seeds: 5 },
    });
    assert.ok(!sh.isError, JSON.stringify(sh.content));
    const f = JSON.parse((sh.content as any)[0].text).finding;
    assert.equal(f.pgr_se, 0.02);
    assert.equal(f.weak_acc, 0.6);
    assert.equal(f.strong_acc, 0.9);
    assert.equal(f.idea_uid, 'idea-m');
  });
});
