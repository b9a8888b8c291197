// `overseer agent pause|resume|retire|review|release|show|episodes`: one decision per agent episode
// (core/episodes.ts), humans only (the hub refuses agent tokens). Agent-written text is printed through safeLine.
import { ID_RE } from '../core/events';
import type { EpisodeView } from '../hub/api';
import type { HubClient } from '../hub/client';
import { CliError, EXIT, clip, command, group, out, table } from './human';
import { safeJson, safeLine } from './terminalText';

function agentArg(v: string): string {
  if (!ID_RE.test(v)) throw new CliError(EXIT.usage, `${safeLine(JSON.stringify(v))} is not an agent id`);
  return v;
}

async function openEpisodeOf(client: HubClient, agentId: string): Promise<string> {
  const ep = (await client.episodes()).episodes.find((e) => e.agentId === agentId);
  if (!ep) throw new CliError(EXIT.refused, `agent ${agentId} has no open episode (\`overseer queue\` lists them; \`overseer agent pause ${agentId} --reason R\` opens one)`);
  return ep.id;
}

function printEpisode(v: EpisodeView): void {
  const ep = v.episode;
  out(`episode ${safeLine(ep.id)} · agent ${safeLine(ep.agentId)} · ${ep.trigger.replace('_', ' ')} · opened ${ep.openedAt}${ep.resolution ? ` · ${ep.resolution.action} by ${safeLine(ep.resolution.by)}: ${clip(ep.resolution.note, 200)}` : ' · open'}\n`);
  out(`  ${clip(ep.reason, 300)}\n`);
  if (v.probation) out(`  probation: ${clip(v.probation, 300)}\n`);
  out(`\nheld proposals (${v.held.length})\n`);
  if (v.held.length) out(table(['ID', 'STATE', 'RISK', 'COMMIT', 'TITLE'], v.held.map((x) => [safeLine(x.id), x.state, x.risk?.level ?? '-', x.commit.slice(0, 12), clip(x.title, 60)])));
  out(`\nvetoes (${v.vetoes.length})\n`);
  for (const q of v.vetoes) out(`  ${safeLine(q.experimentId)}${q.gaming ? ' GAMING' : ''} by ${safeLine(q.by)}: ${clip(q.reason, 160)}\n`);
  out(`probing alerts: ${v.openAlerts} open${v.alerts.length ? ` · ${v.alerts.map((a) => `${safeLine(a.dataset)}/${safeLine(a.split)}${a.suspended ? ' (suspended)' : ''}`).join(', ')}` : ''}\n`);
  out(`findings (${v.findings.length})\n`);
  for (const f of v.findings.slice(0, 20)) out(`  ${f.severity.padEnd(8)} ${safeLine(f.kind)} ${safeLine(f.file)}:${f.line} (${safeLine(f.experimentId)}) ${clip(f.explanation, 120)}\n`);
  out(`runs with violations (${v.runs.length})\n`);
  for (const r of v.runs) out(`  ${safeLine(r.experimentId)} ${r.violations} violation(s): ${clip(r.summary, 160)}\n`);
  if (v.earlier.length) out(`earlier episodes: ${v.earlier.map((e) => `${safeLine(e.id)} ${e.action} by ${safeLine(e.by)}`).join(' · ')}\n`);
  if (!ep.resolution) out(`\ndecide: overseer agent resume|retire|review ${safeLine(ep.agentId)} --note N [--probation EXPR] · release one: overseer agent release ${safeLine(ep.agentId)} <exp>\n`);
}

const show = command('agent show', {
  usage: '',
  args: ['agent'],
  run: async (c, { values, positionals }) => {
    const id = await openEpisodeOf(c.client, agentArg(positionals[0]!));
    const v = await c.client.episode(id);
    if (values.json) return out(safeJson(v) + '\n'), EXIT.ok;
    printEpisode(v);
    return EXIT.ok;
  },
});

const list = command('agent episodes', {
  usage: '[--all]',
  options: { all: { type: 'boolean' } },
  run: async (c, { values }) => {
    const { episodes } = await c.client.episodes(!!values.all);
    if (values.json) return out(safeJson({ episodes }) + '\n'), EXIT.ok;
    if (!episodes.length) return out(values.all ? 'no episodes\n' : 'no open episodes\n'), EXIT.ok;
    out(table(['EPISODE', 'AGENT', 'TRIGGER', 'HELD', 'STATE', 'REASON'], episodes.map((e) => [safeLine(e.id), safeLine(e.agentId), e.trigger, String(e.held), e.resolution ? `${e.resolution.action} by ${safeLine(e.resolution.by)}` : 'open', clip(e.reason, 80)])));
    return EXIT.ok;
  },
});

const pause = command('agent pause', {
  usage: '--reason <why>',
  args: ['agent'],
  options: { reason: { type: 'string' } },
  run: async (c, { values, positionals }) => {
    const reason = (values.reason as string | undefined)?.trim();
    if (!reason) throw new CliError(EXIT.usage, 'a pause needs --reason <why>');
    const v = await c.client.holdAgent(agentArg(positionals[0]!), reason);
    if (values.json) return out(safeJson(v) + '\n'), EXIT.ok;
    out(`opened episode ${safeLine(v.episode.id)} for ${safeLine(v.episode.agentId)}: ${v.held.length} proposal(s) held until a decision\n`);
    return EXIT.ok;
  },
});

function resolve(action: 'resume' | 'retire' | 'review') {
  return command(`agent ${action}`, {
    usage: `--note <text for the agent>${action === 'resume' ? ' [--probation <CEL condition>]' : ''}`,
    args: ['agent'],
    options: { note: { type: 'string' }, ...(action === 'resume' ? { probation: { type: 'string' as const } } : {}) },
    run: async (c, { values, positionals }) => {
      const note = (values.note as string | undefined)?.trim();
      if (!note) throw new CliError(EXIT.usage, `${action} needs --note <text> (it goes to the agent's inbox and the ledger)`);
      const agentId = agentArg(positionals[0]!);
      const probation = values.probation as string | undefined;
      const id = await openEpisodeOf(c.client, agentId);
      const v = await c.client.resolveEpisode(id, { action: probation !== undefined ? 'probation' : action, note, ...(probation !== undefined ? { probation } : {}) });
      if (values.json) return out(safeJson(v) + '\n'), EXIT.ok;
      const r = v.episode.resolution!;
      out(`${r.action === 'retire' ? 'retired' : r.action === 'review' ? 'released for individual review' : r.action === 'probation' ? 'resumed on probation' : 'resumed'} ${safeLine(agentId)} (episode ${safeLine(id)}, ${r.held.length} held proposal(s))\n`);
      return EXIT.ok;
    },
  });
}

const release = command('agent release', {
  usage: '',
  args: ['agent', 'experiment'],
  run: async (c, { values, positionals }) => {
    const id = await openEpisodeOf(c.client, agentArg(positionals[0]!));
    const v = await c.client.releaseHeld(id, positionals[1]!);
    if (values.json) return out(safeJson(v) + '\n'), EXIT.ok;
    out(`released ${safeLine(positionals[1])} from episode ${safeLine(id)}: decide it at its own pin (overseer show ${safeLine(positionals[1])})\n`);
    return EXIT.ok;
  },
});

export const agentCommand = group('agent', 'agent episodes: one decision about an agent whose proposals are held', { show, episodes: list, pause, resume: resolve('resume'), retire: resolve('retire'), review: resolve('review'), release }, 'episodes');
