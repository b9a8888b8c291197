// An agent's view of its own sandbox repository: file tools strictly confined to the repository root.
// Rules: repo-relative paths only (no absolute paths, no drive letters, no `..` segments, no backslashes, no NUL),
// never inside `.git`, every existing component checked with lstat (writes refuse any symlink on the way,
// reads accept a symlink only if its real path stays inside the root), and the final open uses O_NOFOLLOW.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Sandbox } from '../git/sandbox';

export class ConfinementError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfinementError';
  }
}

export interface WorkspaceLimits {
  maxFileBytes: number;
  maxReadBytes: number;
  maxListEntries: number;
}

/** The branch agents work on (the fleet's base branch stays as the review base). */
export const WORK_BRANCH = 'research';

export const DEFAULT_LIMITS: WorkspaceLimits = { maxFileBytes: 1 << 20, maxReadBytes: 256 * 1024, maxListEntries: 2000 };

export interface ListedEntry {
  path: string;
  type: 'file' | 'dir' | 'symlink';
  size: number;
}

function inside(root: string, p: string): boolean {
  return p === root || p.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}

/** Validate a repo-relative path and split it into segments (empty array = the root). */
export function checkRelPath(rel: unknown, opts: { allowRoot?: boolean } = {}): string[] {
  if (typeof rel !== 'string') throw new ConfinementError('path must be a string');
  if (rel.includes('\0')) throw new ConfinementError('path contains a NUL byte');
  if (rel.includes('\\')) throw new ConfinementError(`backslashes are not allowed in paths: ${JSON.stringify(rel)}`);
  if (rel.startsWith('/') || /^[A-Za-z]:/.test(rel) || rel.startsWith('~')) {
    throw new ConfinementError(`absolute paths are not allowed: ${JSON.stringify(rel)}; use a path relative to your repository`);
  }
  const segs = rel.split('/').filter((s) => s !== '' && s !== '.');
  if (segs.includes('..')) throw new ConfinementError(`".." is not allowed in paths: ${JSON.stringify(rel)}`);
  if (segs.some((s) => s.toLowerCase() === '.git')) throw new ConfinementError(`the .git directory is off limits: ${JSON.stringify(rel)}`);
  if (segs.length === 0 && !opts.allowRoot) throw new ConfinementError('a file path is required');
  if (segs.some((s) => s.length > 255)) throw new ConfinementError('path segment too long');
  if (rel.length > 4096) throw new ConfinementError('path too long');
  return segs;
}

export class Workspace {
  readonly root: string;
  private readonly sandbox: Sandbox;

  constructor(
    repoPath: string,
    readonly limits: WorkspaceLimits = DEFAULT_LIMITS,
  ) {
    let real: string;
    try {
      real = fs.realpathSync.native(repoPath);
    } catch {
      throw new ConfinementError(`sandbox repository ${repoPath} does not exist on this machine`);
    }
    if (!fs.existsSync(path.join(real, '.git'))) throw new ConfinementError(`${repoPath} is not a git repository`);
    this.root = real;
    this.sandbox = new Sandbox(real);
  }

  /**
   * Resolve a relative path to an absolute one inside the root. `write` refuses symlinks anywhere on the path;
   * reads follow a symlink only if its target stays inside the root.
   */
  resolve(rel: unknown, mode: 'read' | 'write', opts: { allowRoot?: boolean } = {}): string {
    const segs = checkRelPath(rel, opts);
    let cur = this.root;
    for (let i = 0; i < segs.length; i++) {
      const next = path.join(cur, segs[i]!);
      let st: fs.Stats;
      try {
        st = fs.lstatSync(next);
      } catch {
        // Does not exist: the rest of the path will be created below a directory already checked.
        return path.join(next, ...segs.slice(i + 1));
      }
      if (st.isSymbolicLink()) {
        if (mode === 'write') throw new ConfinementError(`${JSON.stringify(rel)} goes through a symbolic link; writes through links are not allowed`);
        let target: string;
        try {
          target = fs.realpathSync.native(next);
        } catch {
          throw new ConfinementError(`${JSON.stringify(rel)} is a dangling symbolic link`);
        }
        if (!inside(this.root, target)) throw new ConfinementError(`${JSON.stringify(rel)} is a symbolic link pointing outside your repository`);
        cur = target;
      } else {
        if (i < segs.length - 1 && !st.isDirectory()) throw new ConfinementError(`${segs.slice(0, i + 1).join('/')} is not a directory`);
        cur = next;
      }
    }
    if (!inside(this.root, cur)) throw new ConfinementError(`${JSON.stringify(rel)} resolves outside your repository`);
    const first = path.relative(this.root, cur).split(path.sep)[0]!;
    if (first.toLowerCase() === '.git') throw new ConfinementError(`${JSON.stringify(rel)} leads into the .git directory, which is off limits`);
    return cur;
  }

  private rel(abs: string): string {
    return path.relative(this.root, abs).split(path.sep).join('/');
  }

  list(dir: unknown = '.', recursive = true): { entries: ListedEntry[]; truncated: boolean } {
    const start = this.resolve(dir === '' ? '.' : dir, 'read', { allowRoot: true });
    const entries: ListedEntry[] = [];
    let truncated = false;
    const walk = (d: string) => {
      let names: string[];
      try {
        names = fs.readdirSync(d).sort();
      } catch (err) {
        throw new ConfinementError(`cannot list ${JSON.stringify(this.rel(d) || '.')}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
      }
      for (const n of names) {
        if (d === this.root && n === '.git') continue;
        if (entries.length >= this.limits.maxListEntries) {
          truncated = true;
          return;
        }
        const abs = path.join(d, n);
        const st = fs.lstatSync(abs);
        const type = st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'dir' : 'file';
        entries.push({ path: this.rel(abs), type, size: type === 'file' ? st.size : 0 });
        if (type === 'dir' && recursive) walk(abs);
      }
    };
    walk(start);
    return { entries, truncated };
  }

  read(rel: unknown): { path: string; content: string; size: number; truncated: boolean; binary: boolean } {
    const abs = this.resolve(rel, 'read');
    let fd: number;
    try {
      fd = fs.openSync(abs, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new ConfinementError(code === 'ENOENT' ? `no such file: ${String(rel)}` : `cannot read ${String(rel)}: ${code ?? 'error'}`);
    }
    try {
      const st = fs.fstatSync(fd);
      if (!st.isFile()) throw new ConfinementError(`${String(rel)} is not a regular file`);
      const n = Math.min(st.size, this.limits.maxReadBytes);
      const buf = Buffer.alloc(n);
      let off = 0;
      while (off < n) {
        const r = fs.readSync(fd, buf, off, n - off, off);
        if (r === 0) break;
        off += r;
      }
      const binary = buf.subarray(0, Math.min(off, 8000)).includes(0);
      return {
        path: this.rel(abs),
        content: binary ? '' : buf.subarray(0, off).toString('utf8'),
        size: st.size,
        truncated: st.size > n,
        binary,
      };
    } finally {
      fs.closeSync(fd);
    }
  }

  write(rel: unknown, content: unknown): { path: string; bytes: number } {
    if (typeof content !== 'string') throw new ConfinementError('content must be a string');
    const bytes = Buffer.byteLength(content);
    if (bytes > this.limits.maxFileBytes) throw new ConfinementError(`file too large: ${bytes} bytes (limit ${this.limits.maxFileBytes})`);
    const abs = this.resolve(rel, 'write');
    const parent = path.dirname(abs);
    fs.mkdirSync(parent, { recursive: true });
    // Re-check after creating directories: the parent must still be a real directory inside the root.
    const realParent = fs.realpathSync.native(parent);
    if (!inside(this.root, realParent) || realParent !== parent) throw new ConfinementError(`${String(rel)} resolves outside your repository`);
    let fd: number;
    try {
      fd = fs.openSync(abs, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC | fs.constants.O_NOFOLLOW, 0o644);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new ConfinementError(code === 'ELOOP' ? `${String(rel)} is a symbolic link; not written` : `cannot write ${String(rel)}: ${code ?? 'error'}`);
    }
    try {
      if (!fs.fstatSync(fd).isFile()) throw new ConfinementError(`${String(rel)} is not a regular file`);
      fs.writeSync(fd, content);
    } finally {
      fs.closeSync(fd);
    }
    return { path: this.rel(abs), bytes };
  }

  remove(rel: unknown): { path: string; removed: boolean } {
    const abs = this.resolve(rel, 'write');
    let st: fs.Stats;
    try {
      st = fs.lstatSync(abs);
    } catch {
      return { path: this.rel(abs), removed: false };
    }
    if (st.isDirectory()) throw new ConfinementError(`${String(rel)} is a directory; delete files one by one`);
    fs.unlinkSync(abs);
    return { path: this.rel(abs), removed: true };
  }

  /** Stage everything and commit; returns the new commit (or the current HEAD when nothing changed). */
  async commit(message: unknown, author: string): Promise<{ commit: string; changed: boolean; files: string[] }> {
    if (typeof message !== 'string' || !message.trim()) throw new ConfinementError('a commit message is required');
    const msg = message.slice(0, 4000);
    const g = this.sandbox.g;
    await g.raw(['add', '-A']);
    const staged = (await g.raw(['diff', '--cached', '--name-only', '-z'])).split('\0').filter(Boolean);
    if (staged.length === 0) return { commit: await this.sandbox.head(), changed: false, files: [] };
    await g.raw(['commit', '-q', '--no-verify', '-m', msg, `--author=${author} <${author}@agents.local>`]);
    return { commit: await this.sandbox.head(), changed: true, files: staged };
  }

  /**
   * Keep the fleet's base branch pristine: if HEAD is on `base`, continue on `branch` (created there). Proposals
   * are then diffed against the base, so a reviewer sees everything that will run, not only the last commit.
   */
  async ensureWorkBranch(branch = WORK_BRANCH, base = 'main'): Promise<string> {
    const cur = await this.sandbox.currentBranch();
    if (cur !== base) return cur;
    const exists = (await this.sandbox.branches()).some((b) => b.name === branch);
    await this.sandbox.g.raw(exists ? ['checkout', '-q', branch] : ['checkout', '-q', '-b', branch]);
    return branch;
  }

  /** Paths with uncommitted changes (modified, added, deleted, untracked). */
  async uncommitted(): Promise<string[]> {
    const out = await this.sandbox.g.raw(['status', '--porcelain', '-z', '--untracked-files=all']);
    return out
      .split('\0')
      .filter(Boolean)
      .map((rec) => rec.slice(3));
  }

  branch(): Promise<string> {
    return this.sandbox.currentBranch();
  }

  head(): Promise<string> {
    return this.sandbox.head();
  }

  async recentCommits(max = 10): Promise<{ sha: string; subject: string }[]> {
    return (await this.sandbox.log('HEAD', max)).map((c) => ({ sha: c.sha, subject: c.subject }));
  }
}
