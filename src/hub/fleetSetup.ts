// Fleet creation: a fleet directory with a ledger, fleet.json, one working copy per agent under repos/ (where a
// local agent writes), one hub-owned bare repository per agent under git/ (what the hub reads), and the agents
// registered. Used by `overseer hub --init`, tests, the demo and the simulator.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ID_RE } from '../core/events';
import type { Actor, Budget } from '../core/model';
import { FLEET_CONFIG, FleetService } from '../core/service';
import { Sandbox } from '../git/sandbox';

export const DEFAULT_BUDGET: Budget = { gpuHours: 100, usd: 50, evalQueries: 200 };

export interface FleetAgentSpec {
  id: string;
  direction: string;
  name?: string;
  budget?: Partial<Budget>;
  /** Initial files of the sandbox repository (default: a README). */
  files?: Record<string, string>;
}

export interface FleetSetupOptions {
  name: string;
  agents: FleetAgentSpec[];
  /** Budget for every agent (each agent's own `budget` overrides fields). */
  budgets?: Partial<Budget>;
  baseBranch?: string;
  /** Initial files for every sandbox that has none of its own. */
  files?: Record<string, string>;
  /** Written to fleet.json (runners, datasets, ...). */
  config?: Record<string, unknown>;
  /** Use this open service instead of opening (and closing) one. */
  service?: FleetService;
  actor?: Actor;
  noSync?: boolean;
}

export interface FleetSetupResult {
  dir: string;
  agents: { id: string; repoPath: string; head: string }[];
}

export function readFleetConfig(dir: string): Record<string, unknown> {
  const f = path.join(dir, FLEET_CONFIG);
  if (!fs.existsSync(f)) return {};
  const j = JSON.parse(fs.readFileSync(f, 'utf8')) as unknown;
  if (!j || typeof j !== 'object' || Array.isArray(j)) throw new Error(`${f} must hold a JSON object`);
  return j as Record<string, unknown>;
}

/** Create a fleet (or add the listed agents that are missing to an existing one with the same name). */
export async function createFleet(dir: string, opts: FleetSetupOptions): Promise<FleetSetupResult> {
  if (!opts.name?.trim()) throw new Error('a fleet needs a name');
  const seen = new Set<string>();
  for (const a of opts.agents) {
    if (!ID_RE.test(a.id)) throw new Error(`invalid agent id ${JSON.stringify(a.id)} (letters, digits, . _ -; max 64)`);
    if (seen.has(a.id)) throw new Error(`agent ${a.id} listed twice`);
    seen.add(a.id);
  }
  fs.mkdirSync(dir, { recursive: true });
  const dirAbs = path.resolve(dir);
  const actor: Actor = opts.actor ?? { kind: 'system', id: 'overseer' };
  const service = opts.service ?? (await FleetService.open(dirAbs, { noSync: opts.noSync }));
  try {
    if (!service.state.name) await service.createFleet(actor, opts.name, opts.baseBranch ?? 'main');
    else if (service.state.name !== opts.name) throw new Error(`${dirAbs} already holds fleet ${JSON.stringify(service.state.name)}`);
    const cfgFile = path.join(dirAbs, FLEET_CONFIG);
    const cfg = { name: opts.name, runners: [], datasets: [], ...readFleetConfig(dirAbs), ...(opts.config ?? {}) };
    fs.writeFileSync(cfgFile, JSON.stringify(cfg, null, 2) + '\n');
    for (const sub of ['repos', 'runs', 'labels', 'datasets']) fs.mkdirSync(path.join(dirAbs, sub), { recursive: true });
    const out: FleetSetupResult['agents'] = [];
    for (const a of opts.agents) {
      const repoPath = path.join(dirAbs, 'repos', a.id);
      const sb = await Sandbox.init(repoPath, {
        branch: opts.baseBranch ?? 'main',
        files: a.files ?? opts.files ?? { 'README.md': `# ${a.id}\n\nResearch direction: ${a.direction}\n` },
        message: 'initial commit',
      });
      if (!service.state.agent(a.id)) {
        await service.registerAgent(actor, {
          agentId: a.id,
          name: a.name ?? a.id,
          direction: a.direction,
          repoPath,
          budget: { ...DEFAULT_BUDGET, ...(opts.budgets ?? {}), ...(a.budget ?? {}) },
        });
      }
      // The hub's own copy of the agent's code: everything the hub reviews and runs is read from there.
      await service.syncWorkingCopy(a.id);
      out.push({ id: a.id, repoPath, head: await sb.head() });
    }
    return { dir: dirAbs, agents: out };
  } finally {
    if (!opts.service) await service.close();
  }
}
