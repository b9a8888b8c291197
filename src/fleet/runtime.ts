// Fleet runtime: N Claude agents, one direction each, every agent talking to the hub over HTTP with its own
// token, file tools on its own sandbox. Embedded mode starts the hub in this process (accounting straight
// into the ledger); remote mode (`--hub URL`) needs agent tokens and the operator's human token, under whose
// name spend (`budget.charged`) and pauses at the cap are recorded.
import * as os from 'node:os';
import * as path from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { HubClient } from '../hub/client';
import { createFleet } from '../hub/fleetSetup';
import { runningHub, startHub, type Hub } from '../hub/server';
import { FleetService } from '../core/service';
import type { AgentAccountant } from './accounting';
import { hubAccountant, serviceAccountant } from './accounting';
import { AgentLoop, type AgentRunResult, type MessagesApi } from './agent';
import { agentIdFor, loadDirections } from './directions';
import { startDiversityMonitor } from './diversityMonitor';
import { DEFAULT_MODEL, priceFor, PRICES, type ModelPrice } from '../core/pricing';
import { createAgentTools } from './tools';
import { Workspace } from './workspace';
import { cloneFromHub, hubGitUrl, pushToHub } from '../git/remote';

export const agentStateFile = (stateRoot: string, agentId: string) => path.join(stateRoot, 'agents', agentId, 'state.json');

export interface RunAgentsOptions {
  hubUrl: string;
  /** agentId → bearer token of that agent. */
  tokens: Record<string, string>;
  accountant: AgentAccountant;
  /** Where `agents/<id>/state.json` live (the fleet directory). */
  stateRoot: string;
  model: string;
  price: ModelPrice;
  messages: MessagesApi;
  maxTokens?: number;
  maxCalls?: number;
  onIdle?: 'stop' | 'wait';
  onPaused?: 'stop' | 'wait';
  pollMs?: number;
  signal?: AbortSignal;
  log?: (line: string) => void;
  now?: () => number;
  /**
   * Work in clones of the agents' hub repositories under this directory (cloned over smart HTTP, pushed before
   * every proposal): for a hub on another machine. Without it, agents work in their registered working copies,
   * which the hub imports itself.
   */
  workRoot?: string;
}

export interface RunningAgent {
  agentId: string;
  loop: AgentLoop;
  done: Promise<AgentRunResult>;
}

/** Start one loop per agent token. Each agent's repo path and direction come from the hub (whoami). */
export async function runAgents(o: RunAgentsOptions): Promise<RunningAgent[]> {
  const out: RunningAgent[] = [];
  for (const [agentId, token] of Object.entries(o.tokens)) {
    const hub = new HubClient(o.hubUrl, token);
    const who = await hub.whoami();
    if (who.actor.kind !== 'agent' || who.actor.id !== agentId || !who.agent) {
      throw new Error(`the token given for ${agentId} belongs to ${who.actor.kind} ${who.actor.id}`);
    }
    let repo = who.agent.repoPath;
    let publish: (() => Promise<void>) | undefined;
    if (o.workRoot) {
      const url = hubGitUrl(o.hubUrl, agentId);
      repo = path.join(o.workRoot, agentId);
      await cloneFromHub(url, token, repo);
      publish = () => pushToHub(url, token, repo);
    }
    const workspace = new Workspace(repo);
    await workspace.ensureWorkBranch();
    const loop = new AgentLoop({
      agentId,
      direction: who.agent.direction,
      model: o.model,
      price: o.price,
      messages: o.messages,
      tools: (memory) => createAgentTools({ agentId, workspace, hub, memory, publish }),
      accountant: o.accountant,
      stateFile: agentStateFile(o.stateRoot, agentId),
      maxTokens: o.maxTokens,
      maxCalls: o.maxCalls,
      onIdle: o.onIdle,
      onPaused: o.onPaused,
      pollMs: o.pollMs,
      signal: o.signal,
      log: o.log,
      now: o.now,
    });
    out.push({ agentId, loop, done: loop.run() });
  }
  return out;
}

export interface FleetStartOptions {
  fleetDir: string;
  agents: number;
  directionsFile: string;
  model?: string;
  prices?: Record<string, ModelPrice>;
  /** Model-spend cap per agent (USD); applied at creation, or granted by the operator on an existing fleet. */
  maxUsd?: number;
  apiKey?: string;
  baseUrl?: string;
  port?: number;
  maxCalls?: number;
  pollMs?: number;
  signal?: AbortSignal;
  log?: (line: string) => void;
  /** Injected Messages API (tests); default: the Anthropic SDK with apiKey/baseUrl. */
  messages?: MessagesApi;
}

export interface EmbeddedFleet {
  hub: Hub;
  agents: RunningAgent[];
  /** Resolves when every agent loop has stopped. */
  done: Promise<AgentRunResult[]>;
  close(): Promise<void>;
}

/** Create the fleet if needed, start the hub in-process, and run one Claude agent per direction. */
export async function startEmbeddedFleet(o: FleetStartOptions): Promise<EmbeddedFleet> {
  const fleetDir = path.resolve(o.fleetDir);
  const other = runningHub(fleetDir);
  if (other && other.pid !== process.pid) {
    throw new Error(`a hub (pid ${other.pid}) is already serving ${fleetDir} at ${other.url}; stop it, or run agents against it with --hub ${other.url} --tokens FILE`);
  }
  const model = o.model ?? DEFAULT_MODEL;
  const { price, estimated } = priceFor(model, o.prices ?? PRICES);
  if (estimated) o.log?.(`warning: no list price for ${model}; using its family's price (${price.input}/${price.output} USD per MTok)`);
  const directions = loadDirections(o.directionsFile, o.agents);
  const ids = directions.map((_, i) => agentIdFor(i));

  // Create (or extend) the fleet before the hub opens it.
  {
    const svc = await FleetService.open(fleetDir);
    try {
      await createFleet(fleetDir, {
        name: svc.state.name || path.basename(fleetDir),
        agents: directions.map((d, i) => ({ id: ids[i]!, direction: d.text, name: `${ids[i]} · ${d.title}` })),
        budgets: o.maxUsd !== undefined ? { usd: o.maxUsd } : undefined,
        service: svc,
      });
      if (o.maxUsd !== undefined) {
        const operator = { kind: 'human' as const, id: safeUser() };
        for (const id of ids) {
          const a = svc.state.agent(id)!;
          if (a.budget.usd !== o.maxUsd) await svc.setBudget(operator, id, { usd: o.maxUsd });
        }
      }
    } finally {
      await svc.close();
    }
  }

  const hub = await startHub({ fleetDir, port: o.port ?? 0, onWarning: (m) => o.log?.(`hub: ${m}`) });
  const monitor = startDiversityMonitor(hub.service, { everyDocs: Math.max(3, o.agents), onWarning: (m) => o.log?.(m) });
  const tokens: Record<string, string> = {};
  for (const id of ids) tokens[id] = hub.createToken({ kind: 'agent', id });
  await hub.idle();
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  const messages =
    o.messages ??
    new Anthropic({ apiKey: o.apiKey ?? process.env.ANTHROPIC_API_KEY, baseURL: o.baseUrl ?? process.env.ANTHROPIC_BASE_URL ?? undefined, maxRetries: 4 }).messages;
  let agents: RunningAgent[];
  try {
    agents = await runAgents({
      hubUrl: hub.url,
      tokens,
      accountant: serviceAccountant(hub.service),
      stateRoot: fleetDir,
      model,
      price,
      messages,
      maxCalls: o.maxCalls,
      pollMs: o.pollMs,
      signal: controller.signal,
      log: o.log,
    });
  } catch (err) {
    monitor.stop();
    await hub.close();
    throw err;
  }
  const done = Promise.all(agents.map((a) => a.done));
  return {
    hub,
    agents,
    done,
    async close() {
      controller.abort();
      o.signal?.removeEventListener('abort', onAbort);
      await done;
      await monitor.measure().catch(() => undefined);
      monitor.stop();
      await hub.close();
    },
  };
}

export interface RemoteFleetOptions {
  hubUrl: string;
  /** agentId → that agent's bearer token (its tools talk to the hub as the agent). */
  tokens: Record<string, string>;
  /** The operator's human token: charges, pauses at the cap, budget reads (and --max-usd). */
  humanToken: string;
  /** Where `agents/<id>/state.json` live. */
  stateRoot: string;
  model?: string;
  prices?: Record<string, ModelPrice>;
  /** Sets each agent's model-spend cap on the hub (as the operator) before the agents start. */
  maxUsd?: number;
  apiKey?: string;
  baseUrl?: string;
  maxCalls?: number;
  pollMs?: number;
  onPaused?: 'stop' | 'wait';
  signal?: AbortSignal;
  log?: (line: string) => void;
  messages?: MessagesApi;
}

export interface RemoteFleet {
  url: string;
  /** The operator (human) the spend is recorded under. */
  operator: string;
  agents: RunningAgent[];
  done: Promise<AgentRunResult[]>;
  close(): Promise<void>;
}

/** Run one Claude agent per agent token against a hub started elsewhere (`overseer hub`). */
export async function startRemoteFleet(o: RemoteFleetOptions): Promise<RemoteFleet> {
  const ids = Object.keys(o.tokens);
  if (!ids.length) throw new Error('no agent tokens given');
  const operator = new HubClient(o.hubUrl, o.humanToken);
  const who = await operator.whoami();
  if (who.actor.kind !== 'human') {
    throw new Error(`the operator token belongs to ${who.actor.kind} ${who.actor.id}; spend and pauses are recorded by a human, give a human token`);
  }
  const model = o.model ?? DEFAULT_MODEL;
  const { price, estimated } = priceFor(model, o.prices ?? PRICES);
  if (estimated) o.log?.(`warning: no list price for ${model}; using its family's price (${price.input}/${price.output} USD per MTok)`);
  if (o.maxUsd !== undefined) {
    for (const id of ids) {
      const a = (await operator.agent(id)).agent;
      if (a.budget.usd !== o.maxUsd) await operator.setBudget(id, { usd: o.maxUsd });
    }
  }
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  const messages =
    o.messages ??
    new Anthropic({ apiKey: o.apiKey ?? process.env.ANTHROPIC_API_KEY, baseURL: o.baseUrl ?? process.env.ANTHROPIC_BASE_URL ?? undefined, maxRetries: 4 }).messages;
  let agents: RunningAgent[];
  try {
    agents = await runAgents({
      hubUrl: o.hubUrl,
      tokens: o.tokens,
      accountant: hubAccountant(operator),
      stateRoot: path.resolve(o.stateRoot),
      workRoot: path.join(path.resolve(o.stateRoot), 'work'),
      model,
      price,
      messages,
      maxCalls: o.maxCalls,
      pollMs: o.pollMs,
      onPaused: o.onPaused,
      signal: controller.signal,
      log: o.log,
    });
  } catch (err) {
    controller.abort();
    o.signal?.removeEventListener('abort', onAbort);
    throw err;
  }
  const done = Promise.all(agents.map((a) => a.done));
  return {
    url: operator.baseUrl,
    operator: who.actor.id,
    agents,
    done,
    async close() {
      controller.abort();
      o.signal?.removeEventListener('abort', onAbort);
      await done;
    },
  };
}

function safeUser(): string {
  try {
    const u = os.userInfo().username.replace(/[^A-Za-z0-9._-]/g, '').slice(0, 64);
    return u || 'operator';
  } catch {
    return 'operator';
  }
}
