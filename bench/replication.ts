// Replication on the hidden transfer task, on the demo world (fixtures/w2s-demo): a real hub dispatches each of the
// five demo ideas as one experiment of N seed jobs (BENCH_REPLICATION_SEEDS, default 5), then its N replication jobs
// on the hidden task, all confined on the local runner (2 slots). Prints, per idea, the visible PGR and the transfer
// PGR with their 95% intervals, the gap and the verdict (the README's table), and the time replication adds against
// the experiment's own time in the same run: approve → experiment finished (its seed jobs) against experiment scored →
// last replication job finished (target ≤ 1.2×). Part of `npm run bench -- runners` (BENCH_REPLICATION=0 skips it) and
// `npm run bench -- replication`.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HubClient } from '../src/hub/client';
import { createFleet } from '../src/hub/fleetSetup';
import { startHub } from '../src/hub/server';
import { Sandbox } from '../src/git/sandbox';
import { DEMO_DATASET, DEMO_IDEAS, demoCodeFiles, demoCommand, demoTransferTask, installDemoDataset } from '../src/fleet/demoCode';

const f3 = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(2));

export async function benchReplication(): Promise<void> {
  const seeds = Number(process.env.BENCH_REPLICATION_SEEDS ?? 5);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ovs-bench-rep-'));
  await createFleet(dir, {
    name: 'bench-replication',
    agents: DEMO_IDEAS.map((id) => ({ id: `aar-${id.replace(/_/g, '-')}`, direction: `weak-to-strong: ${id}`, files: demoCodeFiles() })),
    config: { datasets: [DEMO_DATASET], maxOpenProposals: 100, runners: [{ name: 'local', type: 'local', maxConcurrent: 2, gpus: 0 }], dispatch: { perAgentConcurrency: 2 }, tasks: demoTransferTask() },
  });
  installDemoDataset(dir);
  const hub = await startHub({ fleetDir: dir, dispatch: true, noSync: true, onWarning: () => undefined });
  try {
    const human = new HubClient(hub.url, hub.createToken({ kind: 'human', id: 'bench' }));
    const rows: string[] = [];
    const own: number[] = [];
    const added: number[] = [];
    // one idea at a time, so each experiment's time and its replication's time are its own
    for (const idea of DEMO_IDEAS) {
      const agentId = `aar-${idea.replace(/_/g, '-')}`;
      const agent = new HubClient(hub.url, hub.createToken({ kind: 'agent', id: agentId }));
      const commit = await new Sandbox(path.join(dir, 'repos', agentId)).commitFiles({ 'notes/plan.md': `# ${idea}\n` }, idea);
      const x = await agent.propose({ commit, command: demoCommand(dir, { idea, seeds: [] }), title: idea, rationale: `the ${idea} idea`, resources: { gpus: 0, gpuHours: 0.1, timeLimitMinutes: 10 }, taskMode: 'normal', seeds });
      await hub.service.idle();
      const cur = hub.service.state.experiment(x.id)!;
      const t0 = Date.now();
      await human.approve(x.id, { commit: cur.commit, tree: cur.tree });
      let finishedAt = 0;
      let scoredAt = 0;
      for (;;) {
        const s = hub.service.state.experiment(x.id)!;
        if (!finishedAt && s.run?.endState) finishedAt = Date.now();
        if (!scoredAt && s.state === 'scored') scoredAt = Date.now();
        if (['failed', 'cancelled', 'timed_out'].includes(s.state)) break;
        const rv = hub.service.state.replicationVerdict(s);
        if (rv && rv.status !== 'pending' && rv.status !== 'running') break;
        if (s.state === 'scored' && hub.service.state.baseVerification(s).status === 'unverified') break;
        if (Date.now() - t0 > 600_000) throw new Error(`${idea}: no verdict in 10 min`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const doneAt = Date.now();
      const s = hub.service.state.experiment(x.id)!;
      const rv = hub.service.state.replicationVerdict(s);
      own.push(finishedAt - t0);
      added.push(doneAt - scoredAt);
      rows.push(
        `| \`${idea}\` | ${f3(rv?.visible?.mean)} | [${f3(rv?.visible?.ci[0])}, ${f3(rv?.visible?.ci[1])}] | ${f3(rv?.transfer?.mean)} | [${f3(rv?.transfer?.ci[0])}, ${f3(rv?.transfer?.ci[1])}] | ${f3(rv?.gap)} | ${rv?.status.replace(/_/g, ' ') ?? hub.service.state.verification(s).status} |`,
      );
      console.log(`replication: ${idea}: experiment ${((finishedAt - t0) / 1000).toFixed(1)} s (approve -> seed jobs finished), replication +${((doneAt - scoredAt) / 1000).toFixed(1)} s (scored -> verdict)`);
    }
    console.log(`replication: demo ideas, ${seeds} seed jobs + ${seeds} replication jobs each, on ${DEMO_DATASET} and its hidden transfer task`);
    console.log('| idea | visible PGR | 95% CI | transfer PGR | 95% CI | gap | verdict |');
    console.log('|---|---|---|---|---|---|---|');
    for (const r of rows) console.log(r);
    const sum = (v: number[]) => v.reduce((a, b) => a + b, 0);
    const ratio = sum(added) / Math.max(1, sum(own));
    console.log(`replication adds ${ratio.toFixed(2)}x the experiments' own job time (${(sum(added) / 1000).toFixed(1)} s against ${(sum(own) / 1000).toFixed(1)} s; target <= 1.2x): ${ratio <= 1.2 ? 'met' : 'NOT met'}`);
  } finally {
    await hub.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
