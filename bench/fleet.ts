// Fleet runtime benchmarks, each a ratio against a baseline measured in the same run:
//  - agent loop: one model turn through AgentLoop (SDK call + cost accounting into the ledger + tool execution +
//    state file) vs the bare SDK call to the same loopback fake Messages API;
//  - diversity: computeDiversity over a 9-agent fleet's documents vs just tokenizing those documents.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { FleetService } from '../src/core/service';
import { createFleet } from '../src/hub/fleetSetup';
import { serviceAccountant } from '../src/fleet/accounting';
import { AgentLoop } from '../src/fleet/agent';
import { measureDiversity, terms, type DiversityDoc } from '../src/fleet/diversity';
import { priceFor } from '../src/core/pricing';
import type { ToolExecutor } from '../src/fleet/tools';
import { TOOL_DEFINITIONS } from '../src/fleet/tools';
import { startFakeAnthropic, toolUseMessage } from '../test/support/fakeAnthropic';

const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;

async function benchAgentLoop(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-bench-fleet-'));
  const fake = await startFakeAnthropic(() => toolUseMessage('list_files', {}, { input_tokens: 1000, output_tokens: 100 }));
  try {
    await createFleet(dir, { name: 'bench', agents: [{ id: 'a1', direction: 'd' }], budgets: { usd: 1e6 } });
    const svc = await FleetService.open(dir);
    const client = new Anthropic({ apiKey: 'k', baseURL: fake.url, maxRetries: 0 });
    const N = 200;
    // Baseline: bare SDK calls with a growing conversation of the same shape.
    const messages: Anthropic.Messages.MessageParam[] = [{ role: 'user', content: 'start' }];
    let t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) {
      const r = await client.messages.create({ model: 'claude-haiku-4-5', max_tokens: 100, tools: TOOL_DEFINITIONS as Anthropic.Messages.Tool[], messages });
      const tu = r.content.find((b) => b.type === 'tool_use')!;
      messages.push({ role: 'assistant', content: [{ type: 'tool_use', id: (tu as { id: string }).id, name: 'list_files', input: {} }] });
      messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: (tu as { id: string }).id, content: '{}' }] });
    }
    const bare = ms(t0);
    const tools: ToolExecutor = { definitions: TOOL_DEFINITIONS, execute: async () => ({ content: '{}' }), briefing: async () => 'start', news: async () => undefined };
    const loop = new AgentLoop({
      agentId: 'a1',
      direction: 'd',
      model: 'claude-haiku-4-5',
      price: priceFor('claude-haiku-4-5').price,
      messages: client.messages,
      tools: () => tools,
      accountant: serviceAccountant(svc),
      stateFile: path.join(dir, 'agents', 'a1', 'state.json'),
      maxCalls: N,
      onIdle: 'stop',
    });
    t0 = process.hrtime.bigint();
    await loop.run();
    const full = ms(t0);
    await svc.close();
    console.log(`fleet/agent-loop: ${N} turns, bare SDK ${(bare / N).toFixed(2)} ms/turn, AgentLoop ${(full / N).toFixed(2)} ms/turn (ratio ${(full / bare).toFixed(2)}x; includes fsync'd budget.charged per turn and the state file)`);
  } finally {
    await fake.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function benchDiversity(): void {
  const vocab = 'weak strong label noise loss teacher student confidence probe linear bootstrap seed ensemble calibration regularization filter transition matrix drift consistency'.split(' ');
  let x = 12345;
  const rnd = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const docs: DiversityDoc[] = [];
  for (let i = 0; i < 9 * 200; i++) {
    const words = Array.from({ length: 60 }, () => vocab[Math.floor(rnd() * vocab.length)]).join(' ');
    docs.push({ agentId: `agent-${(i % 9) + 1}`, seq: i + 1, ts: '', kind: i % 2 ? 'post' : 'proposal', text: words });
  }
  let t0 = process.hrtime.bigint();
  let n = 0;
  for (const d of docs) n += terms(d.text).length;
  const base = ms(t0);
  t0 = process.hrtime.bigint();
  const r = measureDiversity(docs);
  const full = ms(t0);
  console.log(`fleet/diversity: ${docs.length} docs (${n} terms), tokenize ${base.toFixed(1)} ms, computeDiversity ${full.toFixed(1)} ms (ratio ${(full / base).toFixed(2)}x), ${r.windows.length} windows`);
}

export async function benchFleet(): Promise<void> {
  benchDiversity();
  await benchAgentLoop();
}

if (require.main === module) void benchFleet();
