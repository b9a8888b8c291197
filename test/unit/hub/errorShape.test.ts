// One JSON error shape for every status the hub's HTTP layer can produce: 404, 413 (naming the field when
// the body can be read), 414 (router), 431 (HTTP parser), 415, 400.
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../../src/hub/server';
import { largestField } from '../../../src/hub/errors';

const LIMIT = 64 * 1024;

describe('hub error shape', () => {
  let app: FastifyInstance;
  let base: string;
  before(async () => {
    app = buildApp(LIMIT, false);
    app.get('/api/experiments/:id', async () => ({ ok: true }));
    app.post('/api/experiments', async () => ({ ok: true }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const a = app.server.address() as { port: number };
    base = `http://127.0.0.1:${a.port}`;
  });
  after(async () => {
    await app.close();
  });

  async function call(method: string, path: string, body?: string, type = 'application/json') {
    const r = await fetch(base + path, { method, body, headers: body === undefined ? {} : { 'content-type': type } });
    const text = await r.text();
    assert.match(r.headers.get('content-type') ?? '', /application\/json/, `${r.status} ${text.slice(0, 100)}`);
    const j = JSON.parse(text) as { error: { code: string; message: string; details?: Record<string, unknown> } };
    assert.equal(typeof j.error?.code, 'string', text.slice(0, 200));
    assert.equal(typeof j.error?.message, 'string', text.slice(0, 200));
    return { status: r.status, error: j.error };
  }

  it('413 for a body just over the limit names the field that made it too large', async () => {
    const r = await call('POST', '/api/experiments', JSON.stringify({ title: 'x'.repeat(LIMIT), rationale: 'short', command: 'python t.py' }));
    assert.equal(r.status, 413);
    assert.equal(r.error.code, 'payload_too_large');
    assert.equal(r.error.details?.field, 'title');
    assert.match(r.error.message, /field "title" alone is 65,536 bytes/);
  });

  it('413 far over the limit still has the JSON shape (no field: the body is not read)', async () => {
    const r = await call('POST', '/api/experiments', JSON.stringify({ title: 'x'.repeat(LIMIT * 3) }));
    assert.equal(r.status, 413);
    assert.equal(r.error.details, undefined);
  });

  it('414 from the router and 431 from the HTTP parser use the shape and do not echo the request', async () => {
    const long = await call('GET', `/api/experiments/${'a'.repeat(300)}`);
    assert.equal(long.status, 414);
    assert.equal(long.error.code, 'uri_too_long');
    assert.doesNotMatch(long.error.message, /aaaa/);
    const huge = await call('GET', `/api/experiments/x?q=${'b'.repeat(20_000)}`);
    assert.equal(huge.status, 431);
    assert.doesNotMatch(huge.error.message, /bbbb/);
  });

  it('404, 415 and 400 share it', async () => {
    assert.equal((await call('GET', '/api/nope')).status, 404);
    assert.equal((await call('POST', '/api/experiments', 'x', 'text/plain')).status, 415);
    assert.equal((await call('POST', '/api/experiments', '{bad')).error.code, 'invalid_json');
  });

  it('largestField finds the biggest leaf, nested paths included', () => {
    assert.deepEqual(largestField({ a: 'xx', b: { c: 'x'.repeat(10) } }), { field: 'b.c', bytes: 10 });
    assert.deepEqual(largestField({ a: 'é' }), { field: 'a', bytes: 2 });
    assert.equal(largestField(42), undefined);
  });
});
