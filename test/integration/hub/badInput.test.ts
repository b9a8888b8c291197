// Bad input gets a clear 4xx JSON error and writes nothing.
import * as assert from 'node:assert/strict';
import { startHubFixture, type HubFixture } from '../../support/hubFixture';

describe('hub bad input', function () {
  let fx: HubFixture;
  let goodCommit: string;
  let tree: string;
  let expId: string;
  before(async () => {
    fx = await startHubFixture({ agents: 1, hub: { bodyLimit: 64 * 1024 } });
    goodCommit = await fx.commit('aar-1', { 'train.py': 'print(1)\n' });
    const x = await fx.agent('aar-1').propose({
      commit: goodCommit,
      command: 'python train.py',
      title: 't',
      rationale: 'r',
      resources: { gpus: 1, gpuHours: 1, timeLimitMinutes: 5 },
      taskMode: 'normal',
    });
    expId = x.id;
    tree = x.tree;
    await fx.hub.idle();
  });
  after(async () => {
    await fx?.close();
  });

  async function send(method: string, url: string, body: string | Buffer | undefined, headers: Record<string, string> = {}, token = fx.agentTokens['aar-1']!) {
    const res = await fetch(`${fx.url}${url}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: typeof body === 'string' || body === undefined ? body : new Uint8Array(body),
    });
    const text = await res.text();
    let json: { error?: { code: string; message: string } } | undefined;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text };
  }

  const valid = () => ({
    commit: goodCommit,
    command: 'python train.py',
    title: 't',
    rationale: 'r',
    resources: { gpus: 1, gpuHours: 1, timeLimitMinutes: 5 },
    taskMode: 'normal',
  });

  const cases: [string, () => [string, string, string | Buffer | undefined, Record<string, string>?], number, RegExp?][] = [
    ['malformed JSON', () => ['POST', '/api/experiments', '{"commit": ', {}], 400, /malformed JSON/],
    ['non-UTF-8 body', () => ['POST', '/api/findings/share', Buffer.from([0x7b, 0x22, 0x73, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), {}], 400, /UTF-8/],
    ['unknown field', () => ['POST', '/api/experiments', JSON.stringify({ ...valid(), extra: 1 }), {}], 400, /unknown field "extra"/],
    ['__proto__ field', () => ['POST', '/api/experiments', `{"__proto__": {"x": 1}, ${JSON.stringify(valid()).slice(1)}`, {}], 400, /unknown field/],
    ['wrong type', () => ['POST', '/api/experiments', JSON.stringify({ ...valid(), resources: { gpus: 'one', gpuHours: 1, timeLimitMinutes: 5 } }), {}], 400, /resources\.gpus/],
    ['missing field', () => ['POST', '/api/experiments', JSON.stringify({ ...valid(), command: undefined }), {}], 400, /command/],
    ['invalid commit SHA', () => ['POST', '/api/experiments', JSON.stringify({ ...valid(), commit: 'HEAD' }), {}], 400, /40-hex/],
    ['oversized string', () => ['POST', '/api/experiments', JSON.stringify({ ...valid(), title: 'x'.repeat(301) }), {}], 400, /title/],
    ['body over the cap', () => ['POST', '/api/findings/share', JSON.stringify({ summary: 'x'.repeat(70 * 1024) }), {}], 413],
    ['array body', () => ['POST', '/api/findings/share', '[1,2]', {}], 400],
    ['null body', () => ['POST', '/api/findings/share', 'null', {}], 400],
    ['text/plain body', () => ['POST', '/api/findings/share', 'hello', { 'content-type': 'text/plain' }], 415],
    ['unknown query param', () => ['GET', '/api/findings?bogus=1', undefined, {}], 400, /unknown field "bogus"/],
    ['repeated query param', () => ['GET', '/api/findings?limit=1&limit=2', undefined, {}], 400],
    ['bad query number', () => ['GET', '/api/findings?limit=-5', undefined, {}], 400],
    ['bad sort', () => ['GET', '/api/findings?sort=random', undefined, {}], 400],
    ['bad id in path', () => ['GET', '/api/experiments/..%2F..%2Fetc', undefined, {}], 400],
    ['unknown experiment', () => ['GET', '/api/experiments/exp-424242', undefined, {}], 404],
    ['unknown finding vote', () => ['POST', '/api/findings/f-424242/vote', '{"vote":"up"}', {}], 404],
    ['bad vote value', () => ['POST', '/api/findings/f-1/vote', '{"vote":"sideways"}', {}], 400],
    ['empty comment', () => ['POST', '/api/findings/f-1/comments', '{"content":"   "}', {}], 400],
    ['unknown route', () => ['GET', '/api/does-not-exist', undefined, {}], 404],
    ['unknown method', () => ['DELETE', '/api/experiments', undefined, {}], 404],
    ['bad Last-Event-ID', () => ['GET', '/api/events', undefined, { 'last-event-id': 'abc' }], 400],
    ['huge predictions of wrong type', () => ['POST', '/api/evaluate-predictions', JSON.stringify({ predictions: ['a'], dataset: 'x' }), {}], 400],
  ];

  for (const [name, mk, status, re] of cases) {
    it(`${name} → ${status} JSON error, nothing written`, async () => {
      await fx.hub.idle();
      const seq = fx.service.ledger.lastSeq;
      const [m, u, b, h] = mk();
      const r = await send(m, u, b, h);
      assert.equal(r.status, status, r.text);
      assert.ok(r.json?.error?.code, `error body: ${r.text}`);
      assert.equal(typeof r.json!.error!.message, 'string');
      if (re) assert.match(r.json!.error!.message, re);
      await fx.hub.idle();
      assert.equal(fx.service.ledger.lastSeq, seq);
    });
  }

  it('human decision bodies are validated the same way', async () => {
    const seq = fx.service.ledger.lastSeq;
    const h = fx.humanToken;
    let r = await send('POST', `/api/experiments/${expId}/approve`, JSON.stringify({ commit: goodCommit }), {}, h);
    assert.equal(r.status, 400);
    r = await send('POST', `/api/experiments/${expId}/veto`, JSON.stringify({ commit: goodCommit, tree, reason: '' }), {}, h);
    assert.equal(r.status, 400);
    r = await send('POST', `/api/experiments/${expId}/approve`, JSON.stringify({ commit: goodCommit, tree, note: 'x', approvedBy: 'root' }), {}, h);
    assert.equal(r.status, 400);
    r = await send('POST', `/api/agents/aar-1/budget`, JSON.stringify({}), {}, h);
    assert.equal(r.status, 400);
    r = await send('POST', `/api/agents/aar-1/budget`, JSON.stringify({ gpuHours: -1 }), {}, h);
    assert.equal(r.status, 400);
    r = await send('POST', `/api/agents/nobody/pause`, JSON.stringify({ reason: 'x' }), {}, h);
    assert.equal(r.status, 404);
    assert.equal(fx.service.ledger.lastSeq, seq);
  });
});
