// Model prices and the cost of one Messages API response, from the `usage` it reports. Pure.

/** US dollars per million tokens. */
export interface ModelPrice {
  input: number;
  output: number;
  /** Writing to the prompt cache (5-minute TTL); defaults to 1.25 × input. */
  cacheWrite?: number;
  /** Reading from the prompt cache; defaults to 0.1 × input. */
  cacheRead?: number;
}

/**
 * List prices (USD per MTok) from the model pages on platform.claude.com (Models & pricing). Cache writes
 * (5 min) are 1.25 × input and cache reads 0.1 × input there, which are the defaults. Override with --prices.
 */
export const PRICES: Record<string, ModelPrice> = {
  'claude-fable-5-1': { input: 10, output: 50 },
  'claude-opus-5-5': { input: 4, output: 20 },
  'claude-opus-5': { input: 5, output: 25 },
  'claude-opus-4-5': { input: 5, output: 25 },
  'claude-opus-4-1': { input: 15, output: 75 },
  'claude-sonnet-5-5': { input: 2, output: 10 },
  'claude-sonnet-5': { input: 2, output: 10 },
  'claude-sonnet-4-6': { input: 3, output: 15 },
  'claude-sonnet-4-5': { input: 3, output: 15 },
  'claude-sonnet-4': { input: 3, output: 15 },
  'claude-haiku-4-5': { input: 1, output: 5 },
};

/** Used for unlisted models of a known family (flagged as estimated): the family's current price. */
const FAMILY: Record<string, ModelPrice> = {
  fable: { input: 10, output: 50 },
  opus: { input: 4, output: 20 },
  sonnet: { input: 2, output: 10 },
  haiku: { input: 1, output: 5 },
};

export const DEFAULT_MODEL = 'claude-sonnet-5-5';

export interface UsageLike {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}

export class PricingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PricingError';
  }
}

/** Price of a model: exact match, then without a `-YYYYMMDD` suffix, then by family (estimated). */
export function priceFor(model: string, table: Record<string, ModelPrice> = PRICES): { price: ModelPrice; estimated: boolean } {
  const exact = table[model];
  if (exact) return { price: exact, estimated: false };
  const undated = model.replace(/-\d{8}$/, '');
  if (table[undated]) return { price: table[undated]!, estimated: false };
  for (const [fam, p] of Object.entries(FAMILY)) if (model.includes(fam)) return { price: p, estimated: true };
  throw new PricingError(`no price known for model ${JSON.stringify(model)}; pass a price table (--prices prices.json)`);
}

/** Tokens billed as input (all kinds) and output. */
export function tokensOf(u: UsageLike): { tokensIn: number; tokensOut: number } {
  return {
    tokensIn: (u.input_tokens ?? 0) + (u.cache_creation_input_tokens ?? 0) + (u.cache_read_input_tokens ?? 0),
    tokensOut: u.output_tokens ?? 0,
  };
}

/** Dollar cost of one response's usage. */
export function costOf(u: UsageLike, price: ModelPrice): number {
  const cw = price.cacheWrite ?? price.input * 1.25;
  const cr = price.cacheRead ?? price.input * 0.1;
  const usd =
    ((u.input_tokens ?? 0) * price.input +
      (u.output_tokens ?? 0) * price.output +
      (u.cache_creation_input_tokens ?? 0) * cw +
      (u.cache_read_input_tokens ?? 0) * cr) /
    1_000_000;
  return usd;
}

/** Parse a user price table `{model: {input, output, cacheWrite?, cacheRead?}}`, merged over the defaults. */
export function parsePriceTable(json: string): Record<string, ModelPrice> {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    throw new PricingError(`price table is not JSON: ${(err as Error).message}`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new PricingError('price table must be an object {model: {input, output}}');
  const out: Record<string, ModelPrice> = { ...PRICES };
  for (const [model, p] of Object.entries(raw as Record<string, unknown>)) {
    const q = p as Record<string, unknown>;
    const ok = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0;
    if (!q || !ok(q.input) || !ok(q.output) || (q.cacheWrite !== undefined && !ok(q.cacheWrite)) || (q.cacheRead !== undefined && !ok(q.cacheRead))) {
      throw new PricingError(`price for ${JSON.stringify(model)} needs non-negative numbers input and output (USD per million tokens)`);
    }
    out[model] = { input: q.input as number, output: q.output as number, cacheWrite: q.cacheWrite as number | undefined, cacheRead: q.cacheRead as number | undefined };
  }
  return out;
}
