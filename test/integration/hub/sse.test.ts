// Live events over SSE: replay + live without gaps or duplicates, resume with Last-Event-ID, per-agent filter.
import * as assert from 'node:assert/strict';
import type { AnyEvent } from '../../../src/core/events';
import { readSse } from '../../../src/hub/client';
import { startHubFixture, type HubFixture } from '../../support/hubFixture';

async function collect(fx: HubFixture, token: string, headers: Record<string, string>, until: (seen: AnyEvent[]) => boolean, query = ''): Promise<AnyEvent[]> {
  const ac = new AbortController();
  const res = await fetch(`${fx.url}/api/events${query}`, { headers: { authorization: `Bearer ${token}`, ...headers }, signal: ac.signal });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
  const seen: AnyEvent[] = [];
  const timer = setTimeout(() => ac.abort(), 15_000);
  try {
    for await (const m of readSse(res.body!, ac.signal)) {
      if (m.event !== 'ledger') continue;
      const e = JSON.parse(m.data) as AnyEvent;
      assert.equal(m.id, String(e.seq));
      seen.push(e);
      if (until(seen)) break;
    }
  } catch (err) {
    if (!ac.signal.aborted) throw err;
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
  return seen;
}

describe('hub SSE /api/events', function () {
  let fx: HubFixture;
  before(async () => {
    fx = await startHubFixture({ agents: 2, hub: { heartbeatMs: 200 } });
  });
  after(async () => {
    await fx?.close();
  });

  it('replays then streams live, and a resume with Last-Event-ID gets exactly the missing events', async () => {
    const a = fx.agent('aar-1');
    await a.shareFinding({ summary: 'first' });
    await fx.hub.idle();
    const start = fx.service.ledger.lastSeq;
    // Phase 1: connected; 5 events are appended while the stream is open (some during the replay).
    const target1 = start + 5;
    const p1 = collect(fx, fx.humanToken, {}, (s) => s[s.length - 1]!.seq >= target1);
    const writes = Promise.all(Array.from({ length: 5 }, (_, i) => a.shareFinding({ summary: `live ${i}` })));
    const seen1 = await p1;
    await writes;
    const seqs1 = seen1.map((e) => e.seq);
    assert.deepEqual(seqs1, Array.from({ length: target1 }, (_, i) => i + 1), 'replay from 0 then live: every seq exactly once');
    // Phase 2: disconnected; 7 more events.
    for (let i = 0; i < 7; i++) await fx.agent('aar-2').shareFinding({ summary: `offline ${i}` });
    await fx.hub.idle();
    const end = fx.service.ledger.lastSeq;
    const last = seqs1[seqs1.length - 1]!;
    const seen2 = await collect(fx, fx.humanToken, { 'last-event-id': String(last) }, (s) => s[s.length - 1]!.seq >= end);
    assert.deepEqual(seen2.map((e) => e.seq), Array.from({ length: end - last }, (_, i) => last + 1 + i));
    // Same via ?after=.
    const seen3 = await collect(fx, fx.humanToken, {}, (s) => s[s.length - 1]!.seq >= end, `?after=${end - 2}`);
    assert.deepEqual(seen3.map((e) => e.seq), [end - 1, end]);
  });

  it("shows an agent only its own events and public forum events", async () => {
    const x1 = await fx.agent('aar-1').propose({
      commit: await fx.commit('aar-1', { 'a.py': 'a = 1\n' }),
      command: 'python a.py',
      title: 'mine',
      rationale: 'r',
      resources: { gpus: 0, gpuHours: 0, timeLimitMinutes: 5 },
      taskMode: 'normal',
    });
    await fx.agent('aar-1').shareFinding({ summary: 'public note' });
    await fx.hub.idle();
    const end = fx.service.ledger.lastSeq;
    const marker = await fx.agent('aar-2').shareFinding({ summary: 'marker' });
    const seen = await collect(fx, fx.agentTokens['aar-2']!, {}, (s) => s.some((e) => e.type === 'forum.posted' && e.data.postId === marker.finding_id));
    assert.ok(seen.length > 0);
    assert.ok(seen.some((e) => e.type === 'forum.posted' && e.data.summary === 'public note'), 'public forum events are visible');
    assert.ok(!seen.some((e) => (e.data as { experimentId?: string }).experimentId === x1.id), "another agent's experiment is invisible");
    assert.ok(!seen.some((e) => e.type === 'auth.token_created' || e.type === 'experiment.screened'));
    assert.ok(!seen.some((e) => e.type === 'agent.registered' && e.data.agentId === 'aar-1'));
    assert.ok(seen.some((e) => e.type === 'agent.registered' && e.data.agentId === 'aar-2'));
    // Seqs are increasing (gaps are the filtered-out events).
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i]!.seq > seen[i - 1]!.seq);
    assert.ok(seen[seen.length - 1]!.seq > end);
  });

  it('HubClient.events delivers live events and stops on abort', async () => {
    await fx.hub.idle();
    const from = fx.service.ledger.lastSeq;
    const got: number[] = [];
    const ac = new AbortController();
    const done = fx.human.events(from, (e) => {
      got.push(e.seq);
      if (got.length === 3) ac.abort();
    }, ac.signal);
    await new Promise((r) => setTimeout(r, 100));
    for (let i = 0; i < 3; i++) await fx.agent('aar-1').shareFinding({ summary: `client ${i}` });
    await done;
    assert.deepEqual(got, [from + 1, from + 2, from + 3]);
  });

  it('sends heartbeats', async () => {
    const ac = new AbortController();
    const res = await fetch(`${fx.url}/api/events?after=${fx.service.ledger.lastSeq}`, { headers: { authorization: `Bearer ${fx.humanToken}` }, signal: ac.signal });
    const reader = res.body!.getReader();
    let text = '';
    const t0 = Date.now();
    while (!/: hb \d+/.test(text) && Date.now() - t0 < 5000) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    ac.abort();
    assert.match(text, /: hb \d+/);
  });
});
