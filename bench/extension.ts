// Extension benchmark: Queue tree rendering with 10,000 experiments (the pure model + item views that back
// getChildren/getTreeItem), an incremental update, and the activation time measured in the extension host by
// `npm run test:exthost` (read from test-results/exthost/activation.json when present).
// Baseline, same run: the naive tree a provider would build by regrouping and re-sorting every experiment on
// each getChildren call (what FleetState.queue() does), with the same item views.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Experiment, ExperimentState } from '../src/core/model';
import { EXPERIMENT_STATES } from '../src/core/model';
import { GROUP_ORDER, QueueModel, experimentView } from '../src/host/trees/queueModel';

const N = 10_000;

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
      screening: i % 17 === 0 ? { gaming: true, score: 0.8, findings: [{ kind: 'k', severity: 'high', file: 'a.py', line: 1, explanation: 'reads labels', confidence: 0.9, source: 'static' }] } : undefined,
    });
  }
  return out;
}

/** Render the whole tree: root groups, every group's children, every item's view. */
function renderModel(m: QueueModel): number {
  let n = 0;
  for (const g of m.groupList()) {
    for (const x of m.children(g.state)) {
      const v = experimentView(x);
      n += v.label.length > 0 ? 1 : 0;
    }
  }
  return n;
}

function renderNaive(all: Experiment[]): number {
  let n = 0;
  const groups = GROUP_ORDER.filter((s) => all.some((x) => x.state === s));
  for (const s of groups) {
    const kids = all.filter((x) => x.state === s).sort((a, b) => a.proposedSeq - b.proposedSeq);
    for (const x of kids) n += experimentView(x).label.length > 0 ? 1 : 0;
  }
  return n;
}

function time(fn: () => void, reps = 5): number {
  fn(); // warm-up
  const t: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  return t.sort((a, b) => a - b)[Math.floor(reps / 2)]!;
}

export async function benchExtension(): Promise<void> {
  const xs = makeExperiments(N);
  const model = new QueueModel();
  const loadMs = time(() => model.reset(xs));
  const coldMs = time(() => {
    model.reset(xs);
    renderModel(model);
  });
  const warmMs = time(() => renderModel(model));
  const naiveMs = time(() => renderNaive(xs));
  // One event: an awaiting experiment gets approved -> two groups change; the provider re-renders those two.
  const updMs = time(() => {
    const x = xs[3]!;
    const moved = { ...x, state: (model.get(x.id)!.state === 'approved' ? 'awaiting_review' : 'approved') as ExperimentState };
    const d = model.upsert(moved);
    for (const s of d.groups) for (const c of model.children(s)) experimentView(c);
  }, 21);
  const naiveUpdMs = time(() => renderNaive(xs), 5);
  console.log(`\n== extension: Queue tree, ${N} experiments ==`);
  console.log(`load (reset model)                 ${loadMs.toFixed(1)} ms`);
  console.log(`full render cold (load + all items) ${coldMs.toFixed(1)} ms  (target < 100 ms) ${coldMs < 100 ? 'OK' : 'SLOW'}`);
  console.log(`full render warm                   ${warmMs.toFixed(1)} ms`);
  console.log(`naive baseline render              ${naiveMs.toFixed(1)} ms  -> model is ${(naiveMs / warmMs).toFixed(2)}x faster`);
  console.log(`one approval (2 groups re-render)  ${updMs.toFixed(2)} ms vs naive full re-render ${naiveUpdMs.toFixed(1)} ms -> ${(naiveUpdMs / updMs).toFixed(1)}x`);
  const act = path.join(__dirname, '..', 'test-results', 'exthost', 'activation.json');
  if (fs.existsSync(act)) {
    const j = JSON.parse(fs.readFileSync(act, 'utf8')) as { activationMs: number; activateCallMs?: number; vscode?: string; at?: string };
    console.log(`activation (exthost, activate() body) ${j.activationMs.toFixed(1)} ms  (target < 50 ms) ${j.activationMs < 50 ? 'OK' : 'SLOW'}${j.vscode ? ` — VS Code ${j.vscode}` : ''}${j.at ? `, measured ${j.at}` : ''}`);
  } else {
    console.log('activation: run `npm run test:exthost` to measure (writes test-results/exthost/activation.json)');
  }
}

if (require.main === module) void benchExtension();
