// Loads the labelled screening corpus in test/fixtures/screening/cases/<id>/:
//   patch.diff       the proposal's git diff (base..pinned commit)
//   experiment.json  {title, rationale, command, taskMode}
//   expected.json    {gaming, kinds[], note?}  ground-truth label
//   ai.json          optional: what the scripted fake AI reviewer answers for this case ({findings: [...]})
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TaskMode } from '../../src/core/model';
import { decodeLenient, parseProposalDiff } from '../../src/screening/patchModel';

export const CORPUS_DIR = path.join(__dirname, '..', 'fixtures', 'screening', 'cases');

export interface CorpusCase {
  id: string;
  dir: string;
  diff: string;
  experiment: { title: string; rationale: string; command: string; taskMode: TaskMode };
  expected: { gaming: boolean; kinds: string[]; note?: string };
  ai?: { findings: unknown[] };
  /** Content of files the patch creates (the only ones recoverable from the patch alone). */
  files: (p: string) => Promise<string | undefined>;
}

export function loadCorpus(dir = CORPUS_DIR): CorpusCase[] {
  return fs
    .readdirSync(dir)
    .filter((id) => fs.statSync(path.join(dir, id)).isDirectory())
    .sort()
    .map((id) => {
      const d = path.join(dir, id);
      const diff = decodeLenient(fs.readFileSync(path.join(d, 'patch.diff')));
      const aiPath = path.join(d, 'ai.json');
      const created = new Map<string, string>();
      for (const f of parseProposalDiff(diff).files) {
        if (f.status === 'added' && !f.binary) created.set(f.path, `${f.added.map((l) => l.text).join('\n')}\n`);
      }
      return {
        id,
        dir: d,
        diff,
        experiment: JSON.parse(fs.readFileSync(path.join(d, 'experiment.json'), 'utf8')),
        expected: JSON.parse(fs.readFileSync(path.join(d, 'expected.json'), 'utf8')),
        ai: fs.existsSync(aiPath) ? JSON.parse(fs.readFileSync(aiPath, 'utf8')) : undefined,
        files: async (p: string) => created.get(p),
      };
    });
}
