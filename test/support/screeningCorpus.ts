// Loads the labelled screening corpora:
// - test/fixtures/screening/cases/<id>/ (the original 63, tuned on):
//     patch.diff       the proposal's git diff (base..pinned commit)
//     experiment.json  {title, rationale, command, taskMode}
//     expected.json    {gaming, kinds[], note?}  ground-truth label
//     ai.json          optional: what the scripted fake AI reviewer answers for this case ({findings: [...]})
//   Only files the patch creates are recoverable, so `files` answers for those alone.
// - test/fixtures/screening/heldout/ (written before the structural screener; never tuned on): a sandbox
//   repository (repo/), its task rules (fleet.json) and cases/<id>/ with patch.diff against repo/, experiment.json
//   in the agents' shape (task_mode, gpus, …) and expected.json. `files` answers for every file at the pinned
//   commit (repo/ with the patch applied), as `overseer screen` does.
// - test/fixtures/screening/blind/ (frozen before any rule change of issue 25, written by an author who never read
//   src/screening; NEVER tuned on: measure the aggregate only): same layout, but fleet.json declares two tasks
//   (a normal one and a no-testing one); each case is screened against the task whose mode matches its
//   experiment's task_mode, and expected.json carries the offending `locations` ({file, line}).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { applyPatch, parsePatch } from 'diff';
import type { TaskMode } from '../../src/core/model';
import { parseExperiment } from '../../src/screening/experimentFile';
import { decodeLenient, parseProposalDiff } from '../../src/screening/patchModel';
import { parseTaskRules, type TaskRules } from '../../src/screening/taskRules';

export const CORPUS_DIR = path.join(__dirname, '..', 'fixtures', 'screening', 'cases');
export const HELDOUT_DIR = path.join(__dirname, '..', 'fixtures', 'screening', 'heldout');
/** A small development set on the same sandbox repository, written after the held-out set, for tuning. */
export const DEV_DIR = path.join(__dirname, '..', 'fixtures', 'screening', 'dev');
export const BLIND_DIR = path.join(__dirname, '..', 'fixtures', 'screening', 'blind');

export interface CorpusCase {
  id: string;
  dir: string;
  diff: string;
  experiment: { title: string; rationale: string; command: string; taskMode: TaskMode };
  expected: { gaming: boolean; kinds: string[]; note?: string; locations?: { file: string; line: number }[] };
  /** The task rules this case is screened against, when the corpus declares them per case (blind corpus). */
  rules?: TaskRules;
  ai?: { findings: unknown[] };
  /** Content of a file at the pinned commit, as far as the corpus can recover it. */
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

const strip = (name: string | undefined): string | undefined => (name === undefined || name === '/dev/null' ? undefined : name.replace(/^[ab]\//, ''));

/** The held-out set: every file at the pinned commit is the sandbox repository with the case's patch applied. */
export function loadHeldout(dir = HELDOUT_DIR, repoDir = path.join(HELDOUT_DIR, 'repo')): { cases: CorpusCase[]; rules: TaskRules } {
  const tasks = parseTaskRules(JSON.parse(fs.readFileSync(path.join(HELDOUT_DIR, 'fleet.json'), 'utf8')).tasks, 'heldout fleet.json');
  return { cases: loadSandboxCases(dir, repoDir), rules: [...tasks.values()][0]! };
}

/**
 * The blind corpus: every case with the rules of the fleet task whose mode is the case's task_mode (exactly one
 * task per mode, or a clear error). Aggregate measurement only; never print or tune on its per-case results.
 */
export function loadBlind(dir = BLIND_DIR): { cases: CorpusCase[]; tasks: Map<string, TaskRules> } {
  const tasks = parseTaskRules(JSON.parse(fs.readFileSync(path.join(dir, 'fleet.json'), 'utf8')).tasks, 'blind fleet.json');
  const byMode = new Map<TaskMode, TaskRules>();
  for (const [name, r] of tasks) {
    if (!r.mode) throw new Error(`blind fleet.json: task ${name} declares no mode`);
    if (byMode.has(r.mode)) throw new Error(`blind fleet.json: two tasks declare mode ${r.mode}`);
    byMode.set(r.mode, r);
  }
  const cases = loadSandboxCases(dir, path.join(dir, 'repo')).map((c) => {
    const rules = byMode.get(c.experiment.taskMode);
    if (!rules) throw new Error(`blind case ${c.id}: no task with mode ${c.experiment.taskMode}`);
    return { ...c, rules };
  });
  return { cases, tasks };
}

function loadSandboxCases(dir: string, repoDir: string): CorpusCase[] {
  const repo = path.resolve(repoDir);
  const base = (p: string): string | undefined => {
    const abs = path.resolve(repo, p);
    if (!abs.startsWith(repo + path.sep) || !fs.existsSync(abs) || !fs.statSync(abs).isFile()) return undefined;
    return fs.readFileSync(abs, 'utf8');
  };
  const casesDir = path.join(dir, 'cases');
  const cases = fs
    .readdirSync(casesDir)
    .filter((id) => fs.statSync(path.join(casesDir, id)).isDirectory())
    .sort()
    .map((id): CorpusCase => {
      const d = path.join(casesDir, id);
      const diff = decodeLenient(fs.readFileSync(path.join(d, 'patch.diff')));
      const after = new Map<string, string | undefined>();
      for (const p of parsePatch(diff)) {
        const oldName = strip(p.oldFileName);
        const newName = strip(p.newFileName);
        if (!newName) {
          if (oldName) after.set(oldName, undefined);
          continue;
        }
        const src = oldName ? (base(oldName) ?? '') : '';
        const out = applyPatch(src, p);
        if (out === false) throw new Error(`case ${id}: patch does not apply to ${newName}`);
        after.set(newName, out);
      }
      const exp = parseExperiment(JSON.parse(fs.readFileSync(path.join(d, 'experiment.json'), 'utf8')));
      return {
        id,
        dir: d,
        diff,
        experiment: { title: exp.title, rationale: exp.rationale, command: exp.command, taskMode: exp.taskMode },
        expected: JSON.parse(fs.readFileSync(path.join(d, 'expected.json'), 'utf8')),
        files: async (p: string) => (after.has(p) ? after.get(p) : base(p)),
      };
    });
  return cases;
}
