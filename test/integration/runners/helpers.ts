// Shared fixtures for runner integration tests: a real fleet directory, a real sandbox repository per agent,
// proposals approved by a human through FleetService.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AnyEvent } from '../../../src/core/events';
import type { Actor, Experiment, Resources } from '../../../src/core/model';
import { FleetService } from '../../../src/core/service';
import { Sandbox } from '../../../src/git/sandbox';

export const HUMAN: Actor = { kind: 'human', id: 'alice' };

export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export async function waitFor<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000, everyMs = 25): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface Fleet {
  dir: string;
  service: FleetService;
  sandboxes: Map<string, Sandbox>;
}

/** A fleet with agents, each with a sandbox repo under `<fleet>/repos/<agent>`. */
export async function makeFleet(dir: string, agents: string[] = ['a1'], opts: { open?: boolean } = {}): Promise<Fleet> {
  const service = await FleetService.open(dir, { noSync: true, onWarning: () => undefined });
  const sandboxes = new Map<string, Sandbox>();
  if (!service.state.name) await service.createFleet(HUMAN, 'runners-test');
  for (const id of agents) {
    const repo = path.join(dir, 'repos', id);
    const sb = await Sandbox.init(repo, { files: { 'README.md': `# ${id}\n`, 'version.txt': 'v0\n' } });
    sandboxes.set(id, sb);
    if (!service.state.agent(id)) {
      await service.registerAgent(HUMAN, { agentId: id, direction: 'test', repoPath: repo, budget: { gpuHours: 1000, usd: 10, evalQueries: 10 } });
    }
  }
  void opts;
  return { dir, service, sandboxes };
}

/** Commit files on the agent's sandbox, propose the commit with `command`, and approve it as a human. */
export async function proposeAndApprove(
  f: Fleet,
  agentId: string,
  command: string,
  resources: Partial<Resources> = {},
  files: Record<string, string> = {},
  approve = true,
  /** Seed jobs (default 1: these tests are about one job per experiment unless they say otherwise). */
  seeds = 1,
): Promise<Experiment> {
  const sb = f.sandboxes.get(agentId)!;
  const commit = await sb.commitFiles({ 'experiment.txt': `${Date.now()} ${Math.random()}\n`, ...files }, `experiment: ${command.slice(0, 40)}`);
  const x = await f.service.propose({ kind: 'agent', id: agentId }, {
    title: `run ${command.slice(0, 40)}`,
    rationale: 'integration test',
    command,
    resources: { gpus: 0, gpuHours: 0.01, timeLimitMinutes: 5, ...resources },
    taskMode: 'normal',
    commit,
    branch: 'main',
    seeds,
  });
  if (approve) await f.service.approve(HUMAN, x.id, { commit: x.commit, tree: x.tree });
  return f.service.state.experiment(x.id)!;
}

export function eventsOf(f: Fleet | FleetService, experimentId: string, type?: string): AnyEvent[] {
  const service = 'service' in f ? f.service : f;
  const lines = fs.readFileSync(path.join(service.dir, 'ledger.jsonl'), 'utf8').split('\n').filter(Boolean);
  return lines
    .map((l) => JSON.parse(l) as AnyEvent)
    .filter((e) => (e.data as { experimentId?: string }).experimentId === experimentId && (!type || e.type === type));
}

export function stateOf(f: Fleet, id: string): string {
  return f.service.state.experiment(id)!.state;
}

export const TERMINAL_RUN = ['succeeded', 'failed', 'cancelled', 'timed_out'];

export function logOf(f: Fleet, id: string): string {
  const p = path.join(f.dir, 'runs', id, 'job.log');
  return fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : '';
}
