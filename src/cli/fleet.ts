// `overseer fleet start|simulate`: run Claude research agents (one direction each) or the deterministic simulator.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_MODEL, PRICES, parsePriceTable } from '../core/pricing';
import { startEmbeddedFleet, startRemoteFleet } from '../fleet/runtime';
import { defaultDirectionsFile, simulateFleet } from '../fleet/simulator';
import { parseCommand } from './args';
import type { RunningAgent } from '../fleet/runtime';
import type { AgentRunResult } from '../fleet/agent';

const USAGE = [
  'usage: overseer fleet start --fleet <dir> [--agents 9] [--directions directions.md] [--model M] [--max-usd X]',
  '                            [--base-url URL] [--prices prices.json] [--port P] [--max-calls N]',
  '       overseer fleet start --fleet <dir> --hub URL --tokens tokens.json [--human-token T] [--model M] [--max-usd X]',
  '                            [--base-url URL] [--prices prices.json] [--max-calls N]',
  '       overseer fleet simulate --fleet <dir> [--agents 9] --seed S [--steps N] [--directions F]',
  '                               [--hub URL --tokens tokens.json [--human-token T]] [--reviewer] [--interval-ms MS] [--json]',
  '',
  '  start     runs Claude agents against a hub started in this process (ANTHROPIC_API_KEY; ANTHROPIC_BASE_URL or',
  '            --base-url for another endpoint). Each agent pauses itself at its dollar budget (--max-usd).',
  '            With --hub, runs against a hub started elsewhere: one agent per entry of --tokens (a JSON file',
  '            {"agent-1": "<agent token>", ...}; each agent\'s tools use its own token), and the operator\'s HUMAN',
  '            token (--human-token, or env OVERSEER_HUB_TOKEN) records model spend, budget pauses and --max-usd',
  '            under that human\'s name. --fleet then only holds the agents\' conversation state (agents/<id>/).',
  '  simulate  drives the hub API with scripted, deterministic agents (some of them gaming the evaluation).',
  '            With --hub, --tokens names a JSON file {"agent-1": "<token>", ...}.',
].join('\n');

function positiveInt(v: string | undefined, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got ${JSON.stringify(v)}`);
  return n;
}

function stopSignal(): { signal: AbortSignal; dispose: () => void } {
  const c = new AbortController();
  const on = (sig: string) => {
    process.stderr.write(`overseer fleet: ${sig}, stopping\n`);
    c.abort();
  };
  const onInt = () => on('SIGINT');
  const onTerm = () => on('SIGTERM');
  process.once('SIGINT', onInt);
  process.once('SIGTERM', onTerm);
  return {
    signal: c.signal,
    dispose: () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    },
  };
}

/** Waits for the agents (or a stop signal), stops them, prints each one's totals; exit code 2 if any failed. */
async function report(fleet: { agents: RunningAgent[]; done: Promise<AgentRunResult[]>; close(): Promise<void> }, signal: AbortSignal): Promise<number> {
  const results = await Promise.race([fleet.done, new Promise<null>((r) => signal.addEventListener('abort', () => r(null), { once: true }))]);
  await fleet.close();
  const final = results ?? (await fleet.done);
  for (const [i, r] of final.entries()) {
    process.stdout.write(`${fleet.agents[i]!.agentId}: ${r.stopped}, ${r.totals.calls} calls, ${r.totals.tokensIn} in / ${r.totals.tokensOut} out tokens, $${r.totals.usd.toFixed(4)}\n`);
  }
  return final.some((r) => r.stopped === 'error') ? 2 : 0;
}

/** `{"agent-1": "<token>", ...}`; anything else is a clear error. */
function readTokenFile(file: string): Record<string, string> {
  let v: unknown;
  try {
    v = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read the token file ${file}: ${(err as Error).message}`);
  }
  if (!v || typeof v !== 'object' || Array.isArray(v) || !Object.keys(v).length || !Object.values(v).every((t) => typeof t === 'string' && t.length > 0)) {
    throw new Error(`${file} must be a non-empty JSON object {"agent-1": "<token>", ...}`);
  }
  return v as Record<string, string>;
}

export async function fleetCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'start' && sub !== 'simulate') {
    // Help (asked for) goes to stdout once; a missing or unknown subcommand is a usage error on stderr.
    const help = sub === '--help' || sub === '-h' || sub === 'help';
    if (!help) process.stderr.write(`overseer fleet: ${sub === undefined ? 'name a subcommand' : `unknown subcommand ${JSON.stringify(sub)}`}\n`);
    (help ? process.stdout : process.stderr).write(`${USAGE}\n`);
    return help ? 0 : 1;
  }
  const parsed = parseCommand(
    rest,
    {
      fleet: { type: 'string' },
      agents: { type: 'string' },
      directions: { type: 'string' },
      model: { type: 'string' },
      'max-usd': { type: 'string' },
      'base-url': { type: 'string' },
      prices: { type: 'string' },
      port: { type: 'string' },
      'max-calls': { type: 'string' },
      seed: { type: 'string' },
      steps: { type: 'string' },
      hub: { type: 'string' },
      tokens: { type: 'string' },
      'human-token': { type: 'string' },
      reviewer: { type: 'boolean' },
      'interval-ms': { type: 'string' },
      json: { type: 'boolean' },
    },
    USAGE,
    { required: ['fleet'] },
  );
  if (typeof parsed === 'number') return parsed;
  const a = parsed.values;
  const agents = positiveInt(a.agents, 'agents', 9);
  if (agents < 1) throw new Error('--agents must be at least 1');
  const directionsFile = a.directions ? path.resolve(a.directions) : defaultDirectionsFile();

  if (sub === 'start') {
    let remote: { url: string; tokens: Record<string, string>; humanToken: string } | undefined;
    if (a.hub) {
      const humanToken = a['human-token'] ?? process.env.OVERSEER_HUB_TOKEN;
      if (!a.tokens || !humanToken) {
        process.stderr.write('--hub needs --tokens <file> with {"agent-1": "<agent token>", ...} and the operator\'s human token (--human-token T or env OVERSEER_HUB_TOKEN)\n');
        return 1;
      }
      if (a.port !== undefined) throw new Error('--port starts an embedded hub; it cannot be combined with --hub');
      remote = { url: a.hub, tokens: readTokenFile(a.tokens), humanToken };
    }
    const maxUsd = a['max-usd'] === undefined ? undefined : Number(a['max-usd']);
    if (maxUsd !== undefined && !(Number.isFinite(maxUsd) && maxUsd >= 0)) throw new Error(`--max-usd must be a non-negative number, got ${JSON.stringify(a['max-usd'])}`);
    if (!process.env.ANTHROPIC_API_KEY) {
      process.stderr.write('ANTHROPIC_API_KEY is not set\n');
      return 1;
    }
    const prices = a.prices ? parsePriceTable(fs.readFileSync(a.prices, 'utf8')) : PRICES;
    const { signal, dispose } = stopSignal();
    if (remote) {
      try {
        const fleet = await startRemoteFleet({
          hubUrl: remote.url,
          tokens: remote.tokens,
          humanToken: remote.humanToken,
          stateRoot: a.fleet,
          model: a.model ?? DEFAULT_MODEL,
          prices,
          maxUsd,
          baseUrl: a['base-url'],
          maxCalls: a['max-calls'] === undefined ? undefined : positiveInt(a['max-calls'], 'max-calls', 0),
          signal,
          log: (l) => process.stderr.write(`${l}\n`),
        });
        process.stdout.write(`overseer fleet: ${fleet.agents.length} agents running against the hub at ${fleet.url}; spend recorded as ${fleet.operator} (Ctrl-C stops)\n`);
        return await report(fleet, signal);
      } finally {
        dispose();
      }
    }
    try {
      const fleet = await startEmbeddedFleet({
        fleetDir: a.fleet,
        agents,
        directionsFile,
        model: a.model ?? DEFAULT_MODEL,
        prices,
        maxUsd,
        baseUrl: a['base-url'],
        port: positiveInt(a.port, 'port', 0),
        maxCalls: a['max-calls'] === undefined ? undefined : positiveInt(a['max-calls'], 'max-calls', 0),
        signal,
        log: (l) => process.stderr.write(`${l}\n`),
      });
      process.stdout.write(`overseer fleet: ${fleet.agents.length} agents running; hub at ${fleet.hub.url} (Ctrl-C stops)\n`);
      return await report(fleet, signal);
    } finally {
      dispose();
    }
  }

  // simulate
  if (a.seed === undefined) {
    process.stderr.write(`--seed is required\n${USAGE}\n`);
    return 1;
  }
  const seed = positiveInt(a.seed, 'seed', 0);
  let hub: { url: string; tokens: Record<string, string>; humanToken?: string } | undefined;
  if (a.hub) {
    if (!a.tokens) {
      process.stderr.write('--hub needs --tokens <file> with {"agent-1": "<token>", ...}\n');
      return 1;
    }
    const tokens = readTokenFile(a.tokens);
    hub = { url: a.hub, tokens, humanToken: a['human-token'] };
  }
  const { signal, dispose } = stopSignal();
  try {
    const r = await simulateFleet({
      fleetDir: a.fleet,
      agents,
      seed,
      steps: positiveInt(a.steps, 'steps', 6),
      directionsFile,
      hub,
      reviewer: !!a.reviewer,
      intervalMs: positiveInt(a['interval-ms'], 'interval-ms', 0),
      signal,
      log: a.json ? undefined : (l) => process.stdout.write(`${l}\n`),
    });
    if (a.json) process.stdout.write(`${JSON.stringify({ rounds: r.rounds, gaming: r.gaming, actions: r.normalized }, null, 1)}\n`);
    else process.stdout.write(`simulated ${r.rounds} rounds, ${r.actions.length} actions; gaming agents: ${Object.entries(r.gaming).map(([k, v]) => `${k}=${v}`).join(', ')}\n`);
    return 0;
  } finally {
    dispose();
  }
}
