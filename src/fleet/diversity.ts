// Diversity monitor: how similar are the agents' proposals and forum posts, and is the fleet converging?
// Pure. TF-IDF over unigrams + bigrams (IDF from all documents so windows are comparable), one profile per
// agent per window (its documents concatenated), cosine similarity between profiles, mean over agent pairs.
import type { FleetState } from '../core/fleet';

export interface DiversityDoc {
  agentId: string;
  seq: number;
  ts: string;
  kind: 'proposal' | 'post';
  text: string;
}

export interface DiversityOptions {
  /** Documents per window (consecutive by seq). Default: 2 × number of agents, at least 6. */
  windowDocs?: number;
  /** Mean pairwise similarity at or above this flags convergence. */
  threshold?: number;
  /** A single pair at or above this is listed as near-duplicate work. */
  pairThreshold?: number;
  /** Keep at most this many windows (the most recent). */
  maxWindows?: number;
}

export interface PairSimilarity {
  a: string;
  b: string;
  similarity: number;
}

export interface DiversityWindow {
  index: number;
  fromSeq: number;
  toSeq: number;
  fromTs: string;
  toTs: string;
  docs: number;
  agents: number;
  /** null when fewer than two agents wrote anything in the window. */
  meanSimilarity: number | null;
  converged: boolean;
}

export interface AgentDiversity {
  agentId: string;
  docs: number;
  nearest: { agentId: string; similarity: number } | null;
  topTerms: string[];
}

/** The data shape the extension renders (and a compact form of it goes into `diversity.measured`). */
export interface DiversityReport {
  version: 1;
  method: 'tfidf-cosine';
  atSeq: number;
  threshold: number;
  pairThreshold: number;
  documents: number;
  /** Over all documents so far, one profile per agent. */
  overall: { meanSimilarity: number | null; converged: boolean; pairs: PairSimilarity[] };
  /** Over the most recent window: what the fleet is doing now. */
  current: DiversityWindow | null;
  windows: DiversityWindow[];
  agents: AgentDiversity[];
  /** Human-readable warnings (convergence, near-duplicate pairs). Plain text; render escaped. */
  flags: string[];
}

export const DEFAULT_THRESHOLD = 0.5;
export const DEFAULT_PAIR_THRESHOLD = 0.7;

const STOP = new Set(
  (
    'the a an and or of to in on for with by from at as is are was were be been being this that these those it its ' +
    'we our you your they their them i me my he she his her not no but if then than so such can could will would ' +
    'should may might must do does did done have has had into over under about after before between during via ' +
    'per each all any some more most less least very also just only use used using run runs ran same new one two ' +
    'which what when where who how why there here out up down off again further once both few other own too s t'
  ).split(/\s+/),
);

/** Lowercased word tokens without stop words, numbers and 1–2 letter fragments; light plural stemming. */
export function tokenize(text: string): string[] {
  const words = text.toLowerCase().normalize('NFKC').split(/[^\p{L}\p{N}_]+/u);
  const out: string[] = [];
  for (let w of words) {
    if (w.length < 3 || /^\d+$/.test(w) || STOP.has(w)) continue;
    if (w.length > 4 && w.endsWith('ies')) w = `${w.slice(0, -3)}y`;
    else if (w.length > 3 && w.endsWith('s') && !w.endsWith('ss')) w = w.slice(0, -1);
    out.push(w);
  }
  return out;
}

/** Unigrams and adjacent bigrams. */
export function terms(text: string): string[] {
  const t = tokenize(text);
  const out = t.slice();
  for (let i = 1; i < t.length; i++) out.push(`${t[i - 1]} ${t[i]}`);
  return out;
}

type Vec = Map<string, number>;

function counts(ts: readonly string[]): Vec {
  const m: Vec = new Map();
  for (const t of ts) m.set(t, (m.get(t) ?? 0) + 1);
  return m;
}

export function cosine(a: Vec, b: Vec): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  for (const [k, v] of small) {
    const w = large.get(k);
    if (w !== undefined) dot += v * w;
  }
  for (const v of a.values()) na += v * v;
  for (const v of b.values()) nb += v * v;
  if (na === 0 || nb === 0) return 0;
  return Math.min(1, dot / Math.sqrt(na * nb));
}

/** Documents (proposals and forum posts by agents) in ledger order. */
export function documentsOf(state: Pick<FleetState, 'experiments' | 'posts'>): DiversityDoc[] {
  const docs: DiversityDoc[] = [];
  for (const x of state.experiments.values()) {
    docs.push({ agentId: x.agentId, seq: x.proposedSeq, ts: x.proposedAt, kind: 'proposal', text: `${x.title}\n${x.rationale}\n${x.command}` });
  }
  for (const p of state.posts.values()) {
    if (p.author.kind !== 'agent') continue;
    docs.push({ agentId: p.author.id, seq: p.seq, ts: p.ts, kind: 'post', text: `${p.title}\n${p.ideaName ?? ''}\n${p.summary}` });
  }
  return docs.sort((a, b) => a.seq - b.seq);
}

class TfIdf {
  private readonly df = new Map<string, number>();
  private n = 0;
  constructor(docTerms: readonly string[][]) {
    for (const ts of docTerms) {
      this.n++;
      for (const t of new Set(ts)) this.df.set(t, (this.df.get(t) ?? 0) + 1);
    }
  }
  /** Sublinear tf × smoothed idf. */
  vector(ts: readonly string[]): Vec {
    const v: Vec = new Map();
    for (const [t, c] of counts(ts)) {
      const idf = Math.log((1 + this.n) / (1 + (this.df.get(t) ?? 0))) + 1;
      v.set(t, (1 + Math.log(c)) * idf);
    }
    return v;
  }
}

function profiles(docs: readonly { agentId: string; terms: string[] }[], tfidf: TfIdf): Map<string, Vec> {
  const byAgent = new Map<string, string[]>();
  for (const d of docs) {
    let a = byAgent.get(d.agentId);
    if (!a) byAgent.set(d.agentId, (a = []));
    a.push(...d.terms);
  }
  const out = new Map<string, Vec>();
  for (const [id, ts] of [...byAgent].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) out.set(id, tfidf.vector(ts));
  return out;
}

function pairwise(p: Map<string, Vec>): PairSimilarity[] {
  const ids = [...p.keys()];
  const out: PairSimilarity[] = [];
  for (let i = 0; i < ids.length; i++) {
    for (let j = i + 1; j < ids.length; j++) {
      out.push({ a: ids[i]!, b: ids[j]!, similarity: round(cosine(p.get(ids[i]!)!, p.get(ids[j]!)!)) });
    }
  }
  return out;
}

const round = (x: number) => Math.round(x * 10_000) / 10_000;
const mean = (xs: readonly number[]) => (xs.length ? round(xs.reduce((s, x) => s + x, 0) / xs.length) : null);

/** Diversity of a set of documents. */
export function measureDiversity(docs: readonly DiversityDoc[], opts: DiversityOptions = {}, atSeq?: number): DiversityReport {
  const threshold = opts.threshold ?? DEFAULT_THRESHOLD;
  const pairThreshold = opts.pairThreshold ?? DEFAULT_PAIR_THRESHOLD;
  const withTerms = docs.map((d) => ({ ...d, terms: terms(d.text) }));
  const tfidf = new TfIdf(withTerms.map((d) => d.terms));
  const agentIds = [...new Set(docs.map((d) => d.agentId))];
  const windowDocs = Math.max(2, opts.windowDocs ?? Math.max(6, 2 * agentIds.length));

  const all = profiles(withTerms, tfidf);
  const pairs = pairwise(all).sort((x, y) => y.similarity - x.similarity || (x.a + x.b < y.a + y.b ? -1 : 1));
  const overallMean = mean(pairs.map((p) => p.similarity));

  const windows: DiversityWindow[] = [];
  for (let start = 0, index = 0; start < withTerms.length; start += windowDocs, index++) {
    const slice = withTerms.slice(start, start + windowDocs);
    const prof = profiles(slice, tfidf);
    const m = mean(pairwise(prof).map((p) => p.similarity));
    windows.push({
      index,
      fromSeq: slice[0]!.seq,
      toSeq: slice[slice.length - 1]!.seq,
      fromTs: slice[0]!.ts,
      toTs: slice[slice.length - 1]!.ts,
      docs: slice.length,
      agents: prof.size,
      meanSimilarity: m,
      converged: m !== null && m >= threshold,
    });
  }
  const kept = opts.maxWindows ? windows.slice(-opts.maxWindows) : windows;

  const agents: AgentDiversity[] = [...all.keys()].map((id) => {
    let nearest: AgentDiversity['nearest'] = null;
    for (const p of pairs) {
      if (p.a !== id && p.b !== id) continue;
      const other = p.a === id ? p.b : p.a;
      if (!nearest || p.similarity > nearest.similarity) nearest = { agentId: other, similarity: p.similarity };
    }
    const v = all.get(id)!;
    const topTerms = [...v]
      .filter(([t]) => !t.includes(' '))
      .sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))
      .slice(0, 8)
      .map(([t]) => t);
    return { agentId: id, docs: withTerms.filter((d) => d.agentId === id).length, nearest, topTerms };
  });

  const current = windows.length ? windows[windows.length - 1]! : null;
  const flags: string[] = [];
  if (current?.converged) {
    flags.push(`fleet converging: mean pairwise similarity ${current.meanSimilarity!.toFixed(2)} in the latest window (threshold ${threshold})`);
  } else if (overallMean !== null && overallMean >= threshold) {
    flags.push(`fleet converging: mean pairwise similarity ${overallMean.toFixed(2)} overall (threshold ${threshold})`);
  }
  for (const p of pairs) {
    if (p.similarity < pairThreshold) break;
    flags.push(`${p.a} and ${p.b} are working on near-identical ideas (similarity ${p.similarity.toFixed(2)})`);
  }
  return {
    version: 1,
    method: 'tfidf-cosine',
    atSeq: atSeq ?? (docs.length ? docs[docs.length - 1]!.seq : 0),
    threshold,
    pairThreshold,
    documents: docs.length,
    overall: { meanSimilarity: overallMean, converged: overallMean !== null && overallMean >= threshold, pairs },
    current,
    windows: kept,
    agents,
    flags,
  };
}

/** Diversity of a fleet's proposals and agent forum posts (what the extension shows). */
export function computeDiversity(state: Pick<FleetState, 'experiments' | 'posts' | 'lastSeq'>, opts: DiversityOptions = {}): DiversityReport {
  return measureDiversity(documentsOf(state), opts, state.lastSeq);
}

/** Compact form recorded in a `diversity.measured` event (JSON-safe, bounded size). */
export function diversityEventData(r: DiversityReport): Record<string, unknown> {
  return {
    version: r.version,
    method: r.method,
    atSeq: r.atSeq,
    documents: r.documents,
    threshold: r.threshold,
    meanSimilarity: r.overall.meanSimilarity,
    currentMeanSimilarity: r.current?.meanSimilarity ?? null,
    converged: r.overall.converged || !!r.current?.converged,
    agents: r.agents.length,
    topPairs: r.overall.pairs.slice(0, 5),
    flags: r.flags.slice(0, 10).map((f) => f.slice(0, 300)),
  };
}
