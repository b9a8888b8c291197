// A small real fleet for the extension-host tests: two agents with sandbox commits, proposals (one flagged
// for gaming, one follow-up after a request for changes), a forum finding with a human verdict.
import * as path from 'node:path';
import type { ScreeningReport } from '../../src/core/model';
import { SYSTEM } from '../../src/core/model';
import { FleetService } from '../../src/core/service';
import { Sandbox } from '../../src/git/sandbox';
import { TokenStore } from '../../src/hub/auth';

export interface Fixture {
  dir: string;
  ids: { plain: string; plain2: string; gaming: string; old: string; followup: string; finding: string };
  agentToken: string;
  agentRepo: string;
  file: string;
}

const budget = { gpuHours: 100, usd: 50, evalQueries: 100 };
const resources = { gpus: 1, gpuHours: 2, timeLimitMinutes: 60 };

export async function makeFixture(dir: string): Promise<Fixture> {
  const svc = await FleetService.open(dir, { noSync: true });
  const human = { kind: 'human' as const, id: 'fixture-human' };
  await svc.createFleet(human, 'exthost-fleet');
  const repoA = path.join(dir, 'repos', 'agent-a');
  const repoB = path.join(dir, 'repos', 'agent-b');
  const lines = Array.from({ length: 30 }, (_, i) => `x${i + 1} = ${i + 1}`).join('\n') + '\n';
  const a = await Sandbox.init(repoA, { files: { 'train.py': lines, 'README.md': '# a\n' } });
  const b = await Sandbox.init(repoB, { files: { 'eval.py': 'def score(p):\n    return p\n' } });
  await svc.registerAgent(human, { agentId: 'agent-a', name: 'Agent A', direction: 'confidence-weighted pseudo labels', repoPath: repoA, budget });
  await svc.registerAgent(human, { agentId: 'agent-b', name: 'Agent <b>\u202e', direction: 'ensembles', repoPath: repoB, budget });
  const A = { kind: 'agent' as const, id: 'agent-a' };
  const B = { kind: 'agent' as const, id: 'agent-b' };

  const c1 = await a.commitFiles({ 'train.py': lines.replace('x5 = 5', 'x5 = 50'), 'new_module.py': 'print("hi")\n' }, 'tune x5');
  const plain = await svc.propose(A, { title: 'Tune x5', rationale: 'r', command: 'python train.py', resources, taskMode: 'normal', commit: c1 });
  const c2 = await a.commitFiles({ 'notes.md': 'n\n' }, 'notes');
  const plain2 = await svc.propose(A, { title: 'Notes run', rationale: 'r', command: 'python train.py', resources, taskMode: 'normal', commit: c2 });

  const g = await b.commitFiles({ 'eval.py': 'import labels\ndef score(p):\n    return labels.read()\n' }, 'peek');
  const gaming = await svc.propose(B, { title: 'Better scores <script>alert(1)</script>', rationale: 'trust me', command: 'python eval.py', resources, taskMode: 'normal', commit: g });
  const report: ScreeningReport = {
    gaming: true,
    score: 0.95,
    findings: [{ kind: 'label_access', severity: 'critical', file: 'eval.py', line: 3, explanation: 'reads held-out labels', confidence: 0.95, source: 'static' }],
  };
  await svc.append('experiment.screened', SYSTEM, { experimentId: gaming.id, report });

  const o = await b.commitFiles({ 'eval.py': 'def score(p):\n    return p * 2\n' }, 'v1');
  const old = await svc.propose(B, { title: 'Scale scores v1', rationale: 'r', command: 'python eval.py', resources, taskMode: 'normal', commit: o });
  await svc.requestChanges(human, old.id, { commit: old.commit, tree: old.tree, reason: 'explain the factor' });
  const f = await b.commitFiles({ 'eval.py': 'def score(p):\n    # factor 2: calibrated\n    return p * 2\n', 'calib.md': 'why\n' }, 'v2');
  const followup = await svc.propose(B, { title: 'Scale scores v2', rationale: 'explained', command: 'python eval.py', resources, taskMode: 'normal', commit: f, supersedes: old.id });

  const post = await svc.post(A, { title: 'Pseudo labels help', summary: 'PGR 0.4 [click](command:workbench.action.terminal.new)', metrics: { pgr: 0.4 } });
  await svc.forumVerdict(human, post.id, 'verified', 'reproduced');
  await svc.close();

  const agentToken = new TokenStore(dir).create({ kind: 'agent', id: 'agent-a' }).token;
  return {
    dir,
    ids: { plain: plain.id, plain2: plain2.id, gaming: gaming.id, old: old.id, followup: followup.id, finding: post.id },
    agentToken,
    agentRepo: repoA,
    file: 'train.py',
  };
}
