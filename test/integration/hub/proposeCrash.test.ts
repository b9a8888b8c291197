// Crash test of the propose path: a hub in a child process takes proposals over HTTP and is killed with SIGKILL
// at random moments. A 201 is a promise: after every kill, each acknowledged proposal is in the ledger with its
// commit, and its pin ref (refs/overseer/pins/<id>, written in batched update-ref transactions) names that commit.
import * as assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as path from 'node:path';
import { FleetService } from '../../../src/core/service';
import { createFleet } from '../../../src/hub/fleetSetup';
import { tmpDir } from '../../support/tmp';

const CHILD = path.join(__dirname, 'proposeChild.ts');

function runAndKill(dir: string, agentId: string, commit: string, killAfterMs: number): Promise<Map<string, string>> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import=tsx', CHILD, dir, agentId, commit], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acked = new Map<string, string>();
    let buf = '';
    let err = '';
    let timer: NodeJS.Timeout | undefined;
    p.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const [kind, id, sha] = line.split(' ');
        if (kind === 'ready' && !timer) timer = setTimeout(() => p.kill('SIGKILL'), killAfterMs);
        if (kind === 'ack') acked.set(id!, sha!);
      }
    });
    p.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    p.on('error', reject);
    p.on('exit', (_code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`child exited without being killed (${signal}): ${err}`));
      else resolve(acked);
    });
  });
}

function pins(repo: string): Map<string, string> {
  const out = execFileSync('git', ['for-each-ref', '--format=%(refname:lstrip=3) %(objectname)', 'refs/overseer/pins'], { cwd: repo }).toString();
  return new Map(out.split('\n').filter(Boolean).map((l) => l.split(' ') as [string, string]));
}

describe('proposal crash safety (SIGKILL of the hub)', function () {
  this.timeout(300_000);
  let t: ReturnType<typeof tmpDir>;
  before(() => (t = tmpDir('overseer-propose-crash-')));
  after(() => t.cleanup());

  it('keeps every acknowledged proposal and its pin across random SIGKILLs', async () => {
    const dir = path.join(t.dir, 'fleet');
    const setup = await createFleet(dir, { name: 'crash', agents: [{ id: 'aar-1', direction: 'x' }], budgets: { gpuHours: 1e9 }, files: { 'train.py': 'print(1)\n' }, config: { maxOpenProposals: 0 } });
    const { head } = setup.agents[0]!;
    let rnd = 4242;
    const next = () => ((rnd = (rnd * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const allAcked = new Map<string, string>();
    for (let run = 0; run < 6; run++) {
      const acked = await runAndKill(dir, 'aar-1', head, 400 + Math.floor(next() * 1200));
      for (const [id, sha] of acked) allAcked.set(id, sha);
      const svc = await FleetService.open(dir, { onWarning: () => undefined });
      try {
        const pinned = pins(svc.hubRepo('aar-1'));
        for (const [id, sha] of allAcked) {
          const x = svc.state.experiment(id);
          assert.ok(x, `run ${run}: acknowledged ${id} lost from the ledger`);
          assert.equal(x.commit, sha, `run ${run}: ${id} names another commit after restart`);
          assert.equal(pinned.get(id), sha, `run ${run}: acknowledged ${id} has no pin (or the wrong one) after restart`);
        }
      } finally {
        await svc.close();
      }
    }
    assert.ok(allAcked.size > 20, `the hub should have acknowledged many proposals (${allAcked.size})`);
    process.stdout.write(`      (${allAcked.size} acknowledged proposals over 6 kills)\n`);
  });
});
