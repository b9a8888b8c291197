// Leaderboard rows from the fleet's scored experiments. Pure (no vscode): unit-tested and benchable.
import type { DiversityResponse, FinalEvaluation } from '../../hub/api';
import type { Agent, AuditEntry, Experiment } from '../../core/model';
import { bootstrapSeeds } from '../../evaluation/stats';
import type { AgentPgrSeries, DiversityView, FinalResultView, LeaderRow, PgrPoint, ProbeAlert, ScoredRun } from '../../shared/leaderboardProtocol';

export function firstLine(s: string, max = 140): string {
  const line = (s ?? '').split(/\r?\n/).find((l) => l.trim()) ?? '';
  return line.length > max ? `${line.slice(0, max - 1)}…` : line.trim();
}

/** One row per agent with at least one scored run; agents without scores follow with n = 0. */
export function buildLeaderboard(agents: readonly Agent[], experiments: readonly Experiment[], alerts: readonly ProbeAlert[] = []): LeaderRow[] {
  const runsByAgent = new Map<string, ScoredRun[]>();
  for (const x of experiments) {
    if (!x.score) continue;
    const r: ScoredRun = {
      experimentId: x.id,
      title: x.title,
      pgr: typeof x.score.pgr === 'number' && Number.isFinite(x.score.pgr) ? x.score.pgr : null,
      transferAcc: x.score.transferAcc,
      verified: x.score.verified === true,
      dataset: x.score.dataset,
      split: x.score.split,
      ...replicationOfRun(x),
    };
    const list = runsByAgent.get(x.agentId) ?? [];
    list.push(r);
    runsByAgent.set(x.agentId, list);
  }
  const probing = new Map<string, number>();
  for (const a of alerts) probing.set(a.agentId, (probing.get(a.agentId) ?? 0) + 1);
  const ids = new Set([...agents.map((a) => a.id), ...runsByAgent.keys()]);
  const byId = new Map(agents.map((a) => [a.id, a]));
  const rows: LeaderRow[] = [];
  for (const agentId of ids) {
    const a = byId.get(agentId);
    const runs = (runsByAgent.get(agentId) ?? []).sort((p, q) => (q.pgr ?? -Infinity) - (p.pgr ?? -Infinity));
    const pgrs = runs.map((r) => r.pgr).filter((p): p is number => p !== null);
    const mean = pgrs.length ? pgrs.reduce((s, v) => s + v, 0) / pgrs.length : null;
    let ci: LeaderRow['ci'] = null;
    if (pgrs.length >= 2) {
      const iv = bootstrapSeeds(pgrs, { seed: 1, iterations: 2000 });
      ci = { lo: iv.lo, hi: iv.hi };
    } else if (pgrs.length === 1) ci = { lo: pgrs[0], hi: pgrs[0] };
    rows.push({
      agentId,
      name: a?.name ?? agentId,
      method: firstLine(a?.direction ?? ''),
      n: runs.length,
      meanPgr: mean,
      ci,
      best: pgrs.length ? Math.max(...pgrs) : null,
      verified: runs.filter((r) => r.verified).length,
      unverified: runs.filter((r) => !r.verified).length,
      runs,
      probing: probing.get(agentId) ?? 0,
      meanTransferPgr: mean0(runs.map((r) => r.transferPgr).filter((p): p is number => p !== null)),
      replicated: runs.filter((r) => r.replication === 'replicated').length,
      notReplicated: runs.filter((r) => r.replication === 'did_not_replicate').length,
    });
  }
  // Verified evidence first: rank by mean PGR of rows with scores, then by name.
  rows.sort((p, q) => (q.meanPgr ?? -Infinity) - (p.meanPgr ?? -Infinity) || p.name.localeCompare(q.name));
  return rows;
}

const mean0 = (v: number[]): number | null => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : null);

/** A run's replication on the hidden transfer task, from what the hub says of it (humans see `replication`). */
export function replicationOfRun(x: Experiment): Pick<ScoredRun, 'transferPgr' | 'replication'> {
  const rep = x.replication;
  const split = x.score?.split ?? 'test';
  const pgrs = (rep?.scores ?? []).filter((s) => s.split === split).map((s) => s.pgr).filter((p): p is number => typeof p === 'number' && Number.isFinite(p));
  const reasons = (x.verification?.reasons ?? []).join('; ');
  let status: ScoredRun['replication'] = null;
  if (/did not replicate|replication job \d+ (?:failed|timed_out|cancelled|exited|submitted|:)|did not evaluate on/.test(reasons)) status = 'did_not_replicate';
  else if (rep && rep.records.length && (rep.records.length < rep.jobs || rep.records.some((r) => !r.endState))) status = 'running';
  else if (/awaiting replication|replication on the hidden transfer task:/.test(reasons)) status = rep?.records.length ? 'running' : 'pending';
  else if (rep && rep.records.length >= rep.jobs && rep.records.every((r) => r.endState)) status = 'replicated';
  return { transferPgr: mean0(pgrs), replication: status };
}

/** Probing alerts from the audit trail (`eval.probing_suspected` entries). */
export function probeAlerts(entries: readonly AuditEntry[], agentIds: readonly string[]): ProbeAlert[] {
  const out: ProbeAlert[] = [];
  for (const e of entries) {
    if (e.type !== 'eval.probing_suspected') continue;
    // The audit summary is "probing suspected <agentId>[: ...]" (fleet.ts auditSummary).
    const named = /^probing suspected (\S+?)(?::|$|\s)/.exec(e.summary)?.[1];
    const agentId = named && agentIds.includes(named) ? named : e.actor.kind === 'agent' ? e.actor.id : (named ?? '');
    out.push({ seq: e.seq, ts: e.ts, agentId, summary: e.summary });
  }
  return out.sort((a, b) => b.seq - a.seq);
}

/** The "Diversity of ideas" section from `GET /api/diversity`; null before the first measurement. */
export function diversityView(d: DiversityResponse | null | undefined): DiversityView | null {
  const m = d?.latest;
  if (!m) return null;
  return {
    seq: m.seq,
    ts: m.ts,
    meanSimilarity: m.meanSimilarity,
    currentMeanSimilarity: m.currentMeanSimilarity,
    converged: m.converged,
    threshold: m.threshold ?? null,
    agents: m.agents,
    documents: m.documents,
    topPairs: [...m.topPairs].sort((p, q) => q.similarity - p.similarity).slice(0, 5),
    flags: m.flags.slice(0, 10),
    history: (d?.history ?? []).map((h) => ({ ...h })),
  };
}

/** Final (held-out) results, newest first, joined with the experiment they scored. */
export function finalResults(finals: readonly FinalEvaluation[], experiments: readonly Experiment[]): FinalResultView[] {
  const byId = new Map(experiments.map((x) => [x.id, x]));
  return [...finals]
    .sort((a, b) => b.seq - a.seq)
    .map((f) => {
      const x = f.experimentId ? byId.get(f.experimentId) : undefined;
      return {
        seq: f.seq,
        ts: f.ts,
        by: f.by.id,
        dataset: f.dataset,
        split: f.split,
        experimentId: f.experimentId ?? null,
        title: x ? firstLine(x.title, 200) : null,
        agentId: x?.agentId ?? null,
        transferAcc: f.transferAcc,
        pgr: f.pgr,
        transferAccCi: f.transferAccCi,
        pgrCi: f.pgrCi,
        correct: f.correct,
        total: f.total,
      };
    });
}

/**
 * PGR over time, one series per agent (ordered by agent id so colours stay put as ranks change), points oldest
 * first. A point's seq/ts are those of the latest `experiment.scored` history entry (else the proposal's).
 * Experiments without a finite PGR are left out: they have nothing to plot.
 */
export function pgrSeries(agents: readonly Agent[], experiments: readonly Experiment[]): AgentPgrSeries[] {
  const byAgent = new Map<string, PgrPoint[]>();
  for (const x of experiments) {
    const pgr = x.score?.pgr;
    if (typeof pgr !== 'number' || !Number.isFinite(pgr)) continue;
    const scored = [...(x.history ?? [])].reverse().find((e) => e.type === 'experiment.scored');
    const point: PgrPoint = {
      seq: scored?.seq ?? x.proposedSeq,
      ts: scored?.ts ?? x.proposedAt,
      pgr,
      verified: x.score!.verified === true,
      experimentId: x.id,
    };
    const list = byAgent.get(x.agentId) ?? [];
    list.push(point);
    byAgent.set(x.agentId, list);
  }
  const names = new Map(agents.map((a) => [a.id, a.name]));
  return [...byAgent.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([agentId, points]) => ({ agentId, name: names.get(agentId) ?? agentId, points: points.sort((p, q) => p.seq - q.seq) }));
}
