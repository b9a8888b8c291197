// HubClient against a tiny scripted node:http server: error mapping and SSE resume after a dropped stream.
import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import { HubClient, HubError } from '../../../src/hub/client';

function serve(handler: http.RequestListener): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer(handler);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      resolve({ url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => (server.closeAllConnections(), server.close(() => r()))) });
    }),
  );
}

describe('HubClient', () => {
  it('maps error bodies to HubError(status, code, message) and sends the bearer token', async () => {
    let auth: string | undefined;
    const s = await serve((req, res) => {
      auth = req.headers.authorization;
      res.writeHead(409, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'conflict', message: 'first decision wins' } }));
    });
    try {
      const c = new HubClient(s.url + '/', 'tok');
      await assert.rejects(c.approve('exp-1', { commit: 'a'.repeat(40), tree: 'b'.repeat(40) }), (e: HubError) => {
        assert.ok(e instanceof HubError);
        assert.equal(e.status, 409);
        assert.equal(e.code, 'conflict');
        assert.equal(e.message, 'first decision wins');
        return true;
      });
      assert.equal(auth, 'Bearer tok');
    } finally {
      await s.close();
    }
  });

  it('reports an unreachable hub as HubError status 0', async () => {
    const s = await serve((_q, r) => r.end());
    const url = s.url;
    await s.close();
    await assert.rejects(new HubClient(url, 't').whoami(), (e: HubError) => e.status === 0 && e.code === 'network');
  });

  it('events() resumes with Last-Event-ID after the stream drops, without duplicates or gaps', async () => {
    const lastIds: string[] = [];
    let conn = 0;
    const s = await serve((req, res) => {
      const from = Number(req.headers['last-event-id'] ?? 0);
      lastIds.push(String(req.headers['last-event-id']));
      conn++;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      // First connection: 3 events then drop; later: the rest. Each also re-sends an old event (must be ignored).
      const upto = conn === 1 ? from + 3 : 10;
      let out = `: hello\n\nid: ${Math.max(1, from)}\nevent: ledger\ndata: ${JSON.stringify({ seq: Math.max(1, from), type: 'x' })}\n\n`;
      for (let i = from + 1; i <= upto; i++) out += `id: ${i}\nevent: ledger\ndata: ${JSON.stringify({ seq: i, type: 'forum.posted' })}\n\n`;
      res.write(out);
      if (conn === 1) setTimeout(() => res.destroy(), 100);
    });
    try {
      const c = new HubClient(s.url, 't');
      const seen: number[] = [];
      const ac = new AbortController();
      await c.events(0, (e) => {
        seen.push(e.seq);
        if (e.seq === 10) ac.abort();
      }, ac.signal, { retryMs: 10 });
      assert.deepEqual(seen, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      assert.equal(lastIds[0], '0');
      assert.equal(lastIds[1], '3');
    } finally {
      await s.close();
    }
  });

  it('events() gives up on 401', async () => {
    const s = await serve((_q, res) => {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'unauthorized', message: 'bad token' } }));
    });
    try {
      await assert.rejects(new HubClient(s.url, 'x').events(0, () => undefined, new AbortController().signal), (e: HubError) => e.status === 401);
    } finally {
      await s.close();
    }
  });
});
