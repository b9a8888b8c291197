// `overseer fleet start|simulate`: run Claude research agents (one direction each) or the deterministic simulator.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_MODEL, PRICES, parsePriceTable } from '../core/pricing';
import { startEmbeddedFleet } from '../fleet/runtime';
import { defaultDirectionsFile, simulateFleet } from '../fleet/simulator';
import { parseCommand } from './args';

const USAGE = [
  'usage: overseer fleet start --fleet <dir> [--agents 9] [--directions directions.md] [--model M] [--max-usd X]',
  '                            [--base-url URL] [--prices prices.json] [--port P] [--max-calls N]',
  '       overseer fleet simulate --fleet <dir> [--agents 9] --seed S [--steps N] [--directions F]',
  '                               [--hub URL --tokens tokens.json [--human-token T]] [--reviewer] [--interval-ms MS] [--json]',
  '',
  '  start     runs Claude agents against a hub started in this process (ANTHROPIC_API_KEY; ANTHROPIC_BASE_URL or',
  '            --base-url for another endpoint). Each agent pauses itself at its dollar budget (--max-usd).',
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

export async function fleetCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'start' && sub !== 'simulate') {
    process.stderr.write(`${USAGE}\n`);
    return sub === '--help' || sub === '-h' ? 0 : 1;
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
    if (a.hub) {
      process.stderr.write('--hub is not supported for `fleet start` yet: the hub has no route to record model spend (POST /api/agents/:id/charge); run the agents next to the fleet (embedded)\n');
      return 1;
    }
    const maxUsd = a['max-usd'] === undefined ? undefined : Number(a['max-usd']);
    if (maxUsd !== undefined && !(Number.isFinite(maxUsd) && maxUsd >= 0)) throw new Error(`--max-usd must be a non-negative number, got ${JSON.stringify(a['max-usd'])}`);
    if (!process.env.ANTHROPIC_API_KEY) {
      process.stderr.write('ANTHROPIC_API_KEY is not set\n');
      return 1;
    }
    const prices = a.prices ? parsePriceTable(fs.readFileSync(a.prices, 'utf8')) : PRICES;
    const { signal, dispose } = stopSignal();
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
      const results = await Promise.race([fleet.done, new Promise<null>((r) => signal.addEventListener('abort', () => r(null), { once: true }))]);
      await fleet.close();
      const final = results ?? (await fleet.done);
      for (const [i, r] of final.entries()) {
        process.stdout.write(`${fleet.agents[i]!.agentId}: ${r.stopped}, ${r.totals.calls} calls, ${r.totals.tokensIn} in / ${r.totals.tokensOut} out tokens, $${r.totals.usd.toFixed(4)}\n`);
      }
      return final.some((r) => r.stopped === 'error') ? 2 : 0;
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
    const tokens = JSON.parse(fs.readFileSync(a.tokens, 'utf8')) as Record<string, string>;
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
