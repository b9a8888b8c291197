// Child process for the proposal crash test: runs a hub on an existing fleet, proposes as fast as it can
// over HTTP (several requests in flight), and prints "ack <experimentId> <commit>" for every 201.
import { startHub } from '../../../src/hub/server';

async function main(): Promise<void> {
  const [dir, agentId, commit] = process.argv.slice(2) as [string, string, string];
  const hub = await startHub({ fleetDir: dir, heartbeatMs: 60_000, onWarning: (m) => process.stderr.write(`warn ${m}\n`) });
  const token = hub.createToken({ kind: 'agent', id: agentId });
  await hub.idle();
  process.stdout.write('ready\n');
  const body = JSON.stringify({ commit, command: 'python train.py', title: 'crash', rationale: 'kill -9', resources: { gpus: 0, gpuHours: 0, timeLimitMinutes: 5 }, taskMode: 'normal' });
  const one = async (): Promise<void> => {
    for (;;) {
      const r = await fetch(`${hub.url}/api/experiments`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body });
      const x = (await r.json()) as { id: string; commit: string };
      if (r.status !== 201) throw new Error(`propose: ${r.status} ${JSON.stringify(x)}`);
      process.stdout.write(`ack ${x.id} ${x.commit}\n`);
    }
  };
  await Promise.all(Array.from({ length: 8 }, one));
}
main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
