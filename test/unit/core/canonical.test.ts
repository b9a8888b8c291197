import * as assert from 'node:assert/strict';
import { canonicalJson, sha256Hex } from '../../../src/core/canonical';

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops undefined members', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [1, { z: 0, y: undefined }], c: 'x' } }), '{"a":{"c":"x","d":[1,{"z":0}]},"b":1}');
  });
  it('is independent of insertion order', () => {
    const x = { one: 1, two: [2, 3], three: { four: 'f' } };
    const y = { three: { four: 'f' }, two: [2, 3], one: 1 };
    assert.equal(canonicalJson(x), canonicalJson(y));
    assert.equal(sha256Hex(canonicalJson(x)), sha256Hex(canonicalJson(y)));
  });
  it('escapes strings like JSON and rejects non-finite numbers', () => {
    assert.equal(canonicalJson({ s: 'a"\n\u2028' }), JSON.stringify({ s: 'a"\n\u2028' }));
    assert.throws(() => canonicalJson({ n: Infinity }), /non-finite/);
    assert.throws(() => canonicalJson({ n: NaN }), /non-finite/);
  });
});
