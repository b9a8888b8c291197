// Extension benchmark: Queue tree rendering with 10,000 and 100,000 experiments (the pure model + item views
// that back getChildren/getTreeItem), an incremental update, and the activation time measured in the
// extension host by `npm run test:exthost` (read from test-results/exthost/activation.json when present).
// "Cold" is a fresh fleet reply: new experiment objects (no view cached yet), model reset, then the tree items.
// Baseline, same run: the naive tree a provider would build by regrouping and re-sorting every experiment on
// each getChildren call (what FleetState.queue() does), computing every item view afresh (no per-version cache).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import type { Experiment, ExperimentState } from '../src/core/model';
import { EXPERIMENT_STATES } from '../src/core/model';
import { GROUP_ORDER, QueueModel, computeExperimentView, experimentView } from '../src/host/trees/queueModel';

function makeExperiments(n: number): Experiment[] {
  const states: ExperimentState[] = [...EXPERIMENT_STATES];
  const out: Experiment[] = [];
  for (let i = 0; i < n; i++) {
    const state = i % 3 === 0 ? 'awaiting_review' : states[i % states.length]!;
    out.push({
      id: `exp-${i}`,
      agentId: `agent-${i % 9}`,
      title: `Try confidence-weighted pseudo labels, variant ${i} \u202e with hostile bidi`,
      rationale: 'x'.repeat(200),
      command: `python train.py --seed ${i}`,
      resources: { gpus: 1, gpuHours: 1 + (i % 4), timeLimitMinutes: 120 },
      taskMode: 'normal',
      commit: (i.toString(16).padStart(8, '0') + 'a'.repeat(32)).slice(0, 40),
      tree: 'b'.repeat(40),
      state,
      proposedSeq: n - i,
      proposedAt: new Date(1_700_000_000_000 + i * 1000).toISOString(),
      history: [],
      risk: i % 5 === 0 ? { level: i % 10 === 0 ? 'high' : 'low', reasons: [{ level: 'high', text: `touches the scoring code (${i})` }] } : undefined,
      screening: i % 17 === 0 ? { gaming: true, score: 0.8, findings: [{ kind: 'k', severity: 'high', file: 'a.py', line: 1, explanation: 'reads labels', confidence: 0.9, source: 'static' }] } : undefined,
    } as Experiment);
  }
  return out;
}

/** Groups a tree shows expanded on first display (queueTree.ts getTreeItem). */
const EXPANDED: readonly ExperimentState[] = ['awaiting_review', 'running'];

/** Render the tree: root groups, then the rows of every group (or only the expanded ones) with their item views. */
function renderModel(m: QueueModel, only?: readonly ExperimentState[]): number {
  let n = 0;
  for (const g of m.groupList()) {
    if (only && !only.includes(g.state)) continue;
    for (const r of m.rows(g.state)) {
      const x = m.get(r.id);
      if (x) n += experimentView(x).label.length > 0 ? 1 : 0;
    }
  }
  return n;
}

function renderNaive(all: Experiment[]): number {
  let n = 0;
  const groups = GROUP_ORDER.filter((s) => all.some((x) => x.state === s));
  for (const s of groups) {
    const kids = all.filter((x) => x.state === s).sort((a, b) => a.proposedSeq - b.proposedSeq);
    for (const x of kids) n += computeExperimentView(x).label.length > 0 ? 1 : 0;
  }
  return n;
}

/** A full collection between timed runs, so a run pays for its own garbage and not for the previous run's
 * fleet replies (each 100,000 experiments is a few hundred MB of objects). */
v8.setFlagsFromString('--expose-gc');
const collect = vm.runInNewContext('gc') as () => void;

/** Median of `reps` timed runs after a warm-up; `prepare` and a full GC run untimed before each. */
function time(fn: (input: Experiment[]) => void, prepare: () => Experiment[], reps = 5): number {
  fn(prepare()); // warm-up (JIT)
  const t: number[] = [];
  for (let i = 0; i < reps; i++) {
    const input = prepare();
    collect();
    const t0 = performance.now();
    fn(input);
    t.push(performance.now() - t0);
  }
  return t.sort((a, b) => a - b)[Math.floor(reps / 2)]!;
}

const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');

function benchSize(n: number, targetMs: number, reps: number): void {
  const xs = makeExperiments(n);
  const text = JSON.stringify(xs);
  const fresh = () => JSON.parse(text) as Experiment[]; // a fleet reply: new objects, nothing cached
  const model = new QueueModel();
  const same = () => xs;
  const loadMs = time((input) => model.reset(input), fresh, reps);
  const coldMs = time((input) => {
    model.reset(input);
    renderModel(model);
  }, fresh, reps);
  const visibleMs = time((input) => {
    model.reset(input);
    renderModel(model, EXPANDED);
  }, fresh, reps);
  model.reset(xs);
  const warmMs = time(() => renderModel(model), same, reps);
  const naiveMs = time((input) => renderNaive(input), fresh, reps);
  console.log(`\n== extension: Queue tree, ${n.toLocaleString('en-US')} experiments ==`);
  console.log(`load (reset model)                        ${loadMs.toFixed(1)} ms`);
  console.log(`first display cold (expanded groups)      ${visibleMs.toFixed(1)} ms`);
  console.log(`full render cold (every group expanded)   ${coldMs.toFixed(1)} ms`);
  console.log(`full render warm (views cached)           ${warmMs.toFixed(1)} ms`);
  console.log(`naive baseline render (uncached views)    ${naiveMs.toFixed(1)} ms  -> cold full render is ${(naiveMs / coldMs).toFixed(1)}x faster, warm ${(naiveMs / warmMs).toFixed(0)}x`);
  console.log(`target: full render cold of ${n.toLocaleString('en-US')} <= ${targetMs} ms: ${verdict(coldMs <= targetMs)} (${coldMs.toFixed(1)} ms; baseline ${naiveMs.toFixed(1)} ms)`);
  if (n <= 10_000) {
    // One event: an awaiting experiment gets approved -> two groups change; the provider re-renders those two.
    model.reset(xs);
    renderModel(model);
    let cur = xs[3]!;
    const updMs = time(() => {
      cur = { ...cur, state: (cur.state === 'approved' ? 'awaiting_review' : 'approved') as ExperimentState };
      const d = model.upsert(cur);
      for (const s of d.groups) for (const r of model.rows(s)) experimentView(model.get(r.id)!);
    }, same, 21);
    const naiveUpdMs = time((input) => renderNaive(input), same, 5);
    console.log(`one approval (2 groups re-render)         ${updMs.toFixed(2)} ms vs naive full re-render ${naiveUpdMs.toFixed(1)} ms -> ${(naiveUpdMs / updMs).toFixed(1)}x`);
  }
}

export async function benchExtension(): Promise<void> {
  benchSize(10_000, 100, 5);
  benchSize(100_000, 1000, 3);
  const act = path.join(__dirname, '..', 'test-results', 'exthost', 'activation.json');
  if (fs.existsSync(act)) {
    const j = JSON.parse(fs.readFileSync(act, 'utf8')) as { activationMs: number; activateCallMs?: number; vscode?: string; at?: string };
    console.log(`activation (exthost, activate() body) ${j.activationMs.toFixed(1)} ms  (target < 50 ms) ${verdict(j.activationMs < 50)}${j.vscode ? ` — VS Code ${j.vscode}` : ''}${j.at ? `, measured ${j.at}` : ''}`);
  } else {
    console.log('activation: run `npm run test:exthost` to measure (writes test-results/exthost/activation.json)');
  }
}

if (require.main === module) void benchExtension();
