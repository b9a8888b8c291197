// A fresh detached worktree of exactly the approved commit, verified against the approved tree before anything
// runs. Git runs without a shell, with hooks disabled (the agent controls its repository's config and hooks).
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export class WorktreeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorktreeError';
  }
}

const SHA = /^[0-9a-f]{40}$/;

function gitEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1', GIT_OPTIONAL_LOCKS: '0' };
  for (const k of ['PATH', 'HOME', 'LANG', 'TMPDIR']) if (process.env[k] !== undefined) env[k] = process.env[k];
  return env;
}

export function gitRun(cwd: string, args: string[]): Promise<string> {
  const full = ['-c', 'core.hooksPath=/dev/null', '-c', 'core.fsmonitor=false', ...args];
  return new Promise((resolve, reject) => {
    execFile('git', full, { cwd, env: gitEnv(), maxBuffer: 16 * 1024 * 1024, timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) reject(new WorktreeError(`git ${args.join(' ')} failed: ${(stderr || err.message).trim().slice(0, 500)}`));
      else resolve(stdout);
    });
  });
}

const repoLocks = new Map<string, Promise<unknown>>();

/** Serialize worktree operations per repository (git locks .git/worktrees). */
function withRepoLock<T>(repo: string, fn: () => Promise<T>): Promise<T> {
  const prev = repoLocks.get(repo) ?? Promise.resolve();
  const next = prev.then(fn, fn);
  const tail = next.catch(() => undefined);
  repoLocks.set(repo, tail);
  void tail.then(() => {
    if (repoLocks.get(repo) === tail) repoLocks.delete(repo);
  });
  return next;
}

/** Check that `dir` is a clean checkout of exactly `commit` with tree `tree`. Returns a reason if not. */
export async function verifyWorktree(dir: string, commit: string, tree: string): Promise<string | undefined> {
  try {
    const [head = '', t = ''] = (await gitRun(dir, ['rev-parse', 'HEAD', 'HEAD^{tree}'])).trim().split('\n');
    if (head !== commit) return `worktree HEAD is ${head.slice(0, 12)}, approved commit is ${commit.slice(0, 12)}`;
    if (t !== tree) return `worktree tree is ${t.slice(0, 12)}, approved tree is ${tree.slice(0, 12)}`;
    const st = await gitRun(dir, ['status', '--porcelain', '--untracked-files=all', '--ignore-submodules=none']);
    if (st.trim()) return `worktree differs from the approved commit: ${st.trim().split('\n').slice(0, 3).join(', ')}`;
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * `git worktree add --detach --lock <runDir>/wt <commit>` (locked so a plain `git worktree remove/prune` in the
 * agent's repository does not pull the files from under a running job) in the agent's repository, then verify HEAD and HEAD^{tree}.
 * A leftover worktree from an interrupted dispatch is reused only if it verifies, otherwise recreated.
 */
export async function prepareWorktree(repo: string, runDir: string, commit: string, tree: string): Promise<string> {
  if (!SHA.test(commit) || !SHA.test(tree)) throw new WorktreeError('commit and tree must be full 40-hex ids');
  const wt = path.join(runDir, 'wt');
  return withRepoLock(repo, async () => {
    fs.mkdirSync(runDir, { recursive: true });
    if (fs.existsSync(wt)) {
      if ((await verifyWorktree(wt, commit, tree)) === undefined) return wt;
      await gitRun(repo, ['worktree', 'remove', '--force', '--force', wt]).catch(() => undefined);
      fs.rmSync(wt, { recursive: true, force: true });
      await gitRun(repo, ['worktree', 'prune']).catch(() => undefined);
    }
    // Checkout runs filter drivers named in .gitattributes if the repository's own config defines them: that
    // would be agent-chosen code running on the hub. Refuse instead.
    const drivers = await gitRun(repo, ['config', '--local', '--includes', '--get-regexp', '^filter\\..*\\.(smudge|process)$']).catch(() => '');
    if (drivers.trim()) {
      throw new WorktreeError(`the agent repository's config defines git filter drivers (${drivers.trim().split('\n')[0]!.split(' ')[0]}); refusing to check out on the hub`);
    }
    try {
      await gitRun(repo, ['worktree', 'add', '--detach', '--lock', '--force', wt, commit]);
    } catch (err) {
      const exists = await gitRun(repo, ['cat-file', '-e', `${commit}^{commit}`]).then(
        () => true,
        () => false,
      );
      if (!exists) throw new WorktreeError(`approved commit ${commit.slice(0, 12)} no longer exists in ${path.basename(repo)}`);
      throw err;
    }
    const why = await verifyWorktree(wt, commit, tree);
    if (why) throw new WorktreeError(`refusing to run: ${why}`);
    return wt;
  });
}

/** Remove a run's worktree registration and files (keeps job.log and results elsewhere in runDir). */
export async function removeWorktree(repo: string, wt: string): Promise<void> {
  await withRepoLock(repo, async () => {
    await gitRun(repo, ['worktree', 'remove', '--force', '--force', wt]).catch(() => undefined);
    fs.rmSync(wt, { recursive: true, force: true });
    await gitRun(repo, ['worktree', 'prune']).catch(() => undefined);
  });
}
