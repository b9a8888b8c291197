// The typed webview protocol: endpoints, validation, guards, surface definitions.
import assert from 'node:assert/strict';
import { Endpoint, ProtocolError, Ready, defineNotification, defineRequest, is, str, type WireMessage } from '../../../src/shared/protocol';
import { BatchApprove, Decide, OpenDiff } from '../../../src/shared/reviewProtocol';
import { SetVerdict, Vote } from '../../../src/shared/forumProtocol';

const SHA = 'a'.repeat(40);
const TREE = 'b'.repeat(40);

/** Two endpoints wired back to back through structured cloning, like postMessage. */
function pair(): { host: Endpoint; view: Endpoint; sent: WireMessage[] } {
  const sent: WireMessage[] = [];
  let host!: Endpoint;
  let view!: Endpoint;
  host = new Endpoint((m) => {
    sent.push(m);
    queueMicrotask(() => view.handle(structuredClone(m)));
  });
  view = new Endpoint((m) => {
    sent.push(m);
    queueMicrotask(() => host.handle(structuredClone(m)));
  });
  return { host, view, sent };
}

describe('webview protocol', () => {
  const Echo = defineRequest<{ text: string }, { upper: string }>('test/echo', (p) => ({ text: str((p as { text?: unknown })?.text, 'text', 100) }));
  const Ping = defineNotification<{ n: number }>('test/ping');

  it('matches replies to requests by id, concurrently', async () => {
    const { host, view } = pair();
    host.onRequest(Echo, async (p) => {
      await new Promise((r) => setTimeout(r, p.text === 'slow' ? 20 : 1));
      return { upper: p.text.toUpperCase() };
    });
    const [a, b] = await Promise.all([view.request(Echo, { text: 'slow' }), view.request(Echo, { text: 'fast' })]);
    assert.deepEqual([a.upper, b.upper], ['SLOW', 'FAST']);
  });

  it('answers invalid params and unknown methods with errors, not exceptions', async () => {
    const { host, view } = pair();
    host.onRequest(Echo, (p) => ({ upper: p.text }));
    await assert.rejects(view.request(Echo, { text: 'x'.repeat(101) }), (e: ProtocolError) => e.code === 'invalid' && /longer than 100/.test(e.message));
    await assert.rejects(view.request(Echo, { text: 42 } as unknown as { text: string }), /text must be a string/);
    await assert.rejects(view.request(defineRequest<object, void>('test/nope'), {}), (e: ProtocolError) => e.code === 'unknown_method');
  });

  it('passes handler errors through with their code', async () => {
    const { host, view } = pair();
    host.onRequest(Echo, () => {
      throw Object.assign(new Error('already approved'), { code: 'conflict' });
    });
    await assert.rejects(view.request(Echo, { text: 'a' }), (e: ProtocolError) => e.code === 'conflict' && e.message === 'already approved');
  });

  it('delivers notifications; drops invalid ones; ignores garbage', async () => {
    const { host, view } = pair();
    const got: unknown[] = [];
    host.onNotification(Ready, (p) => got.push(p.surface));
    view.notify(Ready, { surface: 'review' });
    view.notify(Ready, { surface: 42 } as unknown as { surface: string });
    await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(got, ['review']);
    assert.equal(host.handle({ t: 'bogus' }), false);
    assert.equal(host.handle(null), false);
    assert.equal(host.handle('{"t":"req"}'), false);
  });

  it('is() recognises messages of one type only', () => {
    assert.equal(is(Ping, { t: 'note', method: 'test/ping', params: {} }), true);
    assert.equal(is(Ping, { t: 'note', method: 'test/pong', params: {} }), false);
    assert.equal(is(Echo, { t: 'req', id: 1, method: 'test/echo', params: {} }), true);
    assert.equal(is(Echo, { t: 'note', method: 'test/echo', params: {} }), false);
  });

  it('rejects outstanding requests on dispose and after a timeout', async () => {
    const silent = new Endpoint(() => undefined, { timeoutMs: 20 });
    await assert.rejects(silent.request(Echo, { text: 'x' }), (e: ProtocolError) => e.code === 'timeout');
    const gone = new Endpoint(() => undefined);
    const p = gone.request(Echo, { text: 'x' });
    gone.dispose();
    await assert.rejects(p, (e: ProtocolError) => e.code === 'disposed');
  });

  it('method names follow surface/verbNoun', () => {
    assert.throws(() => defineRequest('approve', () => ({})), /invalid protocol method/);
    assert.throws(() => defineNotification('Review/State'), /invalid protocol method/);
  });
});

describe('review / forum protocol validation', () => {
  it('a veto or request for changes needs a reason; approve does not', () => {
    assert.throws(() => Decide.validate({ experimentId: 'exp-1', decision: 'veto', commit: SHA, tree: TREE }), /needs a reason/);
    assert.throws(() => Decide.validate({ experimentId: 'exp-1', decision: 'requestChanges', commit: SHA, tree: TREE, reason: '   ' }), /needs a reason/);
    assert.deepEqual(Decide.validate({ experimentId: 'exp-1', decision: 'approve', commit: SHA, tree: TREE }), {
      experimentId: 'exp-1',
      decision: 'approve',
      commit: SHA,
      tree: TREE,
      reason: undefined,
    });
    assert.equal(Decide.validate({ experimentId: 'exp-1', decision: 'veto', commit: SHA, tree: TREE, reason: '  reads labels ' }).reason, 'reads labels');
  });

  it('decisions name a full pinned commit and tree and a valid id', () => {
    assert.throws(() => Decide.validate({ experimentId: 'exp-1', decision: 'approve', commit: 'abc', tree: TREE }), /40-hex/);
    assert.throws(() => Decide.validate({ experimentId: '../etc', decision: 'approve', commit: SHA, tree: TREE }), /must be an id/);
    assert.throws(() => Decide.validate({ experimentId: 'exp-1', decision: 'merge', commit: SHA, tree: TREE }), /one of/);
  });

  it('batch approval is bounded and checks every item', () => {
    assert.throws(() => BatchApprove.validate({ items: [] }), /1\.\.500/);
    assert.throws(() => BatchApprove.validate({ items: Array.from({ length: 501 }, () => ({ experimentId: 'e', commit: SHA, tree: TREE })) }), /1\.\.500/);
    assert.throws(() => BatchApprove.validate({ items: [{ experimentId: 'e', commit: SHA, tree: TREE }, { experimentId: 'f', commit: SHA }] }), /items\[1\]\.tree/);
    assert.equal(BatchApprove.validate({ items: [{ experimentId: 'e', commit: SHA, tree: TREE }] }).items.length, 1);
  });

  it('openDiff takes a file and a non-negative line', () => {
    assert.deepEqual(OpenDiff.validate({ experimentId: 'exp-2', file: 'eval.py', line: 8 }), { experimentId: 'exp-2', file: 'eval.py', line: 8 });
    assert.throws(() => OpenDiff.validate({ experimentId: 'exp-2', file: 'eval.py', line: -1 }), /integer/);
    assert.throws(() => OpenDiff.validate({ experimentId: 'exp-2', file: '', line: 1 }), /empty/);
  });

  it('forum verdicts and votes are enumerations', () => {
    assert.equal(SetVerdict.validate({ postId: 'f-1', verdict: 'suspect' }).verdict, 'suspect');
    assert.throws(() => SetVerdict.validate({ postId: 'f-1', verdict: 'approved' }), /one of verified, suspect, retracted/);
    assert.throws(() => Vote.validate({ postId: 'f-1', vote: 'sideways' }), /one of up, down/);
  });
});
