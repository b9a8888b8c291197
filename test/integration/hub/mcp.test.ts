// The hub's MCP endpoint driven by the real MCP client from @modelcontextprotocol/sdk over loopback.
import * as assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startHubFixture, type HubFixture } from '../../support/hubFixture';

function parse(r: unknown): any {
  const c = (r as { content: { type: string; text: string }[] }).content;
  return JSON.parse(c[0]!.text);
}

describe('hub MCP (streamable HTTP)', function () {
  let fx: HubFixture;
  const clients: Client[] = [];
  before(async () => {
    fx = await startHubFixture({ agents: 2 });
  });
  after(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await fx?.close();
  });

  async function connect(token: string): Promise<Client> {
    const client = new Client({ name: 'test-agent', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(`${fx.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } });
    await client.connect(transport);
    clients.push(client);
    return client;
  }

  it('lists the agent tools', async () => {
    const c = await connect(fx.agentTokens['aar-1']!);
    const { tools } = await c.listTools();
    const names = tools.map((t) => t.name).sort();
    assert.deepEqual(names, [
      'comment_finding',
      'download_snapshot',
      'evaluate_predictions',
      'get_experiment',
      'get_finding',
      'get_leaderboard',
      'leaderboard',
      'list_findings',
      'list_my_experiments',
      'propose_experiment',
      'read_inbox',
      'search_findings',
      'share_finding',
      'vote_finding',
    ]);
    const propose = tools.find((t) => t.name === 'propose_experiment')!;
    assert.ok((propose.inputSchema.required ?? []).includes('commit'));
  });

  it('proposes, reads the inbox after a human decision, and uses the forum tools', async () => {
    const c = await connect(fx.agentTokens['aar-1']!);
    const commit = await fx.commit('aar-1', { 'train.py': 'print("mcp")\n' });
    const r = await c.callTool({
      name: 'propose_experiment',
      arguments: { commit, command: 'python train.py', title: 'via mcp', rationale: 'r', resources: { gpus: 1, gpuHours: 1, timeLimitMinutes: 5 }, taskMode: 'normal' },
    });
    assert.ok(!r.isError, JSON.stringify(r.content));
    const x = parse(r);
    assert.equal(x.commit, commit);
    const ev = await fx.service.ledger.readAfter(0);
    assert.deepEqual(ev.find((e) => e.type === 'experiment.proposed' && e.data.experimentId === x.id)!.actor, { kind: 'agent', id: 'aar-1' });
    await fx.human.requestChanges(x.id, { commit: x.commit, tree: x.tree, reason: 'add a seed sweep' });
    const inbox = parse(await c.callTool({ name: 'read_inbox', arguments: {} }));
    assert.ok(inbox.items.some((i: any) => i.kind === 'verdict' && i.experimentId === x.id && i.data.reason === 'add a seed sweep'));
    const mine = parse(await c.callTool({ name: 'list_my_experiments', arguments: {} }));
    assert.deepEqual(mine.experiments.map((e: any) => e.id), [x.id]);
    const got = parse(await c.callTool({ name: 'get_experiment', arguments: { id: x.id } }));
    assert.equal(got.state, 'changes_requested');

    const shared = parse(await c.callTool({ name: 'share_finding', arguments: { summary: 'MCP finding about pseudo-labels', pgr: 0.2 } }));
    const c2 = await connect(fx.agentTokens['aar-2']!);
    const found = parse(await c2.callTool({ name: 'search_findings', arguments: { query: 'pseudo-labels' } }));
    assert.equal(found.findings[0].id, shared.finding_id);
    parse(await c2.callTool({ name: 'vote_finding', arguments: { id: shared.finding_id, vote: 'up' } }));
    parse(await c2.callTool({ name: 'comment_finding', arguments: { id: shared.finding_id, content: 'nice' } }));
    const f = parse(await c2.callTool({ name: 'get_finding', arguments: { id: shared.finding_id } }));
    assert.equal(f.score, 1);
    assert.equal(f.comments[0].content, 'nice');
    const list = parse(await c2.callTool({ name: 'list_findings', arguments: { sort: 'top', limit: 5 } }));
    assert.ok(list.findings.length >= 1);
    const lb = parse(await c2.callTool({ name: 'leaderboard', arguments: {} }));
    assert.ok(Array.isArray(lb.experiments));

    // Another agent cannot read aar-1's experiment through MCP either.
    const denied = await c2.callTool({ name: 'get_experiment', arguments: { id: x.id } });
    assert.equal(denied.isError, true);
    assert.equal(parse(denied).status, 404);
  });

  it('rejects bad tool input and a commit outside the repo without writing', async () => {
    const c = await connect(fx.agentTokens['aar-2']!);
    await fx.hub.idle();
    const seq = fx.service.ledger.lastSeq;
    const bad = await c.callTool({
      name: 'propose_experiment',
      arguments: { commit: 'f'.repeat(40), command: 'x', title: 't', rationale: 'r', resources: { gpus: 1, gpuHours: 1, timeLimitMinutes: 5 }, taskMode: 'normal' },
    });
    assert.equal(bad.isError, true);
    assert.equal(parse(bad).status, 400);
    const typed = await c.callTool({ name: 'vote_finding', arguments: { id: 'f-1', vote: 'sideways' } });
    assert.equal(typed.isError, true);
    await fx.hub.idle();
    assert.equal(fx.service.ledger.lastSeq, seq);
  });

  it('authenticates every MCP request', async () => {
    const res = await fetch(`${fx.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    assert.equal(res.status, 401);
    await assert.rejects(connect('ovs_0000000000000000_' + 'A'.repeat(43)));
  });
});
