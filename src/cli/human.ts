// The human CLI, in the manner of `gh pr` and `kubectl`: `overseer status|queue|show|diff|approve|veto|
// request-changes|runs|logs|leaderboard`, against a fleet directory or a team hub, with `--json` for scripts.
//
// Where it connects:
//   --hub URL (or OVERSEER_HUB)     a team hub; the token comes from OVERSEER_TOKEN or --token-file.
//   --fleet DIR (or OVERSEER_FLEET) the hub serving that directory (its hub.json lock), or, when none runs, a hub
//                                   opened in this process on 127.0.0.1:0 for the one command and closed after it.
// Both go through HubClient and the hub's own routes, so a decision made here passes the same auth, validation
// and pin checks as one made in VS Code. In fleet mode without an explicit token the CLI uses a human token it
// minted once and keeps in <fleet>/cli-tokens/<human>.token (0600; the fleet directory is the admin's).
//
// Exit codes: 0 done; 1 the hub refused or failed (no such experiment, wrong state, stale pin, forbidden);
// 2 usage (bad options, no token, no fleet); 3 the hub cannot be reached.
// Everything agents wrote is printed through terminalText (terminal sequences as `⟦link → host⟧`-style markers
// saying what they would have done; other controls, bidi and invisible characters as <U+XXXX> markers).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ID_RE } from '../core/events';
import { LEDGER_FILE } from '../core/ledger';
import { QUEUE_ORDER, UNDECIDED } from '../core/lifecycle';
import { EXPERIMENT_STATES } from '../core/model';
import type { Experiment, ExperimentState } from '../core/model';
import { sleep } from '../core/sleep';
import { RISK_BADGE, riskRank } from '../core/risk';
import { TokenStore } from '../hub/auth';
import type { PolicySetRequest, PolicyView } from '../hub/api';
import { HubClient, HubError } from '../hub/client';
import { runningHub, startHub } from '../hub/server';
import { RunLogText } from '../host/runLogText';
import { ago } from '../host/text';
import { parseCommand } from './args';
import { firstLine, safeBlock, safeJson, safeLine, safeLines } from './terminalText';

export const EXIT = { ok: 0, refused: 1, usage: 2, unreachable: 3 } as const;

const CONNECT_USAGE = '[--fleet <dir> | --hub <url> [--token-file <f>]] [--as <human-id>] [--json]';
const CONNECT_OPTIONS = {
  fleet: { type: 'string' },
  hub: { type: 'string' },
  'token-file': { type: 'string' },
  as: { type: 'string' },
  json: { type: 'boolean' },
} as const;

export class CliError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

interface Connection {
  client: HubClient;
  /** Where the CLI is connected, for messages. */
  where: string;
  /** The hub was opened in this process (no hub serves the fleet): nothing runs or changes meanwhile. */
  inProcess: boolean;
  close(): Promise<void>;
}

type ConnectValues = { fleet?: string; hub?: string; 'token-file'?: string; as?: string; json?: boolean };

function readToken(v: ConnectValues): string | undefined {
  if (v['token-file']) {
    let t: string;
    try {
      t = fs.readFileSync(v['token-file'], 'utf8').trim();
    } catch (err) {
      throw new CliError(EXIT.usage, `cannot read --token-file: ${(err as Error).message}`);
    }
    if (!t) throw new CliError(EXIT.usage, `--token-file ${v['token-file']} is empty`);
    return t;
  }
  const env = process.env.OVERSEER_TOKEN?.trim();
  return env || undefined;
}

function osUser(): string {
  try {
    return os.userInfo().username.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 64) || 'cli';
  } catch {
    return 'cli'; // a uid without a passwd entry (containers)
  }
}

function humanId(v: ConnectValues): string {
  const id = v.as ?? process.env.OVERSEER_HUMAN ?? osUser();
  if (!ID_RE.test(id)) throw new CliError(EXIT.usage, `invalid human id ${JSON.stringify(id)} (letters, digits, . _ -; max 64); pass --as <id>`);
  return id;
}

/** The CLI's own human token for this fleet: reused while valid, minted (and kept 0600) otherwise. */
function cliToken(dir: string, human: string): string {
  const store = new TokenStore(dir);
  const tokDir = path.join(dir, 'cli-tokens');
  const file = path.join(tokDir, `${human}.token`);
  try {
    const t = fs.readFileSync(file, 'utf8').trim();
    const actor = store.verify(t);
    if (actor && actor.kind === 'human' && actor.id === human) return t;
  } catch {
    /* none yet */
  }
  const { token } = store.create({ kind: 'human', id: human });
  fs.mkdirSync(tokDir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return token;
}

async function connect(v: ConnectValues): Promise<Connection> {
  const hubUrl = v.hub ?? (v.fleet ? undefined : process.env.OVERSEER_HUB);
  const fleet = v.fleet ?? (hubUrl ? undefined : process.env.OVERSEER_FLEET);
  if (v.hub && v.fleet) throw new CliError(EXIT.usage, 'name either --fleet <dir> or --hub <url>, not both');
  if (hubUrl) {
    if (!/^https?:\/\/[^\s/]+/.test(hubUrl)) throw new CliError(EXIT.usage, `--hub must be an http(s) URL, got ${JSON.stringify(hubUrl)}`);
    const token = readToken(v);
    if (!token) throw new CliError(EXIT.usage, `no token for ${hubUrl}: set OVERSEER_TOKEN or pass --token-file <file>`);
    return { client: new HubClient(hubUrl, token), where: hubUrl, inProcess: false, close: async () => undefined };
  }
  if (!fleet) throw new CliError(EXIT.usage, 'name a fleet directory (--fleet <dir>, or OVERSEER_FLEET) or a team hub (--hub <url>, or OVERSEER_HUB)');
  const dir = path.resolve(fleet);
  const ledger = path.join(dir, LEDGER_FILE);
  if (!fs.existsSync(ledger) || fs.statSync(ledger).size === 0) throw new CliError(EXIT.usage, `${dir} holds no fleet (no ${LEDGER_FILE}); create one with overseer hub --fleet <dir> --init --name <name>`);
  const token = readToken(v) ?? cliToken(dir, humanId(v));
  const lock = runningHub(dir);
  if (lock) return { client: new HubClient(lock.url, token), where: `${lock.url} (hub pid ${lock.pid})`, inProcess: false, close: async () => undefined };
  const warnings: string[] = [];
  const hub = await startHub({ fleetDir: dir, host: '127.0.0.1', port: 0, screen: false, dispatch: false, onWarning: (m) => warnings.push(m) });
  for (const w of warnings) process.stderr.write(`warning: ${safeLine(w)}\n`);
  return { client: new HubClient(hub.url, token), where: `${dir} (no hub running; opened in this process)`, inProcess: true, close: () => hub.close() };
}

// ------------------------------------------------------------------ output helpers

export function out(s: string): void {
  process.stdout.write(s);
}

export function table(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const w = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]!))).join('  ').trimEnd()).join('\n') + '\n';
}

/** Agent text cut to n characters (code points, before markers are added) and made safe. */
export function clip(text: unknown, n: number): string {
  const cps = Array.from(String(text ?? ''));
  return safeLine(cps.length > n ? `${cps.slice(0, n - 1).join('')}…` : cps.join(''));
}

const short = (sha: string | undefined) => (sha ? sha.slice(0, 12) : '-');
const num = (x: unknown, d = 3) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(d) : '—');

const riskOrder = (x: Experiment) => (x.risk ? riskRank(x.risk.level) : 1);

function queueRank(s: ExperimentState): number {
  const i = QUEUE_ORDER.indexOf(s);
  return i < 0 ? QUEUE_ORDER.length : i;
}

function flags(x: Experiment): string {
  const f: string[] = [];
  if (x.screening?.gaming) f.push('GAMING');
  else if (x.screening?.findings.length) f.push(`${x.screening.findings.length} finding${x.screening.findings.length > 1 ? 's' : ''}`);
  if (x.run?.report?.violations) f.push(`${x.run.report.violations} violation${x.run.report.violations > 1 ? 's' : ''}`);
  if (x.score) f.push(`pgr ${num(x.score.pgr)}${x.score.verified ? '' : ' (unverified)'}`);
  return f.join(', ') || '-';
}

// ------------------------------------------------------------------ the commands

type Handler = (c: Connection, a: { values: ConnectValues & Record<string, unknown>; positionals: string[] }) => Promise<number>;

interface Spec {
  usage: string;
  options?: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;
  /** Positional arguments: names, all required. */
  args?: string[];
  run: Handler;
}

export function command(name: string, spec: Spec): (argv: string[]) => Promise<number> {
  const usage = `usage: overseer ${name}${spec.args?.length ? ' ' + spec.args.map((a) => `<${a}>`).join(' ') : ''} ${spec.usage ? spec.usage + ' ' : ''}${CONNECT_USAGE}`;
  return async (argv) => {
    const p = parseCommand(argv, { ...CONNECT_OPTIONS, ...(spec.options ?? {}) }, usage, { allowPositionals: true });
    if (typeof p === 'number') return p === 0 ? EXIT.ok : EXIT.usage;
    const values = p.values as ConnectValues & Record<string, unknown>;
    let positionals = p.positionals;
    // `overseer status <fleet>`: the fleet directory may be given as the positional argument.
    if (name === 'status' && positionals.length === 1 && !values.fleet && !values.hub) {
      values.fleet = positionals[0];
      positionals = [];
    }
    const want = spec.args ?? [];
    if (positionals.length !== want.length) {
      const what = positionals.length < want.length ? `missing <${want[positionals.length]}>` : `unexpected argument ${JSON.stringify(positionals[want.length])}`;
      process.stderr.write(`overseer ${name}: ${safeLine(what)}\n${usage}\n`);
      return EXIT.usage;
    }
    for (const [i, a] of want.entries()) {
      if (a === 'experiment' && !ID_RE.test(positionals[i]!)) {
        process.stderr.write(`overseer ${name}: ${safeLine(JSON.stringify(positionals[i]))} is not an experiment id (letters, digits, . _ -; max 64)\n`);
        return EXIT.usage;
      }
    }
    let conn: Connection | undefined;
    try {
      conn = await connect(values);
      return await spec.run(conn, { values, positionals });
    } catch (err) {
      return report(name, err);
    } finally {
      await conn?.close().catch(() => undefined);
    }
  };
}

function report(name: string, err: unknown): number {
  if (err instanceof CliError) {
    process.stderr.write(`overseer ${name}: ${safeLine(err.message)}\n`);
    return err.exitCode;
  }
  if (err instanceof HubError) {
    if (err.status === 0) {
      process.stderr.write(`overseer ${name}: ${safeLine(err.message)}\n`);
      return EXIT.unreachable;
    }
    const hint = err.status === 401 ? ' (the token is missing, revoked or not for this hub)' : '';
    process.stderr.write(`overseer ${name}: ${safeLine(err.message)}${hint} [${safeLine(err.code)}, HTTP ${err.status}]\n`);
    return EXIT.refused;
  }
  process.stderr.write(`overseer ${name}: ${safeLine((err as Error)?.message ?? err)}\n`);
  return EXIT.refused;
}

const status = command('status', {
  usage: '',
  run: async (c, { values }) => {
    const f = await c.client.fleet();
    if (values.json) return out(safeJson({ hub: c.where, inProcess: c.inProcess, ...f }) + '\n'), EXIT.ok;
    const open = new Map<string, number>();
    for (const g of f.queue) if (UNDECIDED.includes(g.state)) for (const x of g.experiments) open.set(x.agentId, (open.get(x.agentId) ?? 0) + 1);
    out(`fleet ${safeLine(f.name)} · ${c.where} · ledger seq ${f.lastSeq}\n`);
    out(`${f.counts.agents} agents · ${f.counts.experiments} experiments · ${f.counts.awaitingReview} awaiting review · ${f.counts.running} running · ${f.counts.findings} findings\n`);
    for (const r of f.unconfinedRunners ?? []) out(`WARNING: runner ${safeLine(r)} runs jobs unconfined ("sandbox": "none")\n`);
    out('\n');
    out(
      table(
        ['AGENT', 'STATUS', 'OPEN', 'GPU-H USED/BUDGET', 'DIRECTION'],
        f.agents.map((a) => [
          safeLine(a.id),
          a.status === 'paused' ? `paused: ${clip(a.pausedReason ?? '', 30)}` : a.status,
          String(open.get(a.id) ?? 0),
          `${num(a.used.gpuHours, 1)}/${num(a.budget.gpuHours, 1)}`,
          clip(firstLine(a.direction).line, 50),
        ]),
      ),
    );
    // Directions span lines (a title, then paragraphs): printed whole below the table, line breaks kept and indented.
    const long = f.agents.filter((a) => firstLine(a.direction).more);
    if (long.length) {
      out('\ndirections\n');
      for (const a of long) out([`  ${safeLine(a.id)}`, ...safeLines(a.direction, '    ')].join('\n') + '\n');
    }
    const counts = f.queue.filter((g) => g.experiments.length).map((g) => `${g.state} ${g.experiments.length}`);
    if (counts.length) out(`\nqueue: ${counts.join(' · ')}\n`);
    return EXIT.ok;
  },
});

const STATE_FILTERS = ['undecided', 'all', ...EXPERIMENT_STATES] as const;

const queue = command('queue', {
  usage: '[--state undecided|all|<state>] [--agent <id>]',
  options: { state: { type: 'string' }, agent: { type: 'string' } },
  run: async (c, { values }) => {
    const state = (values.state as string | undefined) ?? 'undecided';
    if (!(STATE_FILTERS as readonly string[]).includes(state)) throw new CliError(EXIT.usage, `unknown --state ${JSON.stringify(state)}; one of ${STATE_FILTERS.join(', ')}`);
    const agent = values.agent as string | undefined;
    if (agent !== undefined && !ID_RE.test(agent)) throw new CliError(EXIT.usage, `--agent ${JSON.stringify(agent)} is not an agent id`);
    const { experiments } = await c.client.listExperiments(agent ? { agentId: agent } : {});
    const xs = experiments
      .filter((x) => state === 'all' || (state === 'undecided' ? UNDECIDED.includes(x.state) : x.state === state))
      // undecided: highest risk first, then oldest (triage order)
      .sort((a, b) => queueRank(a.state) - queueRank(b.state) || (UNDECIDED.includes(a.state) ? riskOrder(b) - riskOrder(a) : 0) || a.proposedSeq - b.proposedSeq);
    if (values.json) return out(safeJson({ experiments: xs }) + '\n'), EXIT.ok;
    if (!xs.length) {
      out(`no experiments${state === 'all' ? '' : ` in state ${state}`}${agent ? ` for ${agent}` : ''}\n`);
      return EXIT.ok;
    }
    out(table(['ID', 'AGENT', 'STATE', 'RISK', 'COMMIT', 'FLAGS', 'TITLE'], xs.map((x) => [safeLine(x.id), safeLine(x.agentId), x.state, x.risk ? RISK_BADGE[x.risk.level] : '-', short(x.commit), safeLine(flags(x)), clip(x.title, 60)])));
    // sweeps among the listed undecided proposals: one row each (decided together with POST /api/sweeps/decide)
    if (state === 'undecided') {
      const listed = new Set(xs.map((x) => x.id));
      const sweeps = (await c.client.triage().catch(() => ({ sweeps: [] }))).sweeps.filter((s) => s.experimentIds.every((i) => listed.has(i)));
      for (const s of sweeps) out(`sweep ${safeLine(s.id)}: ${clip(s.label, 160)}${s.risk ? ` · ${RISK_BADGE[s.risk.level]}` : ''} (${s.experimentIds.map((i) => safeLine(i)).join(', ')})\n`);
      // agent episodes: one row each, their proposals held (decide with `overseer agent resume|retire <agent>`)
      for (const ep of (await c.client.episodes().catch(() => ({ episodes: [] }))).episodes) {
        if (agent && ep.agentId !== agent) continue;
        out(`episode ${safeLine(ep.id)}: agent ${safeLine(ep.agentId)} · ${ep.trigger.replace('_', ' ')} · ${ep.held} held · ${clip(ep.reason, 120)} (overseer agent show ${safeLine(ep.agentId)})\n`);
      }
    }
    return EXIT.ok;
  },
});

/** "3 seed jobs, 1.5 GPU-h": what an approval fixes (or the proposal asks for, before one). */
function seedLine(x: Experiment): string {
  const n = x.seedJobs ?? x.seeds;
  const approved = x.seedJobs !== undefined || (x.verdict?.decision === 'approved' && x.seeds === undefined);
  const count = n ?? 1;
  const g = +(count * x.resources.gpuHours).toFixed(4);
  if (n === undefined && !approved) return `default seed jobs (fleet.json seeds, else 3) × ${x.resources.gpuHours} GPU-h`;
  const r = x.replicationJobs ?? 0;
  if (r) return `${count} seed job${count === 1 ? '' : 's'} + ${r} replication job${r === 1 ? '' : 's'}, ${+((count + r) * x.resources.gpuHours).toFixed(4)} GPU-h`;
  return `${count} seed job${count === 1 ? '' : 's'}, ${g} GPU-h${approved ? '' : ' (asked for)'}`;
}

const show = command('show', {
  usage: '',
  args: ['experiment'],
  run: async (c, { values, positionals }) => {
    const id = positionals[0]!;
    const x = await c.client.getExperiment(id);
    const [files, comments] = await Promise.all([c.client.experimentFiles(id).catch((err: Error) => err), c.client.experimentComments(id).catch(() => ({ comments: [] }))]);
    if (values.json) return out(safeJson({ experiment: x, files: files instanceof Error ? null : files.files, comments: comments.comments }) + '\n'), EXIT.ok;
    const lines: string[] = [];
    lines.push(`${safeLine(x.id)}  ${safeLine(x.title)}`);
    lines.push(`agent     ${safeLine(x.agentId)}`);
    lines.push(`state     ${x.state}${x.supersededBy ? ` (superseded by ${safeLine(x.supersededBy)})` : ''}`);
    lines.push(`commit    ${x.commit}`);
    lines.push(`tree      ${x.tree}`);
    if (x.baseCommit) lines.push(`base      ${x.baseCommit}`);
    if (x.branch) lines.push(`branch    ${safeLine(x.branch)}`);
    lines.push(`command   ${safeLine(x.command)}`);
    lines.push(`resources ${x.resources.gpus} GPU · ${x.resources.gpuHours} GPU-h · ${x.resources.timeLimitMinutes} min · task mode ${x.taskMode}`);
    lines.push(`seeds     ${seedLine(x)}`);
    if (x.risk) {
      lines.push(`risk      ${x.risk.level}`);
      for (const r of x.risk.reasons) {
        const [head = '', ...more] = safeLines(r.text, '');
        lines.push(`  ${r.level.padEnd(8)} ${head}`, ...more.map((l) => `           ${l}`.trimEnd()));
      }
    }
    if (x.verdict) {
      lines.push(`decision  ${x.verdict.decision} by ${safeLine(x.verdict.by.id)} at ${x.verdict.ts}${x.verdict.reason ? ':' : ''}`);
      lines.push(...safeLines(x.verdict.reason, '          '));
    }
    lines.push('', 'rationale', ...(safeLines(x.rationale).length ? safeLines(x.rationale) : ['  (none)']));
    lines.push('', 'screening');
    if (!x.screening) lines.push('  (not screened)');
    else {
      lines.push(`  ${x.screening.gaming ? 'FLAGGED as evaluation gaming' : 'not flagged'} · score ${num(x.screening.score, 2)} · ${x.screening.findings.length} finding(s)`);
      for (const f of x.screening.findings) {
        // an explanation of several lines (the AI reviewer writes paragraphs) continues indented under its finding
        const [head = '', ...more] = safeLines(f.explanation, '');
        lines.push(`  ${f.severity.padEnd(8)} ${safeLine(f.kind)}  ${safeLine(f.file)}:${f.line}  ${head} (${f.source}, confidence ${num(f.confidence, 2)})`, ...more.map((l) => `           ${l}`.trimEnd()));
      }
    }
    lines.push('', 'files');
    if (files instanceof Error) lines.push(`  (diffstat unavailable: ${safeLine(files.message)})`);
    else {
      let add = 0;
      let del = 0;
      for (const f of files.files) {
        add += f.additions;
        del += f.deletions;
        const name = f.oldPath ? `${safeLine(f.oldPath)} → ${safeLine(f.path)}` : safeLine(f.path);
        lines.push(`  ${f.status} ${name}  ${f.binary ? 'binary' : `+${f.additions} -${f.deletions}`}`);
      }
      lines.push(`  ${files.files.length} file(s) changed, +${add} -${del}`);
    }
    lines.push('', 'run');
    if (!x.run) lines.push('  (not run)');
    else {
      const r = x.run;
      lines.push(`  ${safeLine(r.runner)} job ${safeLine(r.jobId)} at ${short(r.commit)} · dispatched ${r.dispatchedAt}${r.startedAt ? ` · started ${r.startedAt}` : ''}${r.endedAt ? ` · ended ${r.endedAt}` : ''}`);
      if (r.endState) lines.push(`  ${r.endState}${r.exitCode !== undefined ? ` (exit ${r.exitCode})` : ''}${r.reason ? `: ${safeLine(r.reason)}` : ''}`);
      if (r.report) lines.push(`  sandbox ${r.report.sandbox} · ${r.report.violations} violation(s): ${safeLine(r.report.summary)}`);
      for (const j of r.jobs ?? []) {
        lines.push(`  seed job ${j.index}${j.seed !== undefined ? ` seed ${j.seed}` : ''}: ${safeLine(j.runner)} job ${safeLine(j.jobId || '-')} · ${j.endState ?? (j.startedAt ? 'running' : 'dispatched')}${j.exitCode !== undefined ? ` (exit ${j.exitCode})` : ''}${j.reason ? `: ${safeLine(j.reason)}` : ''}`);
      }
    }
    if (x.score) lines.push(`  score: ${safeLine(x.score.dataset)}/${safeLine(x.score.split)} transfer_acc ${num(x.score.transferAcc)} pgr ${num(x.score.pgr)} ${x.score.verified ? 'verified' : 'unverified'}`);
    if (x.verification) {
      lines.push('', 'result');
      lines.push(`  ${x.verification.status.replace('_', ' ')}`);
      for (const r of x.verification.reasons) lines.push(`  - ${safeLine(r)}`);
      if (x.verification.status === 'awaiting_acceptance') lines.push(`  accept it once you have seen it: overseer accept ${safeLine(x.id)} --reason "<what you checked>" [--false-alarm <kind>@<file>:<line>="<why>">]`);
      if (x.acceptance) lines.push(`  accepted by ${safeLine(x.acceptance.by.id)} at ${x.acceptance.ts}: ${safeLine(x.acceptance.reason)}`);
      for (const f of x.acceptance?.falseAlarms ?? []) lines.push(`    false alarm ${safeLine(f.kind)} at ${safeLine(f.file)}:${f.line}: ${safeLine(f.why)}`);
    }
    if (comments.comments.length) {
      lines.push('', `review comments (${comments.comments.length})`);
      for (const cm of comments.comments) lines.push(`  ${safeLine(cm.author.id)} on ${safeLine(cm.file)}:${cm.line}:`, ...safeLines(cm.body, '    '));
    }
    out(lines.join('\n') + '\n');
    return EXIT.ok;
  },
});

const diff = command('diff', {
  usage: '[--file <path>]',
  args: ['experiment'],
  options: { file: { type: 'string' } },
  run: async (c, { values, positionals }) => {
    const d = await c.client.experimentDiff(positionals[0]!, values.file as string | undefined);
    if (values.json) return out(safeJson(d) + '\n'), EXIT.ok;
    out(safeBlock(d.patch));
    if (d.patch && !d.patch.endsWith('\n')) out('\n');
    if (d.truncated) process.stderr.write('(diff truncated by the hub; use --file <path> for one file)\n');
    return EXIT.ok;
  },
});

function decision(kind: 'approve' | 'veto' | 'request-changes') {
  return command(kind, {
    usage: `${kind === 'approve' ? '[--reason <note>] [--seeds <n>]' : '--reason <why>'} [--commit <sha or prefix you reviewed>]`,
    args: ['experiment'],
    options: { reason: { type: 'string' }, commit: { type: 'string' }, ...(kind === 'approve' ? { seeds: { type: 'string' as const } } : {}) },
    run: async (c, { values, positionals }) => {
      const id = positionals[0]!;
      const reason = (values.reason as string | undefined)?.trim();
      if (kind !== 'approve' && !reason) throw new CliError(EXIT.usage, `${kind === 'veto' ? 'a veto' : 'a request for changes'} needs --reason <why> (the agent reads it)`);
      const x = await c.client.getExperiment(id);
      // The decision names the commit and tree the CLI shows; the hub refuses it (stale_review) when they are
      // not the experiment's pin. --commit checks that this is the commit you reviewed (e.g. with `show`).
      let commit = x.commit;
      const want = (values.commit as string | undefined)?.toLowerCase();
      if (want !== undefined) {
        if (!/^[0-9a-f]{4,40}$/.test(want)) throw new CliError(EXIT.usage, `--commit ${JSON.stringify(want)} is not a hex commit id (4 to 40 digits)`);
        if (want.length === 40) commit = want;
        else if (!x.commit.startsWith(want)) throw new CliError(EXIT.refused, `stale pin: ${x.id} is pinned to commit ${short(x.commit)}, not ${want}; review the pinned commit (overseer show ${x.id}) and decide again`);
      }
      const pin = { commit, tree: x.tree };
      const seedsArg = values.seeds as string | undefined;
      if (seedsArg !== undefined && !/^\d{1,2}$/.test(seedsArg)) throw new CliError(EXIT.usage, `--seeds ${JSON.stringify(seedsArg)} is not a number of seed jobs (1 to 20)`);
      const seeds = seedsArg === undefined ? {} : { seeds: Number(seedsArg) };
      const y =
        kind === 'approve'
          ? await c.client.approve(id, reason ? { ...pin, ...seeds, note: reason } : { ...pin, ...seeds })
          : kind === 'veto'
            ? await c.client.veto(id, { ...pin, reason: reason! })
            : await c.client.requestChanges(id, { ...pin, reason: reason! });
      if (values.json) out(safeJson(y) + '\n');
      else out(`${kind === 'approve' ? 'approved' : kind === 'veto' ? 'vetoed' : 'requested changes on'} ${safeLine(y.id)} (${safeLine(y.title)}) at commit ${short(pin.commit)} tree ${short(pin.tree)} → ${y.state}${kind === 'approve' ? ` (${seedLine(y)})` : ''}\n`);
      if (kind === 'approve' && c.inProcess) process.stderr.write('note: no hub serves this fleet; the approval is recorded and runs when a hub with --dispatch starts\n');
      return EXIT.ok;
    },
  });
}

/** `--false-alarm kind@file:line=why`: a finding the human judged wrong, and why. */
function parseFalseAlarm(v: string): { kind: string; file: string; line: number; why: string } {
  const m = /^([^@]+)@(.+):(\d+)=(.+)$/s.exec(v);
  if (!m) throw new CliError(EXIT.usage, `--false-alarm ${JSON.stringify(v)}: expected <kind>@<file>:<line>=<why> (as \`overseer show\` lists findings)`);
  return { kind: m[1]!.trim(), file: m[2]!.trim(), line: Number(m[3]), why: m[4]!.trim() };
}

const accept = command('accept', {
  usage: '--reason <what you checked> [--false-alarm <kind>@<file>:<line>=<why>]...',
  args: ['experiment'],
  options: { reason: { type: 'string' }, 'false-alarm': { type: 'string', multiple: true } },
  run: async (c, { values, positionals }) => {
    const id = positionals[0]!;
    const reason = (values.reason as string | undefined)?.trim();
    if (!reason) throw new CliError(EXIT.usage, 'accepting a result needs --reason <what you checked> (it is recorded in the ledger)');
    const falseAlarms = ((values['false-alarm'] as string[] | undefined) ?? []).map(parseFalseAlarm);
    const y = await c.client.acceptResult(id, { reason, ...(falseAlarms.length ? { falseAlarms } : {}) });
    if (values.json) return out(safeJson(y) + '\n'), EXIT.ok;
    out(`accepted the result of ${safeLine(y.id)} (${safeLine(y.title)}) → ${y.verification?.status.replace('_', ' ') ?? y.state}${y.verification?.reasons.length ? `: ${safeLine(y.verification.reasons.join('; '))}` : ''}\n`);
    return EXIT.ok;
  },
});

const runs = command('runs', {
  usage: '[--agent <id>] [--active]',
  options: { agent: { type: 'string' }, active: { type: 'boolean' } },
  run: async (c, { values }) => {
    const agent = values.agent as string | undefined;
    if (agent !== undefined && !ID_RE.test(agent)) throw new CliError(EXIT.usage, `--agent ${JSON.stringify(agent)} is not an agent id`);
    const { experiments } = await c.client.listExperiments(agent ? { agentId: agent } : {});
    const xs = experiments
      .filter((x) => x.run && (!values.active || x.state === 'dispatched' || x.state === 'running'))
      .sort((a, b) => (b.run!.dispatchedAt < a.run!.dispatchedAt ? -1 : b.run!.dispatchedAt > a.run!.dispatchedAt ? 1 : 0));
    if (values.json) return out(safeJson({ runs: xs.map((x) => ({ experimentId: x.id, agentId: x.agentId, state: x.state, score: x.score ?? null, ...x.run })) }) + '\n'), EXIT.ok;
    if (!xs.length) return out('no runs\n'), EXIT.ok;
    out(
      table(
        ['EXPERIMENT', 'AGENT', 'STATE', 'RUNNER', 'JOB', 'EXIT', 'DISPATCHED', 'REPORT'],
        xs.map((x) => {
          const r = x.run!;
          return [safeLine(x.id), safeLine(x.agentId), x.state, safeLine(r.runner), clip(r.jobId, 20), r.exitCode === undefined ? '-' : String(r.exitCode), r.dispatchedAt, r.report ? `${r.report.sandbox}, ${r.report.violations} violation(s)` : '-'];
        }),
      ),
    );
    return EXIT.ok;
  },
});

const logs = command('logs', {
  usage: '[-f|--follow]',
  args: ['experiment'],
  options: { follow: { type: 'boolean', short: 'f' } },
  run: async (c, { values, positionals }) => {
    const id = positionals[0]!;
    let follow = !!values.follow;
    if (follow && c.inProcess) {
      process.stderr.write('note: no hub serves this fleet, so nothing runs; printing the log so far\n');
      follow = false;
    }
    let offset = 0;
    // as the extension shows logs: terminal sequences as markers (a hidden link's target host, titles, cursor
    // moves, CR rewrites; colours dropped), other hidden characters as markers, the runner shell's job-control
    // notices left out
    const view = new RunLogText();
    for (;;) {
      let r;
      try {
        r = await c.client.runLog(id, offset);
      } catch (err) {
        // Following an approved experiment that is not dispatched yet: wait for its run.
        if (follow && err instanceof HubError && err.status === 404) {
          const x = await c.client.getExperiment(id);
          if (x.state === 'approved' || x.state === 'dispatched' || x.state === 'running') {
            await sleep(500);
            continue;
          }
        }
        throw err;
      }
      if (values.json) out(safeJson(r) + '\n');
      else out(safeBlock(view.push(r.text)));
      offset = r.nextOffset;
      if (r.eof) break;
      if (r.nextOffset >= r.size) {
        if (!follow) break;
        await sleep(500);
      }
    }
    if (!values.json) out(safeBlock(view.end()));
    return EXIT.ok;
  },
});

const leaderboard = command('leaderboard', {
  usage: '[--dataset <name>] [--all] [--by visible|transfer]',
  options: { dataset: { type: 'string' }, all: { type: 'boolean' }, by: { type: 'string' } },
  run: async (c, { values }) => {
    const by = values.by as string | undefined;
    if (by !== undefined && by !== 'visible' && by !== 'transfer') throw new CliError(EXIT.usage, `--by must be visible or transfer, not ${JSON.stringify(by)}`);
    const lb = await c.client.leaderboard({ ...(values.dataset ? { dataset: values.dataset as string } : {}), ...(by ? { by } : {}) });
    if (values.json) return out(safeJson(lb) + '\n'), EXIT.ok;
    const rows = lb.experiments.filter((e) => values.all || e.verified === true || e.unverified_reason);
    if (!rows.length) {
      out(`no verified scores yet${lb.experiments.length ? ` (${lb.experiments.length} unverified entries: --all)` : ''}\n`);
      return EXIT.ok;
    }
    const ci = (v: unknown) => (Array.isArray(v) && v.length === 2 ? `[${num(v[0])}, ${num(v[1])}]` : '—');
    // replication on the hidden transfer task, when the fleet has one (humans see it)
    const rep = rows.some((e) => e.replication !== undefined);
    const repCols = (e: (typeof rows)[number]) => (rep ? [e.transfer_pgr == null ? '—' : `${num(e.transfer_pgr)} ${ci(e.transfer_pgr_ci)}`, e.transfer_gap == null ? '—' : num(e.transfer_gap), (e.replication ?? '—').replace(/_/g, ' ')] : []);
    out(
      table(
        ['RANK', 'EXPERIMENT', 'AGENT', 'PGR', 'PGR 95% CI', 'TRANSFER', 'SEEDS', ...(rep ? ['HIDDEN-TASK PGR', 'GAP', 'REPLICATION'] : []), 'STATUS', 'TITLE'],
        rows.map((e) => [
          e.rank == null ? '-' : String(e.rank),
          safeLine(e.experiment_id ?? e.post_id ?? '-'),
          safeLine(e.agent_id ?? '-'),
          num(e.pgr),
          ci(e.pgr_ci),
          num(e.transfer_acc),
          e.num_seeds == null ? '-' : safeLine(e.num_seeds),
          ...repCols(e),
          e.verified
            ? `verified${e.preliminary ? ' (preliminary)' : ''}`
            : `${(e.status ?? 'unverified').replace('_', ' ')}${e.unverified_reason ? `: ${clip(e.unverified_reason, 48)}` : e.source ? ` (${safeLine(e.source)})` : ''}`,
          clip(e.title ?? e.idea_name ?? '', 40),
        ]),
      ),
    );
    return EXIT.ok;
  },
});

// ------------------------------------------------------------------ sweeps, approval policies, post-hoc audits

/** `overseer policy show|set|off|enable`, `overseer audit list|confirm|flag`, `overseer sweep approve|veto|…`:
 * a command with subcommands, each a `command()` of its own ("policy set", …). */
export function group(name: string, summary: string, subs: Record<string, (argv: string[]) => Promise<number>>, fallback?: string): (argv: string[]) => Promise<number> {
  const usage = `usage: overseer ${name} ${Object.keys(subs).join('|')} …    ${summary}\n  overseer ${name} <subcommand> --help for its options`;
  return async (argv) => {
    const [sub, ...rest] = argv;
    if (sub === '--help' || sub === '-h') return out(usage + '\n'), EXIT.ok;
    const run = sub !== undefined ? subs[sub] : undefined;
    if (run) return run(rest);
    if (fallback && (sub === undefined || sub.startsWith('-'))) return subs[fallback]!(argv);
    process.stderr.write(`overseer ${name}: ${sub === undefined ? 'missing subcommand' : `unknown subcommand ${safeLine(JSON.stringify(sub))}`}\n${usage}\n`);
    return EXIT.usage;
  };
}

function printPolicy(v: PolicyView): void {
  const p = v.policy;
  if (!p || !p.rules.length) {
    out(`approval policy: off${p ? ` (v${p.version} set by ${safeLine(p.setBy)} has no rules)` : ''} — every proposal waits for a human\n`);
  } else {
    out(`approval policy v${p.version} set by ${safeLine(p.setBy)} at ${p.ts}${p.note ? ` (${safeLine(p.note)})` : ''} · audit share ${Math.round(p.auditShare * 1000) / 10}%\n`);
    out(table(['RULE', 'STATE', 'EXPRESSION'], p.rules.map((r) => [safeLine(r.name), v.disabledRules.includes(r.name) ? 'disabled (audit flagged)' : 'enabled', safeLine(r.expr)])));
    for (const d of v.disabled ?? []) if (d.by) out(`rule ${safeLine(d.rule)} disabled by ${safeLine(d.by)} at ${d.ts}: ${clip(d.reason, 200)} (overseer policy enable ${safeLine(d.rule)})\n`);
    out('hard limits (no rule can lift them): never high or critical risk, a screening finding of medium or above, suspected gaming, an unscreened proposal or a paused agent\n');
  }
  out(`automatic approvals: ${v.lastHour.length} in the last hour, ${v.autoApproved} in all · audit queue: ${v.auditQueue.length}${v.auditQueue.length ? ' (overseer audit list)' : ''}\n`);
  for (const a of [...v.lastHour].reverse().slice(0, 20)) out(`  ${safeLine(a.experimentId)}  ${safeLine(a.agentId)}  rule ${safeLine(a.rule)} v${a.version}  ${ago(a.ts)}${a.sampled ? '  (sampled for audit)' : ''}\n`);
}

const policyShow = command('policy show', {
  usage: '',
  run: async (c, { values }) => {
    const v = await c.client.policy();
    if (values.json) return out(safeJson(v) + '\n'), EXIT.ok;
    printPolicy(v);
    return EXIT.ok;
  },
});

/** `--rule name=expr` (repeatable), or `--file rules.json` ({ "rules": [...], "auditShare" } or the fleet.json shape
 * { "approvalPolicy": {...} }), or `--from-fleet-json` (the hub reads its fleet.json). */
const policySet = command('policy set', {
  usage: '(--rule <name>=<CEL> … | --file <rules.json> | --from-fleet-json) [--audit-share <0..1>] [--note <why>]',
  options: { rule: { type: 'string', multiple: true }, file: { type: 'string' }, 'from-fleet-json': { type: 'boolean' }, 'audit-share': { type: 'string' }, note: { type: 'string' } },
  run: async (c, { values }) => {
    const given = [values.rule !== undefined, values.file !== undefined, !!values['from-fleet-json']].filter(Boolean).length;
    if (given !== 1) throw new CliError(EXIT.usage, 'give the rules one way: --rule <name>=<CEL> (repeatable), --file <rules.json> or --from-fleet-json');
    const note = values.note as string | undefined;
    let auditShare: number | undefined;
    if (values['audit-share'] !== undefined) {
      auditShare = Number(values['audit-share']);
      if (!/^\s*[0-9.]+\s*$/.test(String(values['audit-share'])) || !(auditShare >= 0 && auditShare <= 1)) throw new CliError(EXIT.usage, `--audit-share ${JSON.stringify(values['audit-share'])} is not a share between 0 and 1`);
    }
    let body: PolicySetRequest;
    if (values['from-fleet-json']) {
      if (auditShare !== undefined) throw new CliError(EXIT.usage, '--audit-share comes from fleet.json with --from-fleet-json');
      body = { fromFleetJson: true, note };
    } else if (values.file !== undefined) {
      let raw: unknown;
      try {
        raw = JSON.parse(fs.readFileSync(values.file as string, 'utf8'));
      } catch (err) {
        throw new CliError(EXIT.usage, `cannot read --file ${values.file}: ${(err as Error).message}`);
      }
      const pol = (raw && typeof raw === 'object' && 'approvalPolicy' in raw ? (raw as { approvalPolicy: unknown }).approvalPolicy : raw) as { rules?: unknown; auditShare?: unknown } | null;
      if (!pol || typeof pol !== 'object' || !Array.isArray(pol.rules)) throw new CliError(EXIT.usage, `--file ${values.file}: expected { "rules": [{ "name", "expr" }], "auditShare" } (or fleet.json's "approvalPolicy")`);
      const extra = Object.keys(pol).filter((k) => k !== 'rules' && k !== 'auditShare');
      if (extra.length) throw new CliError(EXIT.usage, `--file ${values.file}: unknown field ${JSON.stringify(extra[0])} (expected "rules" and "auditShare")`);
      body = { rules: pol.rules as { name: string; expr: string }[], auditShare: auditShare ?? (pol.auditShare as number | undefined), note };
    } else {
      const rules = (values.rule as string[]).map((r) => {
        const i = r.indexOf('=');
        if (i <= 0 || !r.slice(i + 1).trim()) throw new CliError(EXIT.usage, `--rule ${JSON.stringify(r)}: expected <name>=<CEL expression>, e.g. low-cheap='risk == "low" && gpu_hours <= 1.0'`);
        return { name: r.slice(0, i).trim(), expr: r.slice(i + 1).trim() };
      });
      body = { rules, auditShare, note };
    }
    const v = await c.client.setPolicy(body);
    if (values.json) return out(safeJson(v) + '\n'), EXIT.ok;
    printPolicy(v);
    return EXIT.ok;
  },
});

const policyOff = command('policy off', {
  usage: '[--note <why>]',
  options: { note: { type: 'string' } },
  run: async (c, { values }) => {
    const v = await c.client.setPolicy({ rules: [], note: (values.note as string | undefined) ?? 'turned off' });
    if (values.json) return out(safeJson(v) + '\n'), EXIT.ok;
    printPolicy(v);
    return EXIT.ok;
  },
});

const policyEnable = command('policy enable', {
  usage: '',
  args: ['rule'],
  run: async (c, { values, positionals }) => {
    const v = await c.client.enablePolicyRule(positionals[0]!);
    if (values.json) return out(safeJson(v) + '\n'), EXIT.ok;
    out(`enabled rule ${safeLine(positionals[0])} of policy v${v.policy?.version ?? '?'}\n`);
    return EXIT.ok;
  },
});

const auditList = command('audit list', {
  usage: '',
  run: async (c, { values }) => {
    const v = await c.client.policy();
    if (values.json) return out(safeJson({ auditQueue: v.auditQueue }) + '\n'), EXIT.ok;
    if (!v.auditQueue.length) return out('no automatic approvals wait for an audit\n'), EXIT.ok;
    out(table(['EXPERIMENT', 'AGENT', 'RULE', 'POLICY', 'APPROVED', 'TITLE'], v.auditQueue.map((a) => [safeLine(a.experimentId), safeLine(a.agentId), safeLine(a.rule), `v${a.version} by ${safeLine(a.setBy)}`, ago(a.ts), clip(a.title ?? '', 50)])));
    out('confirm with `overseer audit confirm <exp>`; `overseer audit flag <exp> --reason R` pauses the agent and disables the rule\n');
    return EXIT.ok;
  },
});

function auditDecision(outcome: 'confirm' | 'flag') {
  return command(`audit ${outcome}`, {
    usage: outcome === 'flag' ? '--reason <why>' : '[--reason <note>]',
    args: ['experiment'],
    options: { reason: { type: 'string' } },
    run: async (c, { values, positionals }) => {
      const reason = (values.reason as string | undefined)?.trim();
      if (outcome === 'flag' && !reason) throw new CliError(EXIT.usage, 'a flag needs --reason <why> (it pauses the agent and disables the rule)');
      const v = await c.client.auditApproval(positionals[0]!, { outcome, reason });
      if (values.json) return out(safeJson(v) + '\n'), EXIT.ok;
      const a = [...v.auditQueue, ...v.lastHour].find((q) => q.experimentId === positionals[0]);
      out(outcome === 'confirm' ? `confirmed the automatic approval of ${safeLine(positionals[0])}\n` : `flagged the automatic approval of ${safeLine(positionals[0])}: its agent is paused and rule ${safeLine(a?.rule ?? '?')} disabled until a human enables it (overseer policy enable <rule>)\n`);
      return EXIT.ok;
    },
  });
}

function sweepDecision(kind: 'approve' | 'veto' | 'request-changes') {
  return command(`sweep ${kind}`, {
    usage: kind === 'approve' ? '[--reason <note>]' : '--reason <why>',
    args: ['sweep'],
    options: { reason: { type: 'string' } },
    run: async (c, { values, positionals }) => {
      const id = positionals[0]!;
      if (!ID_RE.test(id)) throw new CliError(EXIT.usage, `${safeLine(JSON.stringify(id))} is not a sweep id (its first experiment's id, as \`overseer queue\` lists it)`);
      const reason = (values.reason as string | undefined)?.trim();
      if (kind !== 'approve' && !reason) throw new CliError(EXIT.usage, `${kind === 'veto' ? 'a veto' : 'a request for changes'} needs --reason <why> (each agent reads it)`);
      const t = await c.client.triage();
      const sw = t.sweeps.find((s) => s.id === id);
      if (!sw) throw new CliError(EXIT.refused, `no open sweep ${id} (\`overseer queue\` lists the open sweeps; a decided or changed member ends a sweep)`);
      const byId = new Map(t.experiments.map((x) => [x.id, x]));
      // a flagged or critical member is refused by the hub (409 needs_individual_review), which names them
      const members = sw.experimentIds.map((i) => byId.get(i)!);
      const r = await c.client.decideSweep({ decision: kind === 'request-changes' ? 'request_changes' : kind, members: members.map((x) => ({ experimentId: x.id, commit: x.commit, tree: x.tree })), reason, note: kind === 'approve' ? reason : undefined });
      if (values.json) return out(safeJson(r) + '\n'), EXIT.ok;
      out(`${kind === 'approve' ? 'approved' : kind === 'veto' ? 'vetoed' : 'requested changes on'} sweep ${safeLine(id)}: ${clip(sw.label, 160)}\n`);
      for (const x of r.experiments) out(`  ${safeLine(x.id)} at commit ${short(x.commit)} → ${x.state}\n`);
      return EXIT.ok;
    },
  });
}

export const humanCommands: Record<string, (argv: string[]) => Promise<number>> = {
  status,
  queue,
  show,
  diff,
  approve: decision('approve'),
  veto: decision('veto'),
  'request-changes': decision('request-changes'),
  accept,
  runs,
  logs,
  leaderboard,
  policy: group('policy', 'the approval policy: show it, set its rules (CEL), turn it off, enable a rule a flag disabled', { show: policyShow, set: policySet, off: policyOff, enable: policyEnable }, 'show'),
  audit: group('audit', 'the post-hoc audit of automatic approvals: list, confirm, flag', { list: auditList, confirm: auditDecision('confirm'), flag: auditDecision('flag') }, 'list'),
  sweep: group('sweep', 'decide a sweep (proposals differing only in values) at once, each member at its own pin', { approve: sweepDecision('approve'), veto: sweepDecision('veto'), 'request-changes': sweepDecision('request-changes') }),
};
