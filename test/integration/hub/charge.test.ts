// `POST /api/agents/:id/charge`: model spend recorded by a human (a fleet runtime's operator); agents may not.
import * as assert from 'node:assert/strict';
import { HubError } from '../../../src/hub/client';
import { startHubFixture, type HubFixture } from '../../support/hubFixture';

describe('hub charge route', function () {
  this.timeout(30_000);
  let fx: HubFixture;
  before(async () => {
    fx = await startHubFixture({ agents: 2, budgets: { usd: 5 } });
  });
  after(async () => {
    await fx?.close();
  });

  async function status(p: Promise<unknown>): Promise<{ status: number; code: string }> {
    try {
      await p;
    } catch (err) {
      assert.ok(err instanceof HubError, String(err));
      return { status: err.status, code: err.code };
    }
    return { status: 200, code: 'ok' };
  }

  it('records budget.charged under the human caller and adds to the agent\'s spend', async () => {
    const before = fx.service.state.agent('aar-1')!.used.usd;
    const a = await fx.human.chargeAgent('aar-1', { usd: 0.25, tokensIn: 1000, tokensOut: 20, agentHours: 0.5 });
    assert.ok(Math.abs(a.used.usd - (before + 0.25)) < 1e-12);
    await fx.service.idle();
    const ev = (await fx.service.ledger.readAfter(0)).filter((e) => e.type === 'budget.charged');
    assert.equal(ev.length, 1);
    assert.deepEqual(ev[0]!.actor, { kind: 'human', id: fx.humanId });
    assert.deepEqual(ev[0]!.data, { agentId: 'aar-1', usd: 0.25, tokensIn: 1000, tokensOut: 20, agentHours: 0.5 });
  });

  it('refuses agents (403), even charging themselves, and records nothing', async () => {
    const n = fx.service.ledger.lastSeq;
    assert.deepEqual(await status(fx.agent('aar-1').chargeAgent('aar-1', { usd: 0, tokensIn: 0, tokensOut: 0, agentHours: 0 })), { status: 403, code: 'forbidden' });
    assert.equal((await status(fx.agent('aar-2').chargeAgent('aar-1', { usd: 1, tokensIn: 1, tokensOut: 1, agentHours: 0 }))).status, 403);
    assert.equal(fx.service.ledger.lastSeq, n);
  });

  it('rejects bad bodies with 400 and unknown agents with 404, recording nothing', async () => {
    const n = fx.service.ledger.lastSeq;
    const ok = { usd: 0.1, tokensIn: 1, tokensOut: 1, agentHours: 0 };
    const bad: unknown[] = [
      { ...ok, usd: -1 },
      { ...ok, usd: '0.1' },
      { ...ok, tokensIn: 1.5 },
      { ...ok, tokensOut: -3 },
      { ...ok, agentHours: -0.1 },
      { usd: 0.1, tokensIn: 1, tokensOut: 1 },
      { ...ok, agentId: 'aar-2' },
      { ...ok, usd: 1e300 },
      [],
    ];
    for (const b of bad) {
      const r = await status(fx.human.request('POST', '/api/agents/aar-1/charge', b));
      assert.equal(r.status, 400, JSON.stringify(b));
    }
    // NaN/Infinity cannot be sent as JSON; a raw body with them is a parse error (400), not a charge.
    const raw = await fetch(`${fx.url}/api/agents/aar-1/charge`, {
      method: 'POST',
      headers: { authorization: `Bearer ${fx.humanToken}`, 'content-type': 'application/json' },
      body: '{"usd": Infinity, "tokensIn": 1, "tokensOut": 1, "agentHours": 0}',
    });
    assert.equal(raw.status, 400);
    assert.deepEqual(await status(fx.human.chargeAgent('nobody', ok)), { status: 404, code: 'not_found' });
    assert.equal((await status(fx.human.chargeAgent('../x', ok))).status, 400);
    assert.equal(fx.service.ledger.lastSeq, n);
  });
});
