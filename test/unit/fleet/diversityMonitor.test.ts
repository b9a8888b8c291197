import * as assert from 'node:assert/strict';
import { FleetService } from '../../../src/core/service';
import { startDiversityMonitor } from '../../../src/fleet/diversityMonitor';
import { tmpDir } from '../../support/tmp';

describe('fleet/diversityMonitor', () => {
  it('records diversity.measured after every N agent documents, ignoring human posts', async () => {
    const { dir, cleanup } = tmpDir('overseer-div-');
    const svc = await FleetService.open(dir, { noSync: true });
    try {
      const sys = { kind: 'system' as const, id: 's' };
      for (const id of ['a1', 'a2']) await svc.registerAgent(sys, { agentId: id, direction: id, repoPath: dir, budget: { gpuHours: 1, usd: 1, evalQueries: 1 } });
      const m = startDiversityMonitor(svc, { everyDocs: 2 });
      const post = (who: string, text: string, kind: 'agent' | 'human' = 'agent') => svc.post({ kind, id: who }, { title: text, summary: text });
      await post('a1', 'label noise robust loss');
      await post('lead', 'a human note', 'human');
      await post('a2', 'linear probing frozen backbone');
      await post('a1', 'symmetric cross entropy');
      await post('a2', 'adapters and layer decay');
      await svc.idle();
      await m.idle();
      await svc.ledger.flush();
      const measured = (await svc.ledger.readAfter(0)).filter((e) => e.type === 'diversity.measured');
      assert.equal(measured.length, 2);
      const last = measured[1]!.data.data as { documents: number; agents: number; meanSimilarity: number };
      assert.equal(last.documents, 4);
      assert.equal(last.agents, 2);
      assert.ok(last.meanSimilarity < 0.5);
      // Nothing new: an explicit measurement records nothing.
      assert.equal(await m.measure(), undefined);
      m.stop();
      await post('a1', 'more');
      await post('a2', 'more');
      await svc.idle();
      assert.equal((await svc.ledger.readAfter(0)).filter((e) => e.type === 'diversity.measured').length, 2);
    } finally {
      await svc.close();
      cleanup();
    }
  });
});
