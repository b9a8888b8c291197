// Test helper: a temporary fleet with N agents (real git sandbox repos), a hub on 127.0.0.1:0, a human token
// and one token per agent. Reused by hub, extension, fleet and simulator tests.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Budget } from '../../src/core/model';
import type { FleetService } from '../../src/core/service';
import { HubClient } from '../../src/hub/client';
import { createFleet } from '../../src/hub/fleetSetup';
import { type Hub, type HubOptions, startHub } from '../../src/hub/server';
import { Sandbox } from '../../src/git/sandbox';

export interface HubFixtureOptions {
  /** Number of agents (ids aar-1..aar-N) unless `agentIds` is given. Default 2. */
  agents?: number;
  agentIds?: string[];
  name?: string;
  budgets?: Partial<Budget>;
  /** Initial files of every sandbox. */
  files?: Record<string, string>;
  /** Written to fleet.json. Unless it names `maxOpenProposals` (undefined: the hub's default), the fixture raises
   * the cap on open proposals per agent to 1000 so that tests may propose freely. */
  config?: Record<string, unknown>;
  /** Extra startHub options (screen, dispatch, evaluation, bodyLimit, heartbeatMs...). */
  hub?: Partial<Omit<HubOptions, 'fleetDir'>>;
  /** Keep the temp directory after close (debugging). */
  keep?: boolean;
  /** Use an existing directory instead of a fresh temp dir. */
  dir?: string;
}

export interface HubFixture {
  url: string;
  dir: string;
  hub: Hub;
  service: FleetService;
  humanId: string;
  humanToken: string;
  agentIds: string[];
  agentTokens: Record<string, string>;
  /** Typed clients. */
  human: HubClient;
  agent(id: string): HubClient;
  /** The agent's sandbox repository. */
  sandbox(id: string): Sandbox;
  /** Commit files to an agent's sandbox; returns the full SHA. */
  commit(agentId: string, files: Record<string, string | null>, message?: string): Promise<string>;
  close(): Promise<void>;
}

export async function startHubFixture(opts: HubFixtureOptions = {}): Promise<HubFixture> {
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-hub-'));
  const agentIds = opts.agentIds ?? Array.from({ length: opts.agents ?? 2 }, (_, i) => `aar-${i + 1}`);
  await createFleet(dir, {
    name: opts.name ?? 'test-fleet',
    agents: agentIds.map((id) => ({ id, direction: `direction of ${id}` })),
    budgets: opts.budgets,
    files: opts.files ?? { 'README.md': '# sandbox\n', 'train.py': 'print("train")\n' },
    config: opts.config && 'maxOpenProposals' in opts.config ? opts.config : { maxOpenProposals: 1000, ...(opts.config ?? {}) },
    noSync: opts.hub?.noSync,
  });
  const hub = await startHub({ fleetDir: dir, ...(opts.hub ?? {}) });
  const humanId = 'alice';
  const humanToken = hub.createToken({ kind: 'human', id: humanId });
  const agentTokens: Record<string, string> = {};
  for (const id of agentIds) agentTokens[id] = hub.createToken({ kind: 'agent', id });
  await hub.idle();
  const clients = new Map<string, HubClient>();
  const fx: HubFixture = {
    url: hub.url,
    dir,
    hub,
    service: hub.service,
    humanId,
    humanToken,
    agentIds,
    agentTokens,
    human: new HubClient(hub.url, humanToken),
    agent(id) {
      const t = agentTokens[id];
      if (!t) throw new Error(`no agent ${id} in this fixture`);
      let c = clients.get(id);
      if (!c) clients.set(id, (c = new HubClient(hub.url, t)));
      return c;
    },
    sandbox: (id) => new Sandbox(path.join(dir, 'repos', id)),
    async commit(agentId, files, message = 'change') {
      return new Sandbox(path.join(dir, 'repos', agentId)).commitFiles(files, message);
    },
    async close() {
      await hub.close();
      if (!opts.keep && !opts.dir) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return fx;
}
