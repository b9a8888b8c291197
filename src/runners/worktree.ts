// A fresh directory holding exactly the approved commit, written from the hub repository's objects by the same
// reader that served the review (git/materialize.ts), and verified against the approved tree before anything
// runs. No git process runs in it and it holds no .git directory: a run cannot reach the repository through it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { listTree, materialize, verifyMaterialized } from '../git/materialize';
import { objectsOf } from '../git/sandbox';

export class WorktreeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorktreeError';
  }
}

const SHA = /^[0-9a-f]{40}$/;

const repoLocks = new Map<string, Promise<unknown>>();

/** Serialize worktree operations per run directory. */
function withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const prev = repoLocks.get(key) ?? Promise.resolve();
  const next = prev.then(fn, fn);
  const tail = next.catch(() => undefined);
  repoLocks.set(key, tail);
  void tail.then(() => {
    if (repoLocks.get(key) === tail) repoLocks.delete(key);
  });
  return next;
}

/** Check that `dir` holds exactly `tree` of `commit` from `repo` (the hub repository). Returns a reason if not. */
export async function verifyWorktree(repo: string, dir: string, commit: string, tree: string): Promise<string | undefined> {
  try {
    const cf = objectsOf(repo);
    const c = await cf.read(`${commit}^{commit}`);
    if (!c || c.sha !== commit) return `approved commit ${commit.slice(0, 12)} does not exist in ${path.basename(repo)}`;
    return await verifyMaterialized(cf, dir, await listTree(cf, tree));
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * Write `<runDir>/wt` from the hub repository `repo` at exactly `commit` (whose tree must be `tree`). A leftover
 * directory from an interrupted dispatch is reused only if it verifies, otherwise written again.
 */
export async function prepareWorktree(repo: string, runDir: string, commit: string, tree: string): Promise<string> {
  if (!SHA.test(commit) || !SHA.test(tree)) throw new WorktreeError('commit and tree must be full 40-hex ids');
  const wt = path.join(runDir, 'wt');
  return withLock(wt, async () => {
    fs.mkdirSync(runDir, { recursive: true });
    if (fs.existsSync(wt)) {
      if ((await verifyWorktree(repo, wt, commit, tree)) === undefined) return wt;
      fs.rmSync(wt, { recursive: true, force: true });
    }
    try {
      await materialize(objectsOf(repo), commit, tree, wt);
    } catch (err) {
      fs.rmSync(wt, { recursive: true, force: true });
      throw new WorktreeError(`refusing to run: ${(err as Error).message}`);
    }
    return wt;
  });
}

/** Remove a run's worktree files (keeps job.log and results elsewhere in runDir). */
export async function removeWorktree(_repo: string, wt: string): Promise<void> {
  await withLock(wt, async () => {
    fs.rmSync(wt, { recursive: true, force: true });
  });
}
