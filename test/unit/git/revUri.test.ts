import * as assert from 'node:assert/strict';
import { fromRevUri, REV_SCHEME, RevUriError, toRevUri, type RevRef } from '../../../src/git/revUri';

const SHA = 'a'.repeat(40);

describe('revUri', () => {
  it('round-trips experiment and commit refs, keeping the file path (language detection)', () => {
    const refs: RevRef[] = [
      { kind: 'experiment', experimentId: 'exp-12', side: 'head', path: 'src/train.py' },
      { kind: 'experiment', experimentId: 'exp-12', side: 'base', path: 'a b/ü & ?#.txt' },
      { kind: 'commit', agentId: 'agent-3', commit: SHA, path: 'deep/x/y.ts' },
    ];
    for (const r of refs) {
      const u = toRevUri(r);
      assert.equal(u.scheme, REV_SCHEME);
      assert.equal(u.path, `/${r.path}`);
      assert.deepEqual(fromRevUri(u), r);
    }
  });

  it('rejects path traversal, bad ids, bad shas, bad sides and foreign schemes', () => {
    assert.throws(() => toRevUri({ kind: 'experiment', experimentId: 'exp-1', side: 'head', path: '../etc/passwd' }), RevUriError);
    assert.throws(() => toRevUri({ kind: 'experiment', experimentId: '../x', side: 'head', path: 'a' }), RevUriError);
    assert.throws(() => toRevUri({ kind: 'commit', agentId: 'a1', commit: 'HEAD', path: 'a' }), RevUriError);
    assert.throws(() => toRevUri({ kind: 'experiment', experimentId: 'e', side: 'left' as 'head', path: 'a' }), RevUriError);
    assert.throws(() => fromRevUri({ scheme: 'file', path: '/a', query: 'x=e&side=head' }), RevUriError);
    assert.throws(() => fromRevUri({ scheme: REV_SCHEME, path: '/a/../../b', query: 'x=e&side=head' }), RevUriError);
    assert.throws(() => fromRevUri({ scheme: REV_SCHEME, path: '/a', query: '' }), /missing revision/);
    assert.throws(() => fromRevUri({ scheme: REV_SCHEME, path: '/a', query: 'x=e&side=both' }), /invalid side/);
    assert.throws(() => fromRevUri({ scheme: REV_SCHEME, path: '/\0', query: 'x=e&side=head' }), RevUriError);
  });

  it('query parameters cannot be smuggled through the file path', () => {
    const u = toRevUri({ kind: 'experiment', experimentId: 'exp-1', side: 'base', path: 'x?x=evil&side=head' });
    const back = fromRevUri(u);
    assert.equal(back.kind, 'experiment');
    assert.equal((back as { experimentId: string }).experimentId, 'exp-1');
    assert.equal((back as { side: string }).side, 'base');
    assert.equal(back.path, 'x?x=evil&side=head');
  });
});
