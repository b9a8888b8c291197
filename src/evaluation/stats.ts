// Statistics for weak-to-strong results: PGR, bootstrap confidence intervals (over items and over seeds),
// significance of an improvement over a baseline, and "preliminary" marking for too few seeds.
// Pure and deterministic: every random procedure takes a seed.
import { createHash } from 'node:crypto';

/** Deterministic PRNG (mulberry32). Returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 32-bit seed derived from any string (sha256 prefix), for reproducible per-entity streams. */
export function seedFrom(s: string): number {
  return createHash('sha256').update(s).digest().readUInt32LE(0);
}

/** Standard normal draw (Box-Muller) from a uniform RNG. */
export function normal(rng: () => number): number {
  let u = rng();
  while (u <= 1e-12) u = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

/**
 * Performance gap recovered: (transfer − weak) / (strong − weak). `null` when the gap is too small to
 * define a ratio (|strong − weak| < minGap), so callers never display an exploding quotient.
 */
export function pgr(transferAcc: number, weakAcc: number, strongAcc: number, minGap = 1e-9): number | null {
  const gap = strongAcc - weakAcc;
  if (!Number.isFinite(gap) || Math.abs(gap) < minGap || !Number.isFinite(transferAcc)) return null;
  return (transferAcc - weakAcc) / gap;
}

export interface BootstrapOptions {
  /** Resamples (default 2000). */
  iterations?: number;
  /** Two-sided miscoverage (default 0.05 → 95% interval). */
  alpha?: number;
  seed?: number;
}

export interface Interval {
  estimate: number;
  lo: number;
  hi: number;
  /** Bootstrap standard error. */
  se: number;
  level: number;
}

/** Quantile of a sorted array (linear interpolation, type 7). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

function summarize(estimate: number, draws: Float64Array, alpha: number): Interval {
  const finite = Float64Array.from(draws.filter((x) => Number.isFinite(x))).sort();
  let m = 0;
  for (const x of finite) m += x;
  m /= Math.max(1, finite.length);
  let v = 0;
  for (const x of finite) v += (x - m) ** 2;
  const se = finite.length > 1 ? Math.sqrt(v / (finite.length - 1)) : 0;
  return {
    estimate,
    lo: quantileSorted(finite, alpha / 2),
    hi: quantileSorted(finite, 1 - alpha / 2),
    se,
    level: 1 - alpha,
  };
}

/**
 * Percentile bootstrap over items. `stat` receives the resampled item indices (length n) and returns a
 * number. Generic form; the helpers below are the fast paths for accuracy and PGR.
 */
export function bootstrapItems(
  n: number,
  stat: (idx: Uint32Array) => number,
  opts: BootstrapOptions = {},
): Interval {
  const iterations = opts.iterations ?? 2000;
  const alpha = opts.alpha ?? 0.05;
  const rng = mulberry32(opts.seed ?? 1);
  const identity = new Uint32Array(n);
  for (let i = 0; i < n; i++) identity[i] = i;
  const estimate = stat(identity);
  const idx = new Uint32Array(n);
  const draws = new Float64Array(iterations);
  for (let b = 0; b < iterations; b++) {
    for (let i = 0; i < n; i++) idx[i] = Math.floor(rng() * n);
    draws[b] = stat(idx);
  }
  return summarize(estimate, draws, alpha);
}

/** Mean of a 0/1 vector over resampled indices. */
function meanAt(v: ArrayLike<number>, idx: Uint32Array): number {
  let s = 0;
  for (let i = 0; i < idx.length; i++) s += v[idx[i]];
  return idx.length ? s / idx.length : NaN;
}

/** Bootstrap CI of an accuracy from per-item correctness (1 = correct, 0 = wrong). */
export function bootstrapAccuracy(correct: ArrayLike<number>, opts: BootstrapOptions = {}): Interval {
  return bootstrapItems(correct.length, (idx) => meanAt(correct, idx), opts);
}

export interface PgrItemsInput {
  /** Per-item correctness of the weak-to-strong (transfer) model. */
  transferCorrect: ArrayLike<number>;
  /** Per-item correctness of the weak and strong (ceiling) models, if available: resampled jointly (paired). */
  weakCorrect?: ArrayLike<number>;
  strongCorrect?: ArrayLike<number>;
  /** Fixed baseline accuracies, used when the per-item vectors are not given. */
  weakAcc?: number;
  strongAcc?: number;
}

/**
 * Bootstrap CI of PGR over items. With per-item weak/strong correctness the three models are resampled on
 * the same items (paired), which is the right error model when all three are scored on one test set; with
 * fixed baselines only the transfer accuracy varies.
 */
export function bootstrapPgrItems(input: PgrItemsInput, opts: BootstrapOptions = {}): Interval {
  const { transferCorrect: t, weakCorrect: w, strongCorrect: s } = input;
  const n = t.length;
  if ((w && w.length !== n) || (s && s.length !== n)) throw new RangeError('correctness vectors differ in length');
  if (!w && input.weakAcc === undefined) throw new TypeError('weakCorrect or weakAcc is required');
  if (!s && input.strongAcc === undefined) throw new TypeError('strongCorrect or strongAcc is required');
  return bootstrapItems(
    n,
    (idx) => {
      const wa = w ? meanAt(w, idx) : (input.weakAcc as number);
      const sa = s ? meanAt(s, idx) : (input.strongAcc as number);
      return pgr(meanAt(t, idx), wa, sa) ?? NaN;
    },
    opts,
  );
}

/** Percentile bootstrap CI of the mean of per-seed values (e.g. PGR of each seed). */
export function bootstrapSeeds(values: readonly number[], opts: BootstrapOptions = {}): Interval {
  const n = values.length;
  if (n === 0) throw new RangeError('no seeds');
  return bootstrapItems(n, (idx) => meanAt(values, idx), opts);
}

export interface SeedSummary {
  mean: number;
  /** Sample standard deviation across seeds (0 with one seed). */
  sd: number;
  numSeeds: number;
  /** Bootstrap interval over seeds; absent with fewer than two seeds. */
  ci?: { lo: number; hi: number; level: number };
  /** True when fewer than `minSeeds` seeds back the number: show it, but do not rank on it. */
  preliminary: boolean;
}

/** Mean, spread and bootstrap CI over seeds; fewer than `minSeeds` (default 3) seeds is preliminary. */
export function summarizeSeeds(
  values: readonly number[],
  opts: BootstrapOptions & { minSeeds?: number } = {},
): SeedSummary {
  const minSeeds = opts.minSeeds ?? 3;
  const n = values.length;
  if (n === 0) return { mean: NaN, sd: 0, numSeeds: 0, preliminary: true };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  const out: SeedSummary = { mean, sd, numSeeds: n, preliminary: n < minSeeds };
  if (n >= 2) {
    const iv = bootstrapSeeds(values, opts);
    out.ci = { lo: iv.lo, hi: iv.hi, level: iv.level };
  }
  return out;
}

export interface SignificanceResult {
  /** Observed improvement (method − baseline). */
  diff: number;
  /** One-sided p-value for "method is better than baseline". */
  pValue: number;
  /** Paired bootstrap CI of the difference (item-level tests only). */
  ci?: { lo: number; hi: number; level: number };
  iterations: number;
}

/**
 * Paired test of method vs baseline scored on the same items (per-item correctness vectors).
 * p-value from a sign-flip permutation test (under H0 the two labels of each item are exchangeable, so each
 * discordant pair's difference flips sign with probability 1/2); CI from a paired bootstrap.
 */
export function pairedItemTest(
  method: ArrayLike<number>,
  baseline: ArrayLike<number>,
  opts: BootstrapOptions = {},
): SignificanceResult {
  const n = method.length;
  if (baseline.length !== n) throw new RangeError('method and baseline differ in length');
  if (n === 0) throw new RangeError('no items');
  const iterations = opts.iterations ?? 2000;
  const d = new Float64Array(n);
  let sum = 0;
  const discordant: number[] = [];
  for (let i = 0; i < n; i++) {
    d[i] = method[i] - baseline[i];
    sum += d[i];
    if (d[i] !== 0) discordant.push(d[i]);
  }
  const diff = sum / n;
  const rng = mulberry32(opts.seed ?? 1);
  let atLeast = 0;
  for (let b = 0; b < iterations; b++) {
    let s = 0;
    for (const x of discordant) s += rng() < 0.5 ? x : -x;
    if (s / n >= diff - 1e-12) atLeast++;
  }
  const iv = bootstrapItems(n, (idx) => meanAt(d, idx), { ...opts, seed: (opts.seed ?? 1) + 1 });
  return { diff, pValue: (atLeast + 1) / (iterations + 1), ci: { lo: iv.lo, hi: iv.hi, level: iv.level }, iterations };
}

/**
 * Two-sample permutation test over seeds (method seeds vs baseline seeds, e.g. PGR per seed). Exact when
 * the number of relabelings is small (≤ 20,000), Monte Carlo otherwise. One-sided: method > baseline.
 */
export function permutationTest(
  method: readonly number[],
  baseline: readonly number[],
  opts: BootstrapOptions = {},
): SignificanceResult {
  const a = method.length;
  const b = baseline.length;
  if (a === 0 || b === 0) throw new RangeError('both groups need at least one value');
  const all = [...method, ...baseline];
  const total = all.reduce((x, y) => x + y, 0);
  const meanA = method.reduce((x, y) => x + y, 0) / a;
  const diff = meanA - (total - meanA * a) / b;
  const stat = (sumA: number) => sumA / a - (total - sumA) / b;
  const nAll = a + b;
  const combos = binomial(nAll, a);
  let atLeast = 0;
  let count = 0;
  if (combos <= 20_000) {
    const pick = (start: number, left: number, sumA: number): void => {
      if (left === 0) {
        count++;
        if (stat(sumA) >= diff - 1e-12) atLeast++;
        return;
      }
      for (let i = start; i <= nAll - left; i++) pick(i + 1, left - 1, sumA + all[i]);
    };
    pick(0, a, 0);
    return { diff, pValue: atLeast / count, iterations: count };
  }
  const iterations = opts.iterations ?? 5000;
  const rng = mulberry32(opts.seed ?? 1);
  const buf = all.slice();
  for (let it = 0; it < iterations; it++) {
    let sumA = 0;
    for (let i = 0; i < a; i++) {
      const j = i + Math.floor(rng() * (nAll - i));
      const t = buf[i];
      buf[i] = buf[j];
      buf[j] = t;
      sumA += buf[i];
    }
    if (stat(sumA) >= diff - 1e-12) atLeast++;
  }
  return { diff, pValue: (atLeast + 1) / (iterations + 1), iterations };
}

function binomial(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return Math.round(r);
}
