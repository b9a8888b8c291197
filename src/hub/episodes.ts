// Agent episodes, hub side: the evidence page humans read (GET /api/episodes/:id) and the list.
import type { Episode } from '../core/episodes';
import type { EpisodeList, EpisodeView } from './api';
import { withRisk } from './attention';
import { notFound } from './errors';
import type { HubContext } from './ops';

const FINDING_SEVERITIES = new Set(['medium', 'high', 'critical']);

export function listEpisodes(ctx: HubContext, all = false): EpisodeList {
  const st = ctx.service.state;
  const eps = all ? [...st.episodes.episodes.values()].sort((a, b) => a.openedSeq - b.openedSeq) : st.episodes.open();
  return {
    episodes: eps.map((ep) => {
      const heldIds = ep.resolution ? ep.resolution.held : st.experimentsOf(ep.agentId).filter((x) => st.episodes.isHeld(x)).map((x) => x.id);
      return { ...ep, held: heldIds.length, heldIds };
    }),
  };
}

export function episodeOrThrow(ctx: HubContext, id: string): Episode {
  const ep = ctx.service.state.episodes.episodes.get(id);
  if (!ep) throw notFound(`no episode ${JSON.stringify(id)}`);
  return ep;
}

export async function episodeView(ctx: HubContext, id: string): Promise<EpisodeView> {
  const st = ctx.service.state;
  const ep = episodeOrThrow(ctx, id);
  const xs = st.experimentsOf(ep.agentId);
  const heldIds = ep.resolution ? new Set(ep.resolution.held) : new Set(xs.filter((x) => st.episodes.isHeld(x)).map((x) => x.id));
  const held = await withRisk(ctx, xs.filter((x) => heldIds.has(x.id)));
  const vetoed = xs.filter((x) => x.verdict?.decision === 'vetoed').sort((a, b) => b.verdict!.seq - a.verdict!.seq);
  const alerts = ctx.service.ledger.lastSeq ? probingAlerts(ctx, ep.agentId) : [];
  const findings = [...held, ...vetoed.slice(0, 20)].flatMap((x) =>
    (x.screening?.findings ?? []).filter((f) => FINDING_SEVERITIES.has(f.severity)).map((f) => ({ experimentId: x.id, kind: f.kind, severity: f.severity, file: f.file, line: f.line, explanation: f.explanation })),
  );
  const runs = xs
    .filter((x) => (x.run?.report?.violations ?? 0) > 0)
    .map((x) => ({ experimentId: x.id, title: x.title, violations: x.run!.report!.violations, summary: x.run!.report!.summary, seq: x.run!.report!.seq }))
    .sort((a, b) => b.seq - a.seq);
  const earlier = [...st.episodes.episodes.values()]
    .filter((e) => e.agentId === ep.agentId && e.id !== ep.id && e.resolution)
    .map((e) => ({ id: e.id, action: e.resolution!.action, by: e.resolution!.by, note: e.resolution!.note, seq: e.resolution!.seq }))
    .sort((a, b) => b.seq - a.seq);
  return {
    episode: ep,
    agent: st.agent(ep.agentId) ?? null,
    held,
    vetoes: vetoed.slice(0, 20).map((x) => ({ experimentId: x.id, title: x.title, reason: x.verdict!.reason ?? '', by: x.verdict!.by.id, seq: x.verdict!.seq, gaming: !!x.screening?.gaming })),
    alerts,
    openAlerts: st.openProbingAlerts.get(ep.agentId) ?? 0,
    findings: findings.slice(0, 100),
    runs: runs.slice(0, 20),
    earlier,
    probation: st.episodes.probation.get(ep.agentId)?.expr,
  };
}

/** The agent's probing alerts from the audit trail (the projection keeps counts only), newest first. */
function probingAlerts(ctx: HubContext, agentId: string): EpisodeView['alerts'] {
  const st = ctx.service.state;
  const ep = [...st.episodes.episodes.values()].filter((e) => e.agentId === agentId);
  return ep
    .flatMap((e) => e.evidence.filter((q) => q.kind === 'probing_alert' || (q.kind === 'opened' && e.trigger === 'probing_alert')))
    .map((q) => {
      const m = /probing alert on ([^/]*)\/(\S*)/.exec(q.text);
      return { seq: q.seq, ts: q.ts, dataset: m?.[1] ?? '', split: m?.[2] ?? '', suspended: /suspended/.test(q.text) };
    })
    .sort((a, b) => b.seq - a.seq);
}
