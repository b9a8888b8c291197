// `fleet start --hub URL`: Claude agents (real SDK against the loopback fake Messages API) run against a hub
// started elsewhere; each agent's tools use its own token, and the operator's human token records the spend
// (budget.charged) and the pause at the dollar cap in the hub's ledger.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AnyEvent } from '../../../src/core/events';
import { costOf, priceFor } from '../../../src/core/pricing';
import { startRemoteFleet } from '../../../src/fleet/runtime';
import { startFakeAnthropic, textMessage, toolUseMessage, type FakeAnthropic } from '../../support/fakeAnthropic';
import { startHubFixture, type HubFixture } from '../../support/hubFixture';
import { tmpDir } from '../../support/tmp';

const MODEL = 'claude-haiku-4-5';
const USAGE = { input_tokens: 1000, output_tokens: 100 };
const PER_CALL = costOf(USAGE, priceFor(MODEL).price);
const ROOT = path.join(__dirname, '..', '..', '..');

describe('fleet runtime against a remote hub (--hub)', function () {
  this.timeout(60_000);
  let fx: HubFixture;
  let fake: FakeAnthropic;
  let tmp: { dir: string; cleanup: () => void };
  beforeEach(async () => {
    fx = await startHubFixture({ agentIds: ['agent-1', 'agent-2'], budgets: { usd: 1 } });
    fake = await startFakeAnthropic(() => toolUseMessage('list_files', {}, USAGE));
    tmp = tmpDir('overseer-remote-');
  });
  afterEach(async () => {
    await fake?.close();
    await fx?.close();
    tmp?.cleanup();
  });

  async function events(type: string): Promise<AnyEvent[]> {
    await fx.service.idle();
    return (await fx.service.ledger.readAfter(0)).filter((e) => e.type === type);
  }

  it('records usage-derived spend under the operator and pauses each agent at its cap through the hub', async () => {
    // Two calls cost 2 × PER_CALL; a cap between one and two calls pauses each agent after its second call.
    const cap = 1.5 * PER_CALL;
    const fleet = await startRemoteFleet({
      hubUrl: fx.url,
      tokens: fx.agentTokens,
      humanToken: fx.humanToken,
      stateRoot: tmp.dir,
      model: MODEL,
      maxUsd: cap,
      apiKey: 'test-key',
      baseUrl: fake.url,
      onPaused: 'stop',
      pollMs: 10,
    });
    assert.equal(fleet.operator, fx.humanId);
    const results = await fleet.done;
    await fleet.close();
    assert.deepEqual(results.map((r) => r.stopped), ['paused', 'paused']);
    assert.equal(fake.requests.length, 4);

    const charged = await events('budget.charged');
    const modelCharges = charged.filter((e) => e.type === 'budget.charged' && e.data.tokensIn > 0);
    assert.equal(modelCharges.length, 4);
    for (const e of charged) assert.deepEqual(e.actor, { kind: 'human', id: fx.humanId });
    for (const e of modelCharges) {
      assert.ok(e.type === 'budget.charged');
      assert.equal(e.data.tokensIn, USAGE.input_tokens);
      assert.equal(e.data.tokensOut, USAGE.output_tokens);
      assert.ok(Math.abs(e.data.usd - PER_CALL) < 1e-15, String(e.data.usd));
    }
    const set = await events('budget.set');
    assert.deepEqual(set.map((e) => [e.actor.id, e.type === 'budget.set' && e.data.agentId, e.type === 'budget.set' && e.data.usd]).sort(), [
      [fx.humanId, 'agent-1', cap],
      [fx.humanId, 'agent-2', cap],
    ]);
    const paused = await events('agent.paused');
    assert.equal(paused.length, 2);
    for (const e of paused) {
      assert.deepEqual(e.actor, { kind: 'human', id: fx.humanId });
      assert.ok(e.type === 'agent.paused');
      assert.match(e.data.reason, /model budget reached/);
    }
    for (const id of fx.agentIds) {
      const a = fx.service.state.agent(id)!;
      assert.equal(a.status, 'paused');
      assert.ok(Math.abs(a.used.usd - 2 * PER_CALL) < 1e-12, String(a.used.usd));
      assert.ok(fs.existsSync(path.join(tmp.dir, 'agents', id, 'state.json')));
    }
  });

  it('agents work in clones of their hub repositories and push before proposing (nothing read from the hub\'s disk)', async () => {
    await fake.close();
    const steps = [
      toolUseMessage('write_file', { path: 'idea.py', content: 'print("pushed over http")\n' }, USAGE),
      toolUseMessage('commit', { message: 'an idea' }, USAGE),
      toolUseMessage('propose_experiment', { title: 'idea', rationale: 'try it', command: 'python idea.py', gpus: 0, gpu_hours: 0.1, time_limit_minutes: 5 }, USAGE),
    ];
    const calls = new Map<string, number>();
    fake = await startFakeAnthropic((req) => {
      const who = JSON.stringify(req.body).includes('agent-1') ? 'agent-1' : 'agent-2';
      const n = calls.get(who) ?? 0;
      calls.set(who, n + 1);
      return steps[n] ?? textMessage('done', USAGE);
    });
    // The hub's own working copies are removed: what the agents propose can only have come by push.
    for (const id of fx.agentIds) fs.rmSync(path.join(fx.dir, 'repos', id), { recursive: true, force: true });
    const fleet = await startRemoteFleet({
      hubUrl: fx.url,
      tokens: { 'agent-1': fx.agentTokens['agent-1']! },
      humanToken: fx.humanToken,
      stateRoot: tmp.dir,
      model: MODEL,
      apiKey: 'test-key',
      baseUrl: fake.url,
      maxCalls: 4,
      onPaused: 'stop',
      pollMs: 10,
      log: (l) => process.env.DEBUG_FLEET && console.log(l),
    });
    const mine = () => [...fx.service.state.experiments.values()].filter((x) => x.agentId === 'agent-1');
    for (let i = 0; i < 400 && !mine().length; i++) await new Promise((r) => setTimeout(r, 50));
    await fleet.close();
    const xs = mine();
    assert.equal(xs.length, 1, JSON.stringify(fake.requests.length));
    const content = await fx.human.experimentContent(xs[0]!.id, 'idea.py', 'head');
    assert.equal(Buffer.from(content.base64, 'base64').toString('utf8'), 'print("pushed over http")\n');
    assert.ok(fs.existsSync(path.join(tmp.dir, 'work', 'agent-1', '.git')), 'the agent works in its own clone');
  });

  it('refuses an agent token as the operator token before any model call', async () => {
    await assert.rejects(
      startRemoteFleet({ hubUrl: fx.url, tokens: fx.agentTokens, humanToken: fx.agentTokens['agent-1']!, stateRoot: tmp.dir, model: MODEL, apiKey: 'k', baseUrl: fake.url }),
      /operator token belongs to agent agent-1.*human token/,
    );
    assert.equal(fake.requests.length, 0);
    assert.equal((await events('budget.charged')).length, 0);
  });

  function runCli(args: string[], env: Record<string, string>) {
    const child = spawn(process.execPath, ['--import=tsx', path.join(ROOT, 'src', 'cli', 'main.ts'), 'fleet', 'start', ...args], {
      cwd: ROOT,
      env: { ...process.env, OVERSEER_HUB_TOKEN: '', ANTHROPIC_API_KEY: 'test-key', ANTHROPIC_BASE_URL: fake.url, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const io = { out: '', err: '' };
    child.stdout.on('data', (d) => (io.out += d));
    child.stderr.on('data', (d) => (io.err += d));
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    return { child, io, exited };
  }

  it('`overseer fleet start --hub` as a real process: spend lands in the hub ledger as the operator, agents pause at the cap', async () => {
    const tokens = path.join(tmp.dir, 'tokens.json');
    fs.writeFileSync(tokens, JSON.stringify(fx.agentTokens), { mode: 0o600 });
    const cap = 1.5 * PER_CALL;
    const { child, io, exited } = runCli(
      ['--fleet', path.join(tmp.dir, 'state'), '--hub', fx.url, '--tokens', tokens, '--model', MODEL, '--max-usd', String(cap)],
      { OVERSEER_HUB_TOKEN: fx.humanToken },
    );
    const deadline = Date.now() + 30_000;
    const allPaused = () => fx.agentIds.every((id) => fx.service.state.agent(id)!.status === 'paused');
    while (!allPaused() && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    assert.ok(allPaused(), io.err);
    child.kill('SIGINT');
    assert.equal(await exited, 0, io.err);
    assert.match(io.out, new RegExp(`spend recorded as ${fx.humanId}`));
    assert.match(io.out, /agent-1: aborted, 2 calls, 2000 in \/ 200 out tokens/);
    assert.match(io.out, /agent-2: aborted, 2 calls/);
    assert.equal(fake.requests.length, 4);
    const charged = (await events('budget.charged')).filter((e) => e.type === 'budget.charged' && e.data.tokensIn > 0);
    assert.equal(charged.length, 4);
    assert.ok(charged.every((e) => e.actor.kind === 'human' && e.actor.id === fx.humanId));
    const paused = await events('agent.paused');
    assert.deepEqual(paused.map((e) => `${e.actor.kind}:${e.actor.id}`), [`human:${fx.humanId}`, `human:${fx.humanId}`]);
  });

  it('`overseer fleet start --hub` without an operator token, or with a malformed token file, fails clearly', async () => {
    const tokens = path.join(tmp.dir, 'tokens.json');
    fs.writeFileSync(tokens, JSON.stringify(fx.agentTokens));
    const a = runCli(['--fleet', tmp.dir, '--hub', fx.url, '--tokens', tokens], {});
    assert.equal(await a.exited, 1);
    assert.match(a.io.err, /human token \(--human-token T or env OVERSEER_HUB_TOKEN\)/);
    fs.writeFileSync(tokens, '["not", "an", "object"]');
    const b = runCli(['--fleet', tmp.dir, '--hub', fx.url, '--tokens', tokens, '--human-token', fx.humanToken], {});
    assert.notEqual(await b.exited, 0);
    assert.match(b.io.err, /must be a non-empty JSON object/);
    assert.equal(fake.requests.length, 0);
  });
});
