// Where an agent's model spend is recorded and its budget read: the ledger (budget.charged / agent.paused).
// Embedded: straight into the FleetService next to the hub. Remote: through the hub's HTTP API with a
// human operator's token (charges and pauses are recorded under that human's name).
import type { FleetService } from '../core/service';
import { HubError, type HubClient } from '../hub/client';
import type { Agent } from '../core/model';

export interface AgentBudgetStatus {
  status: 'active' | 'paused';
  pausedReason?: string;
  budgetUsd: number;
  usedUsd: number;
}

export interface Charge {
  usd: number;
  tokensIn: number;
  tokensOut: number;
  agentHours: number;
}

export interface AgentAccountant {
  status(agentId: string): Promise<AgentBudgetStatus>;
  charge(agentId: string, c: Charge): Promise<void>;
  pause(agentId: string, reason: string): Promise<void>;
}

function statusOf(a: Agent): AgentBudgetStatus {
  return { status: a.status, pausedReason: a.pausedReason, budgetUsd: a.budget.usd, usedUsd: a.used.usd };
}

/** Records through the FleetService in this process (the embedded hub's own service). */
export function serviceAccountant(service: FleetService): AgentAccountant {
  return {
    async status(agentId) {
      const a = service.state.agent(agentId);
      if (!a) throw new Error(`no agent ${agentId}`);
      return statusOf(a);
    },
    async charge(agentId, c) {
      await service.charge(agentId, c);
    },
    async pause(agentId, reason) {
      const a = service.state.agent(agentId);
      if (a && a.status === 'paused') return;
      await service.pauseAgent({ kind: 'system', id: 'fleet-runtime' }, agentId, reason);
    },
  };
}

/** Records through a remote hub with the fleet operator's human token: spend (`POST /api/agents/:id/charge`),
 * pauses at the cap and budget reads land in the ledger under that human's name. */
export function hubAccountant(operator: HubClient): AgentAccountant {
  return {
    async status(agentId) {
      return statusOf((await operator.agent(agentId)).agent);
    },
    async charge(agentId, c) {
      await operator.chargeAgent(agentId, c);
    },
    async pause(agentId, reason) {
      const a = (await operator.agent(agentId)).agent;
      if (a.status === 'paused') return;
      try {
        await operator.pauseAgent(agentId, reason);
      } catch (err) {
        // Someone (a reviewer) paused it between the read and the pause: the agent is paused either way.
        if (!(err instanceof HubError && err.status === 409)) throw err;
      }
    },
  };
}
