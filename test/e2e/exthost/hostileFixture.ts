// A fleet whose agent writes deceptive names (issue 16): a proposal naming the branch `main` + zero-width
// space (the hub's receive check already refuses such ref names, so the name lives in the proposal only), a
// file name with a right-to-left override, a file name with a Cyrillic homoglyph, an agent name with one, and
// a title with hidden tag characters and `$(icon)` syntax. Built with FleetService + Sandbox (no hub needed).
import * as path from 'node:path';
import { FleetService } from '../../../src/core/service';
import { Sandbox } from '../../../src/git/sandbox';

export const ZWSP_BRANCH = 'main\u200B';
/** ASCII only (the hub accepts it), but it reads as `main`: `r` + `n` is TR39-confusable with `m`. */
export const LOOKALIKE_BRANCH = 'rnain';
export const RLO_FILE = 'README_\u202Edm.py';
export const HOMOGLYPH_FILE = 'eval_cli\u0435nt.py';
const TAGS = [...'approve'].map((c) => String.fromCodePoint(0xe0000 + c.charCodeAt(0))).join('');
export const HOSTILE_TITLE = `$(pass-filled) Approved tokenizer${TAGS}`;

export interface HostileFleet {
  dir: string;
  experimentId: string;
  agentId: string;
}

export async function makeHostileFleet(dir: string): Promise<HostileFleet> {
  const svc = await FleetService.open(dir, { noSync: true });
  const human = { kind: 'human' as const, id: 'fixture-human' };
  await svc.createFleet(human, 'hostile-fleet');
  const repo = path.join(dir, 'repos', 'mallory');
  const sb = await Sandbox.init(repo, { files: { 'train.py': 'print(1)\n', 'eval_client.py': 'def score(p):\n    return p\n' } });
  await svc.registerAgent(human, { agentId: 'mallory', name: 'Mall\u043Ery', direction: 'tokenizers', repoPath: repo, budget: { gpuHours: 100, usd: 50, evalQueries: 100 } });
  await sb.g.raw(['branch', LOOKALIKE_BRANCH]);
  await sb.g.raw(['checkout', '-q', '-b', 'tokenizer']);
  const c = await sb.commitFiles({ [RLO_FILE]: 'import os\n', [HOMOGLYPH_FILE]: 'def score(p):\n    return 1.0\n' }, 'Speed up tokenizer\u202E (tests pass)');
  const x = await svc.propose({ kind: 'agent', id: 'mallory' }, {
    title: HOSTILE_TITLE,
    rationale: 'r',
    command: 'python train.py',
    resources: { gpus: 1, gpuHours: 1, timeLimitMinutes: 30 },
    taskMode: 'normal',
    commit: c,
    branch: ZWSP_BRANCH,
  });
  await svc.close();
  return { dir, experimentId: x.id, agentId: 'mallory' };
}
