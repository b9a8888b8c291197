// AgentLoop core with injected model, tools and accountant (no network): tool errors reach the model,
// conversation compaction, and the stop conditions.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type Anthropic from '@anthropic-ai/sdk';
import type { AgentAccountant, Charge } from '../../../src/fleet/accounting';
import { AgentLoop, type MessagesApi } from '../../../src/fleet/agent';
import { TOOL_DEFINITIONS, createAgentTools, type ToolExecutor } from '../../../src/fleet/tools';
import { tmpDir } from '../../support/tmp';

type Msg = Anthropic.Messages.Message;
const usage = (i: number, o: number) => ({ input_tokens: i, output_tokens: o }) as Msg['usage'];
const toolUse = (name: string, input: unknown, n: number): Msg =>
  ({ id: `m${n}`, type: 'message', role: 'assistant', model: 'x', content: [{ type: 'tool_use', id: `t${n}`, name, input }], stop_reason: 'tool_use', stop_sequence: null, usage: usage(10, 10) }) as unknown as Msg;
const text = (t: string): Msg => ({ id: 'mt', type: 'message', role: 'assistant', model: 'x', content: [{ type: 'text', text: t }], stop_reason: 'end_turn', stop_sequence: null, usage: usage(1, 1) }) as unknown as Msg;

function accountant(budget = 100): AgentAccountant & { charges: Charge[] } {
  const charges: Charge[] = [];
  let paused = false;
  return {
    charges,
    status: async () => ({ status: paused ? 'paused' : 'active', budgetUsd: budget, usedUsd: charges.reduce((s, c) => s + c.usd, 0) }),
    charge: async (_a, c) => void charges.push(c),
    pause: async () => void (paused = true),
  };
}

describe('fleet/agent loop core', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tmpDir('overseer-loop-')));
  afterEach(() => cleanup());

  const tools = (log: string[]): ToolExecutor => ({
    definitions: TOOL_DEFINITIONS,
    execute: async (name, input) => {
      log.push(name);
      return name === 'read_file' ? { content: 'x'.repeat(5000) } : { content: `bad ${JSON.stringify(input)}`, isError: true };
    },
    briefing: async () => 'brief',
    news: async () => undefined,
  });

  it('sends tool errors back as is_error results, charges every call, compacts a long conversation, stops at maxCalls', async () => {
    const seen: Anthropic.Messages.MessageCreateParamsNonStreaming[] = [];
    let n = 0;
    const api: MessagesApi = { create: async (p) => (seen.push(structuredClone(p)), toolUse(n % 2 ? 'read_file' : 'commit', {}, n++)) };
    const acc = accountant();
    const log: string[] = [];
    let t = 0;
    const loop = new AgentLoop({ agentId: 'a', direction: 'd', model: 'm', price: { input: 1, output: 1 }, messages: api, tools: () => tools(log), accountant: acc, stateFile: path.join(dir, 's.json'), maxCalls: 6, maxContextChars: 8_000, now: () => (t += 1000) });
    const r = await loop.run();
    assert.equal(r.stopped, 'max_calls');
    assert.equal(seen.length, 6);
    assert.deepEqual(log, ['commit', 'read_file', 'commit', 'read_file', 'commit', 'read_file']);
    const second = seen[1]!.messages.at(-1)!.content as Anthropic.Messages.ToolResultBlockParam[];
    assert.equal(second[0]!.is_error, true);
    assert.equal(second[0]!.tool_use_id, 't0');
    // The conversation was compacted at least once: some request starts over with a single user message.
    assert.ok(seen.slice(1).some((p) => p.messages.length === 1 && /compacted/.test(p.messages[0]!.content as string)), JSON.stringify(seen.map((p) => [p.messages.length, JSON.stringify(p.messages).length])));
    assert.equal(acc.charges.length, 7); // 6 calls + the final active time
    assert.ok(Math.abs(acc.charges.slice(0, 6).reduce((s, c) => s + c.usd, 0) - 6 * 20e-6) < 1e-15);
    assert.ok(Math.abs(acc.charges.reduce((s, c) => s + c.agentHours, 0) - r.totals.agentHours) < 1e-12);
    const saved = JSON.parse(fs.readFileSync(path.join(dir, 's.json'), 'utf8'));
    assert.equal(saved.totals.calls, 6);
  });

  it('stops when paused with onPaused=stop and makes no call', async () => {
    let calls = 0;
    const api: MessagesApi = { create: async () => (calls++, text('hi')) };
    const acc = accountant(0); // nothing left: the loop pauses the agent before the first call
    const loop = new AgentLoop({ agentId: 'a', direction: 'd', model: 'm', price: { input: 1, output: 1 }, messages: api, tools: () => tools([]), accountant: acc, stateFile: path.join(dir, 's.json'), onPaused: 'stop' });
    const r = await loop.run();
    assert.equal(r.stopped, 'paused');
    assert.equal(calls, 0);
  });

  it('tool input is validated against the schema before anything runs', async () => {
    const ex = createAgentTools({ agentId: 'a', workspace: {} as never, hub: {} as never, memory: { inboxAfter: 0, actions: [] } });
    const bad = await ex.execute('propose_experiment', { title: 'x' });
    assert.equal(bad.isError, true);
    assert.match(bad.content, /invalid input for propose_experiment/);
    const unknown = await ex.execute('approve_experiment', {});
    assert.equal(unknown.isError, true);
    assert.match(unknown.content, /unknown tool/);
    for (const d of ex.definitions) assert.equal(d.input_schema.type, 'object');
  });
});
