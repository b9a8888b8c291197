import * as assert from 'node:assert/strict';
import type { AnyEvent } from '../../../src/core/events';
import type { FleetService } from '../../../src/core/service';
import { visibleTo } from '../../../src/hub/sse';

const ev = (type: string, data: Record<string, unknown>, actor = { kind: 'system' as const, id: 'overseer' }) =>
  ({ seq: 1, ts: '2026-11-25T00:00:00.000Z', type, actor, data, prev: '0'.repeat(64), hash: '1'.repeat(64) }) as unknown as AnyEvent;

describe('SSE visibility for agents', () => {
  const service = { state: { experiment: (id: string) => (id === 'exp-1' ? { agentId: 'aar-1' } : undefined) } } as unknown as FleetService;
  const aar1 = { kind: 'agent' as const, id: 'aar-1' };
  const human = { kind: 'human' as const, id: 'alice' };

  it('never shows held-out results, screening or probing alerts to agents, even about their own experiments', () => {
    for (const type of ['eval.final', 'experiment.screened', 'eval.probing_suspected']) {
      const e = ev(type, { experimentId: 'exp-1', agentId: 'aar-1', dataset: 'd', split: 'heldout', result: {} });
      assert.equal(visibleTo(aar1, e, service), false, type);
      assert.equal(visibleTo(human, e, service), true, type);
    }
  });

  it('never shows an agent the replication of its results on the hidden transfer task', () => {
    for (const type of ['replication.configured', 'replication.job_dispatched', 'replication.job_finished', 'replication.scored', 'replication.raised']) {
      const e = ev(type, { experimentId: 'exp-1', index: 0, enabled: true });
      assert.equal(visibleTo(aar1, e, service), false, type);
      assert.equal(visibleTo(human, e, service), true, type);
    }
  });

  it('shows an agent its own verdicts but not another agent experiment', () => {
    assert.equal(visibleTo(aar1, ev('experiment.approved', { experimentId: 'exp-1' }), service), true);
    assert.equal(visibleTo({ kind: 'agent', id: 'aar-2' }, ev('experiment.approved', { experimentId: 'exp-1' }), service), false);
  });
});
