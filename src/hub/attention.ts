// Attention at fleet scale, hub side: the git facts risk needs (cached per experiment: a proposal's commit is
// pinned, so its facts never change), risk on the experiments humans read, and sweeps (undecided proposals
// against the same base whose diffs and commands differ only in literal values).
import type { Experiment } from '../core/model';
import { UNDECIDED } from '../core/lifecycle';
import { assessRisk, byRiskThenAge, type DiffFacts, type Risk } from '../core/risk';
import { proposalShape, splitLiterals, valuesOnly, type LiteralValue } from '../core/literals';
import { loadFleetTaskRules, matchesAny } from '../screening/taskRules';
import type { HubContext } from './ops';
import { agentRecord, fairOrder } from '../core/episodes';

interface Cache {
  facts: Map<string, Promise<DiffFacts | undefined>>;
  shapes: Map<string, Promise<{ shape: string; values: LiteralValue[] } | undefined>>;
  protectedPaths?: string[];
}
const caches = new WeakMap<HubContext, Cache>();
function cache(ctx: HubContext): Cache {
  let c = caches.get(ctx);
  if (!c) caches.set(ctx, (c = { facts: new Map(), shapes: new Map() }));
  return c;
}

function protectedPaths(ctx: HubContext): string[] {
  const c = cache(ctx);
  if (!c.protectedPaths) {
    try {
      c.protectedPaths = loadFleetTaskRules(ctx.fleetDir)?.protectedPaths ?? [];
    } catch {
      c.protectedPaths = [];
    }
  }
  return c.protectedPaths;
}

const commandShape = (c: string) => splitLiterals(c).shape;

/** The approved commit a proposal is compared with: for a decided one, as of its decision (stable facts). */
const lastApproved = (ctx: HubContext, x: Experiment) => ctx.service.state.lastApprovedOf(x.agentId, x.proposedSeq, x.verdict?.seq ?? Infinity);

async function computeFacts(ctx: HubContext, x: Experiment): Promise<DiffFacts | undefined> {
  const sb = ctx.service.sandbox(x.agentId);
  try {
    const files = await sb.changedFiles(x.baseCommit, x.commit);
    const lines = files.reduce((n, f) => n + f.additions + f.deletions, 0);
    const prot = protectedPaths(ctx);
    const facts: DiffFacts = { files: files.map((f) => f.path), lines, protectedTouched: prot.length ? files.map((f) => f.path).filter((p) => matchesAny(p, prot)) : [] };
    const prev = lastApproved(ctx, x);
    if (prev) {
      const sameCommand = commandShape(prev.command) === commandShape(x.command);
      if (prev.commit === x.commit) facts.sinceApproved = { commit: prev.commit, valuesOnly: sameCommand, lines: 0 };
      else {
        const [d, fs] = await Promise.all([sb.diff(prev.commit, x.commit, undefined, 2 * 1024 * 1024), sb.changedFiles(prev.commit, x.commit)]);
        facts.sinceApproved = { commit: prev.commit, valuesOnly: sameCommand && !d.truncated && valuesOnly(d.patch), lines: fs.reduce((n, f) => n + f.additions + f.deletions, 0) };
      }
    }
    return facts;
  } catch {
    return undefined;
  }
}

/** Git facts of a proposal (memoized; the approved-commit comparison is taken once, when first asked). */
export function diffFacts(ctx: HubContext, x: Experiment): Promise<DiffFacts | undefined> {
  const c = cache(ctx).facts;
  // the comparison base is the agent's last approved commit: a new approval makes new facts
  const key = `${x.id}@${x.screening ? 's' : '-'}@${lastApproved(ctx, x)?.id ?? '-'}`;
  let p = c.get(key);
  if (!p) c.set(key, (p = computeFacts(ctx, x)));
  return p;
}

export async function riskOf(ctx: HubContext, x: Experiment): Promise<Risk> {
  const st = ctx.service.state;
  const b = st.budgetOf(x.agentId);
  return assessRisk(x, {
    facts: await diffFacts(ctx, x),
    record: agentRecord(st, x.agentId),
    budget: b && { gpuHours: b.budget.gpuHours, remainingGpuHours: b.remainingGpuHours },
  });
}

/** Experiments with their risk (for human readers; agents never see their risk: it would teach evasion). */
export async function withRisk(ctx: HubContext, xs: Experiment[]): Promise<Experiment[]> {
  return Promise.all(xs.map(async (x) => ({ ...x, risk: await riskOf(ctx, x) })));
}

/** Undecided experiments not held by an agent episode, in triage order: past their deadline first (earliest
 * deadline first), then risk (highest first), then age (core/episodes.ts fairOrder). */
export async function triage(ctx: HubContext, now = Date.now()): Promise<Experiment[]> {
  const st = ctx.service.state;
  const xs = [...st.experiments.values()].filter((x) => UNDECIDED.includes(x.state) && !st.episodes.isHeld(x));
  return fairOrder(await withRisk(ctx, xs), (x) => Date.parse(x.proposedAt), now);
}

// ---------------------------------------------------------------- sweeps

export interface SweepParam {
  name: string;
  values: string[];
}

export interface Sweep {
  /** Stable id: the first member's experiment id. */
  id: string;
  baseCommit: string | null;
  agentIds: string[];
  experimentIds: string[];
  /** Literals that vary across the members, with each member's value (in member order). */
  params: SweepParam[];
  /** "lr ∈ {1e-5, 3e-5, 1e-4} · 3 experiments" */
  label: string;
  /** The highest risk among the members. */
  risk?: Risk;
}

async function shapeOf(ctx: HubContext, x: Experiment) {
  const c = cache(ctx).shapes;
  let p = c.get(x.id);
  if (!p) {
    p = (async () => {
      try {
        const d = await ctx.service.sandbox(x.agentId).diff(x.baseCommit, x.commit, undefined, 2 * 1024 * 1024);
        return d.truncated ? undefined : proposalShape(d.patch, x.command);
      } catch {
        return undefined;
      }
    })();
    c.set(x.id, p);
  }
  return p;
}

/** Group proposals whose diffs against the same base and whose commands differ only in literal values.
 * Resources belong to the shape too (a sweep member asking 10× the GPU-hours is not "the same"). */
export async function groupSweeps(ctx: HubContext, xs: Experiment[]): Promise<Sweep[]> {
  const groups = new Map<string, { xs: Experiment[]; values: LiteralValue[][] }>();
  for (const x of [...xs].sort((a, b) => a.proposedSeq - b.proposedSeq)) {
    const s = await shapeOf(ctx, x);
    if (!s) continue;
    const key = `${x.baseCommit ?? '-'}\n${x.resources.gpus}/${x.resources.gpuHours}/${x.resources.timeLimitMinutes}/${x.taskMode}\n${s.shape}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { xs: [], values: [] }));
    g.xs.push(x);
    g.values.push(s.values);
  }
  const out: Sweep[] = [];
  for (const g of groups.values()) {
    if (g.xs.length < 2) continue;
    const params: SweepParam[] = [];
    const n = g.values[0]!.length;
    for (let i = 0; i < n; i++) {
      const vals = g.values.map((v) => v[i]!.value);
      if (new Set(vals).size > 1) params.push({ name: g.values[0]![i]!.name, values: vals });
    }
    if (!params.length) continue; // identical proposals are duplicates, not a sweep
    // one parameter varying in both the file and the command counts once
    const seen = new Set<string>();
    const uniq = params.filter((p) => {
      const k = `${p.name}=${p.values.join('\u0000')}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
    const label = `${uniq.map((p) => `${p.name} ∈ {${[...new Set(p.values)].join(', ')}}`).join(', ')} · ${g.xs.length} experiments`;
    out.push({
      id: g.xs[0]!.id,
      baseCommit: g.xs[0]!.baseCommit ?? null,
      agentIds: [...new Set(g.xs.map((x) => x.agentId))],
      experimentIds: g.xs.map((x) => x.id),
      params: uniq,
      label,
    });
  }
  return out;
}

/** Sweeps among the undecided proposals, each with its members' highest risk. */
export async function openSweeps(ctx: HubContext): Promise<Sweep[]> {
  const xs = await triage(ctx);
  const risk = new Map(xs.map((x) => [x.id, x.risk!]));
  const sweeps = await groupSweeps(ctx, xs);
  for (const s of sweeps) {
    const rs = s.experimentIds.map((i) => risk.get(i)!);
    s.risk = rs.reduce((a, b) => (byRiskThenAge({ risk: a, proposedSeq: 0 }, { risk: b, proposedSeq: 0 }) <= 0 ? a : b));
  }
  return sweeps;
}
