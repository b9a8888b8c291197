// Final (held-out) evaluation helpers shared by the hub (predictions of a run) and the extension (which
// experiments qualify, reading a predictions file, the result summary). Pure: no vscode, no node APIs.
import type { Experiment } from '../core/model';

export const HELDOUT = 'heldout';
const MAX_PREDICTIONS = 2_000_000;
const MAX_ABS = 1_000_000;

function isPredictionVector(v: unknown): v is number[] {
  return (
    Array.isArray(v) &&
    v.length > 0 &&
    v.length <= MAX_PREDICTIONS &&
    v.every((p) => typeof p === 'number' && Number.isInteger(p) && Math.abs(p) <= MAX_ABS)
  );
}

/** Predictions a finished run left in its results.json for a split: `"<split>_predictions": int[]` or
 * `"predictions": {"<split>": int[]}`. Undefined when there are none or they are not an integer vector. */
export function runPredictions(x: Pick<Experiment, 'run'>, split = HELDOUT): number[] | undefined {
  const results = x.run?.artifacts?.results;
  if (!results || typeof results !== 'object' || Array.isArray(results)) return undefined;
  const r = results as Record<string, unknown>;
  const nested = r.predictions && typeof r.predictions === 'object' && !Array.isArray(r.predictions) ? (r.predictions as Record<string, unknown>)[split] : undefined;
  for (const c of [r[`${split}_predictions`], nested]) if (isPredictionVector(c)) return c;
  return undefined;
}

/** Parse a predictions file chosen by the human: a JSON array of integers, or `{"predictions": [...]}`.
 * Throws an Error with a clear message otherwise. */
export function parsePredictions(text: string): number[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new Error(`the predictions file is not valid JSON: ${(err as Error).message.slice(0, 200)}`);
  }
  if (v && typeof v === 'object' && !Array.isArray(v)) v = (v as Record<string, unknown>).predictions;
  if (!isPredictionVector(v)) {
    throw new Error(`the predictions file must hold a non-empty JSON array of integer class predictions (at most ${MAX_PREDICTIONS})`);
  }
  return v;
}

/** Experiments worth a final evaluation: scored or succeeded runs, best verified PGR first, then newest. */
export function finalCandidates(experiments: readonly Experiment[]): Experiment[] {
  return experiments
    .filter((x) => x.state === 'scored' || x.state === 'succeeded')
    .sort((a, b) => (b.score?.pgr ?? -Infinity) - (a.score?.pgr ?? -Infinity) || b.proposedSeq - a.proposedSeq);
}

/** Datasets to offer for an experiment's final evaluation: its own scored dataset first, then the others seen. */
export function finalDatasets(x: Experiment | undefined, experiments: readonly Experiment[]): string[] {
  const out: string[] = [];
  if (x?.score?.dataset) out.push(x.score.dataset);
  for (const y of experiments) if (y.score?.dataset && !out.includes(y.score.dataset)) out.push(y.score.dataset);
  return out;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
function ci(v: unknown): [number, number] | null {
  return Array.isArray(v) && v.length === 2 && num(v[0]) !== null && num(v[1]) !== null ? [v[0] as number, v[1] as number] : null;
}
const f3 = (n: number | null) => (n === null ? 'n/a' : n.toFixed(3));

/** One line for the notification: "transfer_acc 0.812 [0.790, 0.833], PGR 0.420 [0.310, 0.530] (n = 1000)". */
export function finalSummary(result: Record<string, unknown>): string {
  const acc = num(result.transfer_acc);
  const pgr = num(result.pgr);
  const accCi = ci(result.transfer_acc_ci);
  const pgrCi = ci(result.pgr_ci);
  const total = num(result.total);
  return (
    `transfer_acc ${f3(acc)}${accCi ? ` [${f3(accCi[0])}, ${f3(accCi[1])}]` : ''}, ` +
    `PGR ${f3(pgr)}${pgrCi ? ` [${f3(pgrCi[0])}, ${f3(pgrCi[1])}]` : ''}` +
    (total !== null ? ` (n = ${total})` : '')
  );
}
