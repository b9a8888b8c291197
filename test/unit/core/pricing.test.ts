import * as assert from 'node:assert/strict';
import { PricingError, costOf, parsePriceTable, priceFor, tokensOf } from '../../../src/core/pricing';

describe('core/pricing', () => {
  it('costs input, output and cache tokens at per-million prices', () => {
    const p = { input: 3, output: 15 };
    assert.equal(costOf({ input_tokens: 1_000_000, output_tokens: 0 }, p), 3);
    assert.equal(costOf({ input_tokens: 0, output_tokens: 2_000_000 }, p), 30);
    const withCache = costOf({ input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 1_000_000, cache_read_input_tokens: 1_000_000 }, p);
    assert.ok(Math.abs(withCache - (3 * 1.25 + 3 * 0.1)) < 1e-12);
    assert.deepEqual(tokensOf({ input_tokens: 5, output_tokens: 7, cache_read_input_tokens: 2, cache_creation_input_tokens: null }), { tokensIn: 7, tokensOut: 7 });
  });

  it('looks up dated models, falls back to family prices as estimated, and rejects unknown models', () => {
    assert.equal(priceFor('claude-sonnet-4-5-20250929').estimated, false);
    const est = priceFor('claude-opus-9');
    assert.equal(est.estimated, true);
    assert.throws(() => priceFor('gpt-x'), PricingError);
  });

  it('parses a user price table and rejects bad ones', () => {
    const t = parsePriceTable('{"my-model": {"input": 1, "output": 2}}');
    assert.deepEqual(priceFor('my-model', t).price, { input: 1, output: 2, cacheWrite: undefined, cacheRead: undefined });
    assert.throws(() => parsePriceTable('{"m": {"input": -1, "output": 2}}'), /non-negative/);
    assert.throws(() => parsePriceTable('['), /not JSON/);
  });
});
