// A fleet reopened from its snapshot must hold exactly what a replay of its ledger builds: every projection of
// FleetState, including the ones that decide what a policy may approve (the approval policy, rules a flagged audit
// disabled, automatic approvals and their audits, open probing alerts) and the standing unconfined-runner warning.
// The test compares the whole state object, field by field, so a projection added later and left out of the
// snapshot fails here; and it checks that its ledger populates every field, so that comparison is never vacuous.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FleetState } from '../../../src/core/fleet';
import { SYSTEM } from '../../../src/core/model';
import { FleetService, SNAPSHOT_FILE } from '../../../src/core/service';
import { HUMAN, agentActor, tmpDir } from '../../support/tmp';

/** Every own field of the state, Maps and Sets as sorted entries (order of insertion is not state). */
function normalize(v: unknown): unknown {
  if (v instanceof Map) return [...v].map(([k, x]) => [k, normalize(x)]).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
  if (v instanceof Set) return [...v].map(normalize).sort();
  if (Array.isArray(v)) return v.map(normalize);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => [k, normalize(x)]));
  return v ?? null;
}
const fields = (s: FleetState) => normalize(s) as Record<string, unknown>;
const empty = (v: unknown) => v === null || v === '' || v === 0 || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0);

const sha = (c: string) => c.repeat(40);
const resources = { gpus: 1, gpuHours: 1, timeLimitMinutes: 30 };

async function populate(svc: FleetService): Promise<void> {
  await svc.append('fleet.created', HUMAN, { name: 'snap', baseBranch: 'trunk' });
  for (const a of ['aar-1', 'aar-2']) await svc.append('agent.registered', HUMAN, { agentId: a, name: a, direction: `study ${a}`, repoPath: `/nonexistent/${a}`, budget: { gpuHours: 10, usd: 5, evalQueries: 100 } });
  const propose = (id: string, agentId: string, c: string) =>
    svc.append('experiment.proposed', agentActor(agentId), { experimentId: id, agentId, title: `t ${id}`, rationale: 'r', command: 'python train.py', resources, taskMode: 'normal', commit: sha(c), tree: sha(c), baseCommit: sha('0') });
  await propose('exp-1', 'aar-1', 'a');
  await propose('exp-2', 'aar-2', 'b');
  await propose('exp-3', 'aar-1', 'c');
  await svc.append('experiment.screened', SYSTEM, { experimentId: 'exp-1', report: { gaming: false, score: 0, findings: [] } });
  await svc.append('policy.set', HUMAN, { version: 1, rules: [{ name: 'small', expr: 'risk == "low"' }, { name: 'other', expr: 'false' }], auditShare: 1, note: 'test' });
  await svc.append('experiment.approved', SYSTEM, { experimentId: 'exp-1', commit: sha('a'), tree: sha('a'), note: 'by policy', policy: { rule: 'small', version: 1, setBy: 'alice', sampled: true } });
  await svc.append('audit.flagged', HUMAN, { experimentId: 'exp-1', reason: 'not small' });
  await svc.append('policy.rule_disabled', HUMAN, { rule: 'small', version: 1, reason: 'audit of exp-1 flagged: not small', experimentId: 'exp-1' });
  await svc.append('agent.paused', HUMAN, { agentId: 'aar-1', reason: 'audit flagged' });
  await svc.append('experiment.vetoed', HUMAN, { experimentId: 'exp-2', commit: sha('b'), tree: sha('b'), reason: 'no' });
  await svc.append('review.commented', HUMAN, { commentId: 'c-1', experimentId: 'exp-3', file: 'train.py', line: 1, side: 'head', body: 'why?' });
  await svc.append('review.file_viewed', HUMAN, { experimentId: 'exp-3', file: 'train.py', viewed: true });
  await svc.append('forum.posted', agentActor('aar-2'), { postId: 'f-1', title: 'result', summary: 's', findingType: 'result', metrics: { pgr: 0.3 } });
  await svc.append('eval.probing_suspected', SYSTEM, { agentId: 'aar-2', dataset: 'syn', split: 'test', evidence: { flips: 7 }, suspended: true });
  // agent episodes: one resolved on probation (with a release), one open holding a proposal
  await svc.append('episode.opened', SYSTEM, { episodeId: 'ep-1', agentId: 'aar-2', trigger: 'probing_alert', reason: 'probing alert on syn/test' });
  await svc.append('episode.released', HUMAN, { episodeId: 'ep-1', experimentId: 'exp-2' });
  await svc.append('episode.resolved', HUMAN, { episodeId: 'ep-1', agentId: 'aar-2', action: 'probation', note: 'careful', probation: 'gpu_hours <= 0.5' });
  await svc.append('episode.opened', SYSTEM, { episodeId: 'ep-2', agentId: 'aar-1', trigger: 'human', reason: 'paused by alice: check' });
  await svc.append('runner.unconfined', HUMAN, { runner: 'gpu-box', confined: false });
  await svc.append('diversity.measured', SYSTEM, { data: { meanSimilarity: 0.2, converged: false, agents: 2, documents: 3, threshold: 0.5, topPairs: [], flags: [] } });
  await svc.append('eval.final', HUMAN, { dataset: 'syn', split: 'heldout', result: { transfer_acc: 0.7, pgr: 0.3 } });
}

describe('snapshots hold every projection of the fleet state', () => {
  it('a fleet reopened from its snapshot equals the replay of its ledger, field by field, and keeps folding the same', async () => {
    const t = tmpDir();
    const quiet = { noSync: true, onWarning: () => undefined, resolveCommit: async () => ({ commit: sha('0'), tree: sha('0') }) };
    try {
      let svc = await FleetService.open(t.dir, quiet as never);
      await populate(svc);
      const live = fields(svc.state);
      await svc.close();
      assert.ok(fs.existsSync(path.join(t.dir, SNAPSHOT_FILE)), 'close writes a snapshot');

      // the ledger exercises every field (else the comparison below would prove nothing for it)
      const unpopulated = Object.entries(live).filter(([, v]) => empty(v)).map(([k]) => k);
      assert.deepEqual(unpopulated, [], `fields the test ledger leaves empty: teach populate() an event for them`);

      svc = await FleetService.open(t.dir, quiet as never);
      const fromSnapshot = fields(svc.state);
      await svc.close();
      fs.rmSync(path.join(t.dir, SNAPSHOT_FILE));
      svc = await FleetService.open(t.dir, quiet as never);
      const replayed = fields(svc.state);
      for (const k of Object.keys(replayed)) assert.deepEqual(fromSnapshot[k], replayed[k], `field ${k}: snapshot differs from the ledger's replay`);
      assert.deepEqual(Object.keys(fromSnapshot).sort(), Object.keys(replayed).sort());
      // what the policy and risk read survived, in words
      assert.equal(svc.state.policy?.version, 1);
      assert.deepEqual([...svc.state.disabledRules.keys()], ['small']);
      assert.equal(svc.state.openProbingAlerts.get('aar-2'), 1);
      assert.equal(svc.state.autoApprovals[0]?.audit?.outcome, 'flagged');
      assert.ok(svc.state.unconfinedRunners.has('gpu-box'));
      await svc.close();

      // reopened from the snapshot written just now: the next events fold the same as on the replayed state
      svc = await FleetService.open(t.dir, quiet as never);
      await svc.append('eval.resumed', HUMAN, { agentId: 'aar-2', note: 'checked' });
      await svc.append('policy.rule_enabled', HUMAN, { rule: 'small', version: 1 });
      assert.equal(svc.state.openProbingAlerts.has('aar-2'), false);
      assert.deepEqual([...svc.state.disabledRules.keys()], []);
      await svc.close();
    } finally {
      t.cleanup();
    }
  });

  it('a snapshot written before these projections is ignored: the ledger is replayed and nothing is forgotten', async () => {
    const t = tmpDir();
    const quiet = { noSync: true, onWarning: () => undefined, resolveCommit: async () => ({ commit: sha('0'), tree: sha('0') }) };
    try {
      let svc = await FleetService.open(t.dir, quiet as never);
      await populate(svc);
      await svc.close();
      const file = path.join(t.dir, SNAPSHOT_FILE);
      const snap = JSON.parse(fs.readFileSync(file, 'utf8'));
      for (const k of ['unconfinedRunners', 'policy', 'disabledRules', 'autoApprovals', 'openProbingAlerts']) delete snap.state[k];
      fs.writeFileSync(file, JSON.stringify(snap));
      const warnings: string[] = [];
      svc = await FleetService.open(t.dir, { ...quiet, onWarning: (m: string) => warnings.push(m) } as never);
      assert.ok(warnings.some((w) => /snapshot ignored .*probing-alert projections/.test(w)), warnings.join('\n'));
      assert.equal(svc.state.openProbingAlerts.get('aar-2'), 1);
      assert.equal(svc.state.policy?.version, 1);
      await svc.close();
    } finally {
      t.cleanup();
    }
  });
});
