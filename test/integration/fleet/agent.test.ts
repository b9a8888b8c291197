// The Claude agent loop against the real Anthropic SDK pointed at a loopback fake Messages API, a real hub on
// 127.0.0.1, real sandbox repositories and the real ledger.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { serviceAccountant } from '../../../src/fleet/accounting';
import { AgentLoop } from '../../../src/fleet/agent';
import { costOf, priceFor } from '../../../src/core/pricing';
import { agentStateFile, runAgents } from '../../../src/fleet/runtime';
import { TOOL_DEFINITIONS, createAgentTools } from '../../../src/fleet/tools';
import { Workspace } from '../../../src/fleet/workspace';
import { startFakeAnthropic, textMessage, toolUseMessage, type FakeAnthropic, type FakeMessage, type FakeRequest } from '../../support/fakeAnthropic';
import { startHubFixture, type HubFixture } from '../../support/hubFixture';

const MODEL = 'claude-sonnet-5-5';
const PRICE = priceFor(MODEL).price;

/** A script that replays `steps` in order, then ends the turn. */
function scripted(steps: FakeMessage[]): (req: FakeRequest) => FakeMessage {
  return (req) => steps[req.index] ?? textMessage('done for now', { input_tokens: 10, output_tokens: 2 });
}

/** tool_result blocks of a recorded request's last user message. */
function lastToolResults(req: FakeRequest): { tool_use_id: string; content: string; is_error?: boolean }[] {
  const msgs = req.body.messages as { role: string; content: unknown }[];
  const last = msgs[msgs.length - 1]!;
  return Array.isArray(last.content) ? (last.content as { type: string }[]).filter((b) => b.type === 'tool_result') as never : [];
}

describe('fleet agent loop (fake Messages API + real hub)', function () {
  this.timeout(60_000);
  let fx: HubFixture;
  let fake: FakeAnthropic | undefined;

  beforeEach(async () => {
    fx = await startHubFixture({ agents: 1, budgets: { usd: 5 }, hub: { noSync: true } });
  });
  afterEach(async () => {
    await fake?.close();
    fake = undefined;
    await fx.close();
  });

  const client = () => new Anthropic({ apiKey: 'test-key', baseURL: fake!.url, maxRetries: 0 });

  async function loopFor(agentId: string, extra: Partial<ConstructorParameters<typeof AgentLoop>[0]> = {}) {
    const hub = fx.agent(agentId);
    const who = await hub.whoami();
    const workspace = new Workspace(who.agent!.repoPath);
    await workspace.ensureWorkBranch(); // as runAgents does
    return new AgentLoop({
      agentId,
      direction: who.agent!.direction,
      model: MODEL,
      price: PRICE,
      messages: client().messages,
      tools: (memory) => createAgentTools({ agentId, workspace, hub, memory }),
      accountant: serviceAccountant(fx.service),
      stateFile: agentStateFile(fx.dir, agentId),
      onIdle: 'stop',
      onPaused: 'stop',
      pollMs: 20,
      ...extra,
    });
  }

  it('writes, commits and proposes through the hub; recorded dollars equal usage × price', async () => {
    const usages = [
      { input_tokens: 1200, output_tokens: 300 },
      { input_tokens: 1500, output_tokens: 120, cache_read_input_tokens: 800 },
      { input_tokens: 1700, output_tokens: 400, cache_creation_input_tokens: 1000 },
      { input_tokens: 1900, output_tokens: 250 },
      { input_tokens: 2000, output_tokens: 60 },
    ];
    fake = await startFakeAnthropic(
      scripted([
        toolUseMessage('write_file', { path: 'w2s/aux_loss.py', content: 'def loss(w, s):\n    return w\n' }, usages[0]),
        toolUseMessage('commit', { message: 'auxiliary confidence loss' }, usages[1]),
        toolUseMessage(
          'propose_experiment',
          { title: 'aux loss warmup sweep', rationale: 'test confidence loss', command: 'python train.py', gpus: 1, gpu_hours: 2, time_limit_minutes: 60 },
          usages[2],
        ),
        toolUseMessage('forum_post', { title: 'aux loss plan', summary: 'starting an aux-loss sweep', finding_type: 'plan' }, usages[3]),
        textMessage('waiting for review', usages[4]),
      ]),
    );
    const loop = await loopFor('aar-1');
    const r = await loop.run();
    assert.equal(r.stopped, 'idle');
    assert.equal(fake.requests.length, 5);

    // Tools were offered, and none of them is a human action.
    const offered = (fake.requests[0]!.body.tools as { name: string }[]).map((t) => t.name);
    assert.deepEqual(offered, TOOL_DEFINITIONS.map((t) => t.name));
    assert.ok(!offered.some((n) => /approve|veto|resume|budget|label|verdict/.test(n)), offered.join(','));
    assert.match(fake.requests[0]!.body.system as string, /direction of aar-1/);

    // The proposal is pinned to the commit the agent just made.
    const sb = fx.sandbox('aar-1');
    const head = await sb.head();
    const xs = fx.service.state.experimentsOf('aar-1');
    assert.equal(xs.length, 1);
    assert.equal(xs[0]!.commit, head);
    // The agent works on its own branch; the review base is the fleet's base branch, so the diff shows all of its work.
    assert.equal(xs[0]!.branch, 'research');
    assert.equal(xs[0]!.baseCommit, (await sb.resolve('main')).commit);
    assert.equal((await sb.log(head, 1))[0]!.author, 'aar-1');
    assert.equal((await sb.fileAt(head, 'w2s/aux_loss.py'))?.toString(), 'def loss(w, s):\n    return w\n');
    assert.equal([...fx.service.state.posts.values()][0]!.author.id, 'aar-1');

    // Cost accounting: ledger == Σ usage × price == the loop's totals.
    const expected = usages.reduce((s, u) => s + costOf(u, PRICE), 0);
    await fx.service.idle();
    const charged = (await fx.service.ledger.readAfter(0)).filter((e) => e.type === 'budget.charged');
    const sumUsd = charged.reduce((s, e) => s + (e.data as { usd: number }).usd, 0);
    const sumIn = charged.reduce((s, e) => s + (e.data as { tokensIn: number }).tokensIn, 0);
    const sumOut = charged.reduce((s, e) => s + (e.data as { tokensOut: number }).tokensOut, 0);
    assert.ok(Math.abs(sumUsd - expected) < 1e-12, `${sumUsd} vs ${expected}`);
    assert.ok(Math.abs(fx.service.state.agent('aar-1')!.used.usd - expected) < 1e-12);
    assert.ok(Math.abs(r.totals.usd - expected) < 1e-12);
    assert.equal(sumIn, usages.reduce((s, u) => s + u.input_tokens + (u.cache_read_input_tokens ?? 0) + (u.cache_creation_input_tokens ?? 0), 0));
    assert.equal(sumOut, usages.reduce((s, u) => s + u.output_tokens, 0));
    assert.ok(charged.every((e) => e.actor.kind === 'system'));
    assert.ok(fx.service.state.agent('aar-1')!.used.agentHours > 0);
  });

  it('file tools cannot write outside the sandbox: the attempts fail, the model is told, nothing is written', async () => {
    const repo = fx.sandbox('aar-1').repo;
    const outside = path.join(fx.dir, 'outside');
    fs.mkdirSync(outside);
    fs.symlinkSync(outside, path.join(repo, 'escape'));
    const before = fs.readdirSync(fx.dir).filter((f) => f !== 'agents').sort();
    const attempts = [
      { path: '../../labels/test.labels.jsonl', content: 'x' },
      { path: path.join(outside, 'abs.txt'), content: 'x' },
      { path: 'escape/through-link.txt', content: 'x' },
      { path: '.git/hooks/post-commit', content: '#!/bin/sh\ntouch /tmp/pwned\n' },
    ];
    fake = await startFakeAnthropic(scripted([...attempts.map((a) => toolUseMessage('write_file', a, { input_tokens: 10, output_tokens: 5 })), toolUseMessage('read_file', { path: '../../tokens.json' })]));
    const loop = await loopFor('aar-1');
    const r = await loop.run();
    assert.equal(r.stopped, 'idle');
    for (let i = 1; i <= attempts.length + 1; i++) {
      const results = lastToolResults(fake.requests[i]!);
      assert.equal(results.length, 1);
      assert.equal(results[0]!.is_error, true, results[0]!.content);
      assert.match(results[0]!.content, /not allowed|symbolic link|off limits|outside/);
    }
    assert.deepEqual(fs.readdirSync(outside), []);
    assert.deepEqual(fs.readdirSync(fx.dir).filter((f) => f !== 'agents').sort(), before);
    assert.ok(!fs.existsSync(path.join(repo, '.git', 'hooks', 'post-commit')));
    assert.deepEqual(await new Workspace(repo).uncommitted(), ['escape']);
  });

  it('pauses itself at the dollar cap, and continues after a human raises the budget and resumes it', async () => {
    await fx.service.setBudget({ kind: 'human', id: 'alice' }, 'aar-1', { usd: 0.01 });
    // Each call costs 1000×2/1e6 + 400×10/1e6 = $0.006: the second call crosses the $0.01 cap.
    const u = { input_tokens: 1000, output_tokens: 400 };
    fake = await startFakeAnthropic((req) =>
      req.index < 4 ? toolUseMessage('list_files', {}, u) : textMessage('done', { input_tokens: 1, output_tokens: 1 }),
    );
    const loop = await loopFor('aar-1', { onPaused: 'wait' });
    const running = loop.run();
    const deadline = Date.now() + 10_000;
    while (fx.service.state.agent('aar-1')!.status !== 'paused' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const a = fx.service.state.agent('aar-1')!;
    assert.equal(a.status, 'paused');
    assert.match(a.pausedReason!, /budget reached/);
    await new Promise((r) => setTimeout(r, 150)); // paused: no further calls
    assert.equal(fake.requests.length, 2);
    assert.ok(Math.abs(a.used.usd - 2 * costOf(u, PRICE)) < 1e-12);
    // The paused agent's pending tool call was not executed: the conversation ends with the unexecuted call.
    assert.equal(loop.state.messages.length, 4);
    const last = loop.state.messages[3]!;
    assert.equal(last.role, 'assistant');
    assert.ok(Array.isArray(last.content) && last.content.some((b) => b.type === 'tool_use'));

    // A human grants more and resumes (through the hub, as the extension does).
    await fx.human.setBudget('aar-1', { usd: 1 });
    await fx.human.resumeAgent('aar-1');
    const r = await running;
    assert.equal(r.stopped, 'idle');
    // Three more tool turns, then the agent ends its turn, is woken by its inbox notices, and ends again.
    assert.equal(fake.requests.length, 6);
    const wake = fake.requests[5]!.body.messages.at(-1).content as string;
    assert.match(wake, /\[notice\] paused: model budget reached/);
    assert.match(wake, /\[budget\] budget changed/);
    assert.match(wake, /\[notice\] resumed/);
    await fx.service.idle();
    const paused = (await fx.service.ledger.readAfter(0)).filter((e) => e.type === 'agent.paused');
    assert.equal(paused.length, 1);
  });

  it('resumes after a restart from the persisted summary and the ledger (verdict that arrived while down)', async () => {
    fake = await startFakeAnthropic(
      scripted([
        toolUseMessage('write_file', { path: 'selective.py', content: 'keep = conf > 0.9\n' }),
        toolUseMessage('commit', { message: 'confidence filter' }),
        toolUseMessage('propose_experiment', { title: 'filter sweep', rationale: 'r', command: 'python selective.py', gpus: 1, gpu_hours: 1, time_limit_minutes: 30 }),
      ]),
    );
    const first = await loopFor('aar-1', { maxCalls: 3 });
    const r1 = await first.run();
    assert.equal(r1.stopped, 'max_calls');
    const stateFile = agentStateFile(fx.dir, 'aar-1');
    const saved = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
    assert.equal(saved.runs, 1);
    assert.ok(saved.memory.actions.some((a: string) => /proposed exp-/.test(a)));

    // While the runtime is down, a human vetoes the proposal.
    const x = fx.service.state.experimentsOf('aar-1')[0]!;
    await fx.human.veto(x.id, { commit: x.commit, tree: x.tree, reason: 'threshold chosen on test data' });

    await fake.close();
    fake = await startFakeAnthropic(() => textMessage('I will fix the threshold', { input_tokens: 5, output_tokens: 5 }));
    const second = await loopFor('aar-1', { maxCalls: 1 });
    const r2 = await second.run();
    assert.equal(r2.stopped, 'idle');
    const firstMsg = fake.requests[0]!.body.messages[0].content as string;
    assert.match(firstMsg, /resuming after a restart/);
    assert.ok(firstMsg.includes(x.id), firstMsg);
    assert.match(firstMsg, /threshold chosen on test data/);
    assert.match(firstMsg, /committed [0-9a-f]{12} "confidence filter"/);
    assert.match(firstMsg, /vetoed/);
    assert.equal(fake.requests[0]!.body.messages.length, 1);
    // Totals carry over across runs.
    assert.equal(second.state.runs, 2);
    assert.equal(second.state.totals.calls, 4);
  });

  it('runAgents starts one loop per agent token using the hub-reported sandbox and direction', async () => {
    fake = await startFakeAnthropic((req) => textMessage(`hello from ${(req.body.system as string).match(/You are (\S+),/)![1]}`, { input_tokens: 3, output_tokens: 3 }));
    const agents = await runAgents({
      hubUrl: fx.url,
      tokens: { 'aar-1': fx.agentTokens['aar-1']! },
      accountant: serviceAccountant(fx.service),
      stateRoot: fx.dir,
      model: MODEL,
      price: PRICE,
      messages: client().messages,
      onIdle: 'stop',
    });
    const [res] = await Promise.all(agents.map((a) => a.done));
    assert.equal(res!.stopped, 'idle');
    assert.equal(await fx.sandbox('aar-1').currentBranch(), 'research');
    assert.ok(fs.existsSync(agentStateFile(fx.dir, 'aar-1')));
    await assert.rejects(
      runAgents({ hubUrl: fx.url, tokens: { 'aar-1': fx.humanToken }, accountant: serviceAccountant(fx.service), stateRoot: fx.dir, model: MODEL, price: PRICE, messages: client().messages }),
      /belongs to human/,
    );
  });
});
