// Screening benchmark: precision/recall of the static detectors alone and static + AI reviewer on the labelled
// corpus (test/fixtures/screening/cases). The AI reviewer is the real SDK talking to the loopback fake Anthropic
// server, scripted per case from ai.json, so this measures the pipeline and merge rule, not a model.
import type { ScreeningReport } from '../src/core/model';
import { REPORT_TOOL_NAME } from '../src/screening/aiReviewer';
import { screenProposal } from '../src/screening/screen';
import { startFakeAnthropic, toolUseMessage } from '../test/support/fakeAnthropic';
import { type CorpusCase, loadCorpus } from '../test/support/screeningCorpus';

/** Priced like the default reviewer model family; not on the SDK's deprecation list (no warning spam). */
const BENCH_MODEL = 'claude-haiku-4-5';

/** Kinds counted as "flagged": findings a reviewer is asked to look at (medium and above). */
const FLAG_SEVERITIES = new Set(['medium', 'high', 'critical']);

export interface PrCounts {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
}

export interface BenchRow {
  name: string;
  caseLevel: PrCounts;
  kindLevel: PrCounts;
  msPerCase: number;
  usd: number;
  tokens: number;
}

export function precision(c: PrCounts): number {
  return c.tp + c.fp === 0 ? 1 : c.tp / (c.tp + c.fp);
}

export function recall(c: PrCounts): number {
  return c.tp + c.fn === 0 ? 1 : c.tp / (c.tp + c.fn);
}

function flaggedKinds(r: ScreeningReport): Set<string> {
  return new Set(r.findings.filter((f) => FLAG_SEVERITIES.has(f.severity)).map((f) => f.kind));
}

export function tally(cases: readonly CorpusCase[], reports: readonly ScreeningReport[]): { caseLevel: PrCounts; kindLevel: PrCounts } {
  const caseLevel: PrCounts = { tp: 0, fp: 0, fn: 0, tn: 0 };
  const kindLevel: PrCounts = { tp: 0, fp: 0, fn: 0, tn: 0 };
  cases.forEach((c, i) => {
    const r = reports[i]!;
    if (c.expected.gaming && r.gaming) caseLevel.tp++;
    else if (!c.expected.gaming && r.gaming) caseLevel.fp++;
    else if (c.expected.gaming && !r.gaming) caseLevel.fn++;
    else caseLevel.tn++;
    const got = flaggedKinds(r);
    const want = new Set(c.expected.kinds);
    for (const k of got) (want.has(k) ? kindLevel.tp++ : kindLevel.fp++);
    for (const k of want) if (!got.has(k)) kindLevel.fn++;
  });
  return { caseLevel, kindLevel };
}

export async function runScreeningBench(): Promise<BenchRow[]> {
  const cases = loadCorpus();
  const rows: BenchRow[] = [];

  let t0 = performance.now();
  const staticReports: ScreeningReport[] = [];
  for (const c of cases) staticReports.push(await screenProposal({ diff: c.diff, files: c.files, ...c.experiment }));
  rows.push({ name: 'static', ...tally(cases, staticReports), msPerCase: (performance.now() - t0) / cases.length, usd: 0, tokens: 0 });

  let current: CorpusCase | undefined;
  const fake = await startFakeAnthropic((req) => {
    const approxIn = Math.ceil(req.rawBody.length / 4);
    return toolUseMessage(REPORT_TOOL_NAME, { findings: current?.ai?.findings ?? [] }, { input_tokens: approxIn, output_tokens: 60 + 50 * (current?.ai?.findings.length ?? 0) });
  });
  try {
    t0 = performance.now();
    const aiReports: ScreeningReport[] = [];
    for (const c of cases) {
      current = c;
      aiReports.push(
        await screenProposal({ diff: c.diff, files: c.files, ...c.experiment, ai: { apiKey: 'sk-fake', baseURL: fake.url, model: BENCH_MODEL, maxRetries: 0, timeoutMs: 5000 } }),
      );
    }
    const errors = aiReports.filter((r) => r.ai?.error);
    if (errors.length > 0) throw new Error(`AI reviewer failed in the bench: ${errors[0]!.ai!.error}`);
    rows.push({
      name: 'static+ai(fake)',
      ...tally(cases, aiReports),
      msPerCase: (performance.now() - t0) / cases.length,
      usd: aiReports.reduce((s, r) => s + (r.ai?.usd ?? 0), 0),
      tokens: aiReports.reduce((s, r) => s + (r.ai?.inputTokens ?? 0) + (r.ai?.outputTokens ?? 0), 0),
    });
  } finally {
    await fake.close();
  }
  return rows;
}

const f3 = (x: number): string => x.toFixed(3);

export async function benchScreening(): Promise<void> {
  const cases = loadCorpus();
  const gaming = cases.filter((c) => c.expected.gaming).length;
  const rows = await runScreeningBench();
  console.log(`screening corpus: ${cases.length} cases (${gaming} gaming, ${cases.length - gaming} honest)`);
  console.log(`pipeline          case-P  case-R  kind-P  kind-R  ms/case  tokens   usd(${BENCH_MODEL})`);
  for (const r of rows) {
    console.log(
      `${r.name.padEnd(16)}  ${f3(precision(r.caseLevel))}   ${f3(recall(r.caseLevel))}   ${f3(precision(r.kindLevel))}   ${f3(recall(r.kindLevel))}   ${r.msPerCase.toFixed(2).padStart(6)}  ${String(r.tokens).padStart(6)}   ${r.usd.toFixed(4)}`,
    );
  }
  const s = rows[0]!;
  const ok = recall(s.caseLevel) >= 0.7 && precision(s.caseLevel) >= 0.8;
  console.log(`target static recall>=0.7 at precision>=0.8: ${ok ? 'met' : 'NOT met'}`);
}

if (require.main === module) {
  benchScreening().catch((e) => {
    console.error(e);
    process.exitCode = 1;
  });
}
