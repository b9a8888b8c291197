// Probe-resistant release of scores and detection of label probing. Pure logic.
//
// Why a noisy Ladder (Blum & Hardt 2015, "The Ladder: A Reliable Leaderboard for Machine Learning
// Competitions") and not just rounding:
//  * Exact counts leak one label per flipped prediction (the AAR incident). Rounding alone does not fix it:
//    an attacker who knows a few labels pads the score to sit exactly on a rounding boundary, and then each
//    flipped unknown prediction either crosses the boundary or not — one label per query again. Releasing
//    rounded scores for every submission also admits the "boosting" attack (submit random vectors, keep
//    the ones that scored above chance, majority-vote them), which recovers labels at a rate ~sqrt(k/n).
//  * The Ladder answers a submission with a new number only if it beats the agent's best released score
//    by more than a threshold η; otherwise it repeats the previous best. The number of distinct answers an
//    agent can ever obtain is ≤ 1/η per split, so the total information released is O(log(k)/η) bits
//    whatever the number of queries k, and random or few-bit variations of a submission never beat the
//    best by η (flipping one prediction moves accuracy by 1/n ≪ η).
//  * The deterministic Ladder still has a sharp boundary (best + η) that a label-padding attacker can sit
//    on: below it, a flip that does not cross reveals a label for free. We therefore compare
//    `acc + ξ > best + η` with ξ uniform in [−ν/2, ν/2], drawn from an HMAC of a server secret and the
//    prediction hash: re-submitting the same vector gives the same ξ (no averaging), and a single flip
//    (1/n) changes the crossing probability by only ~1/(nν). Near the boundary each query also has a
//    sizeable chance of being an (expensive, η-consuming) release.
//  * Released values are rounded to `precision`; `correct` is derived from the released accuracy.
// Honest agents: the released best is within precision/2 + η + ν/2 of the true accuracy of their best
// submission (defaults 0.0025 + 0.005 + 0.0025 = 1 point), and each response says whether it is new.
import { createHmac } from 'node:crypto';

export interface ReleaseSettings {
  /** Improvement over the best released score needed to release a new score (η). */
  threshold: number;
  /** Width ν of the keyed uniform noise on the comparison. */
  noise: number;
  /** Grid released scores are rounded to. */
  precision: number;
}

export const DEFAULT_RELEASE: ReleaseSettings = { threshold: 0.005, noise: 0.005, precision: 0.005 };

export function roundTo(x: number, grid: number): number {
  if (grid <= 0) return x;
  const r = Math.round(x / grid) * grid;
  // Clean binary noise (0.7350000000000001) so released numbers print as the grid intends.
  return Number(r.toFixed(Math.max(0, Math.ceil(-Math.log10(grid)) + 1)));
}

/** Keyed uniform in [−0.5, 0.5) from a secret and a context string (e.g. agent|dataset|split|predHash). */
export function keyedUniform(secret: Buffer | string, context: string): number {
  const h = createHmac('sha256', secret).update(context).digest();
  return h.readUInt32LE(0) / 4294967296 - 0.5;
}

export interface LadderState {
  /** Best released accuracy so far, or null before the first release. */
  best: number | null;
  releases: number;
}

export interface LadderOutcome {
  released: number;
  /** True when this submission produced a new released score. */
  improved: boolean;
  state: LadderState;
}

/** One Ladder step. `u` is the keyed uniform in [−0.5, 0.5) for this submission. */
export function ladderStep(state: LadderState, acc: number, u: number, s: ReleaseSettings): LadderOutcome {
  if (state.best === null || acc + u * s.noise > state.best + s.threshold) {
    const released = roundTo(acc, s.precision);
    // Never release a lower "best" (rounding could otherwise move it down by less than the grid).
    const best = state.best === null ? released : Math.max(released, state.best);
    return { released: best, improved: true, state: { best, releases: state.releases + 1 } };
  }
  return { released: state.best, improved: false, state };
}

// ---------------------------------------------------------------------------------------------------------
// Bit-packed prediction vectors and Hamming distance. Binary tasks pack one bit per item; k-class tasks
// concatenate ceil(log2 k) bit planes, so the distance counts each differing item once per differing bit
// (between 1 and log2 k per item), close enough to the item Hamming distance for detection.

export function packPredictions(preds: ArrayLike<number>, numClasses = 2): Uint32Array {
  const n = preds.length;
  const planes = Math.max(1, Math.ceil(Math.log2(numClasses)));
  const words = Math.ceil(n / 32);
  const out = new Uint32Array(words * planes);
  for (let p = 0; p < planes; p++) {
    for (let i = 0; i < n; i++) if ((preds[i] >>> p) & 1) out[p * words + (i >>> 5)] |= 1 << (i & 31);
  }
  return out;
}

function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

export function hamming(a: Uint32Array, b: Uint32Array): number {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  for (let i = 0; i < a.length; i++) d += popcount32(a[i] ^ b[i]);
  return d;
}

export interface DetectorSettings {
  /** How many previous submissions each new one is compared with. */
  window: number;
  /** A submission is a near-duplicate if it differs from a recent one in ≤ max(minPositions, fraction·n)
   * positions (and > 0: identical resubmissions carry no new information and are not probing). */
  nearFraction: number;
  minPositions: number;
  /** Flag when at least `trigger` of the last `lookback` submissions were near-duplicates. */
  trigger: number;
  lookback: number;
}

export const DEFAULT_DETECTOR: DetectorSettings = {
  window: 20,
  nearFraction: 0.02,
  minPositions: 3,
  trigger: 5,
  lookback: 50,
};

export interface Observation {
  /** Smallest Hamming distance to a recent submission (Infinity if none). */
  minDistance: number;
  near: boolean;
  /** Near-duplicates among the last `lookback` submissions (including this one). */
  nearCount: number;
  suspected: boolean;
  /** Queries observed so far (including this one). */
  queries: number;
}

/** Sliding-window Hamming detector for one (agent, dataset, split). */
export class ProbeDetector {
  private readonly recent: Uint32Array[] = [];
  private readonly flags: boolean[] = [];
  private queries = 0;
  private nearTotal = 0;

  constructor(private readonly s: DetectorSettings = DEFAULT_DETECTOR) {}

  observe(packed: Uint32Array, n: number): Observation {
    let minDistance = Infinity;
    for (const r of this.recent) {
      const d = hamming(packed, r);
      if (d < minDistance) minDistance = d;
    }
    const limit = Math.max(this.s.minPositions, Math.floor(this.s.nearFraction * n));
    const near = minDistance > 0 && minDistance <= limit;
    this.queries++;
    if (near) this.nearTotal++;
    this.flags.push(near);
    if (this.flags.length > this.s.lookback) this.flags.shift();
    // Identical resubmissions are not stored twice, so they do not push real history out of the window.
    if (minDistance !== 0) {
      this.recent.push(packed);
      if (this.recent.length > this.s.window) this.recent.shift();
    }
    const nearCount = this.flags.reduce((a, f) => a + (f ? 1 : 0), 0);
    return { minDistance, near, nearCount, suspected: nearCount >= this.s.trigger, queries: this.queries };
  }

  get totalNear(): number {
    return this.nearTotal;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Run-bound release. A run dispatched from an approved commit gets ONE score per (dataset, split): its first
// run-bound evaluation fixes it, later ones in the same run repeat it (no new information). The score goes
// through a per-(agent, dataset, split) net shared by all of the agent's runs: if the submission's accuracy
// (plus keyed noise) lies within `radius` of the exact accuracy behind one of the agent's earlier run scores,
// the run gets that earlier score again (the first such point, in creation order, so no "nearest point"
// boundary exists that a single flip could move across without noise); only otherwise is a new value
// (rounded to `precision`) released. Why not a per-run Ladder: every fresh run would start with a plain
// rounded release, and two runs — a base vector and the same vector with one prediction flipped — would
// differ by two items on a two-item grid: one exact label per approved run. Why not an exact score per
// run: the same attack without the grid. Here a run that changes fewer than ~radius·n predictions of an
// earlier run learns nothing; one that changes more learns a coarse count, once, at the price of a human
// approval. With radiusItems ≥ k + noiseItems/2 no change of k items moves a run's score off an earlier point
// (defaults: single and pair flips never do; a group of 4 only when all four agree, and then half the time).
// Honest runs: a run whose accuracy is not close to an earlier run's gets its own accuracy rounded to
// `precision`; one within the margin repeats the earlier value, so the error is at most
// radius + noise/2 + precision/2 (1.75 points at n = 400, 1 point from n = 800 with the defaults), and a run
// never shows another run's result beyond that margin.

export interface RunReleaseSettings {
  /** Snap radius in accuracy; the effective radius is max(radius, radiusItems / n). */
  radius: number;
  radiusItems: number;
  /** Width of the keyed uniform noise on the comparison; effective max(noise, noiseItems / n). */
  noise: number;
  noiseItems: number;
  precision: number;
}

export const DEFAULT_RUN_RELEASE: RunReleaseSettings = { radius: 0.005, radiusItems: 4, noise: 0.005, noiseItems: 4, precision: 0.005 };

/** One released run score: the exact accuracy behind it (server-side only) and the value released. */
export interface NetPoint {
  acc: number;
  released: number;
}

export interface NetOutcome {
  released: number;
  /** Index of the earlier point repeated, or −1 when this release created a new point. */
  index: number;
}

/** Pure: the run-bound release of accuracy `acc` over `n` items; `u` is the keyed uniform in [−0.5, 0.5). */
export function netRelease(points: readonly NetPoint[], acc: number, n: number, u: number, s: RunReleaseSettings): NetOutcome {
  const radius = Math.max(s.radius, n > 0 ? s.radiusItems / n : 0);
  const noise = Math.max(s.noise, n > 0 ? s.noiseItems / n : 0);
  const x = acc + u * noise;
  // 1e-9 absorbs binary noise in c/n − c0/n, so "k items" compares as k items (≪ 1/n for any real n).
  for (let i = 0; i < points.length; i++) if (Math.abs(x - points[i].acc) <= radius + 1e-9) return { released: points[i].released, index: i };
  return { released: roundTo(acc, s.precision), index: -1 };
}

/** Bound on |released − true accuracy| of a run-bound release over n items. */
export function runReleaseError(n: number, s: RunReleaseSettings): number {
  return Math.max(s.radius, s.radiusItems / n) + Math.max(s.noise, s.noiseItems / n) / 2 + s.precision / 2;
}

/** Number of predictions equal to `labels`, read from a vector packed by packPredictions. */
export function packedCorrect(packed: Uint32Array, labels: ArrayLike<number>, numClasses = 2): number {
  const n = labels.length;
  const planes = Math.max(1, Math.ceil(Math.log2(numClasses)));
  const words = Math.ceil(n / 32);
  if (packed.length !== words * planes) return NaN;
  let c = 0;
  for (let i = 0; i < n; i++) {
    let v = 0;
    for (let p = 0; p < planes; p++) v |= ((packed[p * words + (i >>> 5)] >>> (i & 31)) & 1) << p;
    if (v === labels[i]) c++;
  }
  return c;
}
