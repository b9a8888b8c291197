// Sandbox repositories: one real git repository per agent. Reads are by exact object id, never by branch
// tip, so what a human reviews is what runs. No vscode import.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CatFile, parseCommit } from './catFile';
import { runGit } from './exec';
import { diffStats, unifiedDiff } from './treeDiff';

export const SHA_RE = /^[0-9a-f]{40}$/;

export class GitInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GitInputError';
  }
}

export interface ChangedFile {
  path: string;
  oldPath?: string;
  status: 'A' | 'M' | 'D' | 'R' | 'C' | 'T';
  additions: number;
  deletions: number;
  binary: boolean;
}

export interface CommitInfo {
  sha: string;
  parents: string[];
  author: string;
  date: string;
  subject: string;
  /** The message after its first paragraph (agent-written), when there is one. */
  body?: string;
}

/** ISO 8601 with the commit's own offset (what `%aI` prints), from git's `<epoch> <+hhmm>`. */
function isoWithOffset(epoch: number, tz: string): string {
  const m = /^([+-])(\d\d)(\d\d)$/.exec(tz);
  const offMin = m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : 0;
  const local = new Date((epoch + offMin * 60) * 1000).toISOString().slice(0, 19);
  return `${local}${m ? `${m[1]}${m[2]}:${m[3]}` : 'Z'}`;
}

/** Parse a raw commit object into the fields the UI shows (subject = first paragraph on one line, as git's %s). */
export function commitInfo(sha: string, content: Buffer): CommitInfo {
  const text = content.toString('utf8');
  const end = text.indexOf('\n\n');
  const head = end >= 0 ? text.slice(0, end) : text;
  const message = end >= 0 ? text.slice(end + 2) : '';
  const parents: string[] = [];
  let author = '';
  let date = '';
  for (const line of head.split('\n')) {
    if (line.startsWith('parent ')) parents.push(line.slice(7));
    else if (line.startsWith('author ')) {
      const m = /^author (.*?) <[^>]*> (\d+) ([+-]\d{4})$/.exec(line);
      if (m) {
        author = m[1]!;
        date = isoWithOffset(Number(m[2]), m[3]!);
      }
    }
  }
  const paras = message.replace(/\r\n/g, '\n').split(/\n[ \t]*\n/);
  const subject = (paras[0] ?? '').split('\n').map((l) => l.trim()).join(' ').trim();
  const body = paras.slice(1).join('\n\n').trim();
  return { sha, parents, author, date, subject, ...(body ? { body } : {}) };
}

/** What Sandbox needs of git: raw invocations through the hardened helper (exec.ts). */
export interface GitRaw {
  raw(args: readonly string[]): Promise<string>;
}

export function git(repo: string): GitRaw {
  return { raw: (args) => runGit(repo, args) };
}

/** Validate a repo-relative path: no absolute paths, no `..` segments, no NUL. */
export function safeRelPath(p: string): string {
  if (typeof p !== 'string' || !p || p.includes('\0')) throw new GitInputError('invalid path');
  const norm = path.posix.normalize(p.replace(/\\/g, '/'));
  if (norm.startsWith('/') || norm === '..' || norm.startsWith('../') || norm.split('/').includes('..')) {
    throw new GitInputError(`path escapes the repository: ${JSON.stringify(p)}`);
  }
  return norm === '.' ? '' : norm;
}

/** Which cat-file process serves a sandbox's object reads: requests someone waits on (a proposal's resolution,
 * a reviewer's diff) or background work (screening) that would otherwise queue ahead of them. */
export type ReadLane = 'interactive' | 'background';

export class Sandbox {
  readonly g: GitRaw;
  constructor(
    readonly repo: string,
    readonly lane: ReadLane = 'interactive',
  ) {
    this.g = git(repo);
  }

  /** Create a sandbox repository with an initial commit on `branch` (idempotent). */
  static async init(repo: string, opts: { branch?: string; files?: Record<string, string>; message?: string } = {}): Promise<Sandbox> {
    fs.mkdirSync(repo, { recursive: true });
    const sb = new Sandbox(repo);
    if (!fs.existsSync(path.join(repo, '.git')) && !fs.existsSync(path.join(repo, 'HEAD'))) {
      await sb.g.raw(['init', '-q', '-b', opts.branch ?? 'main']);
      await sb.g.raw(['config', 'user.name', 'overseer']);
      await sb.g.raw(['config', 'user.email', 'overseer@localhost']);
      await sb.g.raw(['config', 'commit.gpgsign', 'false']);
      const files = opts.files ?? { 'README.md': '# sandbox\n' };
      for (const [rel, content] of Object.entries(files)) {
        const abs = path.join(repo, safeRelPath(rel));
        fs.mkdirSync(path.dirname(abs), { recursive: true });
        fs.writeFileSync(abs, content);
      }
      await sb.g.raw(['add', '-A']);
      await sb.g.raw(['commit', '-q', '-m', opts.message ?? 'initial commit']);
    }
    return sb;
  }

  /** Write files and commit them; returns the new commit SHA. Paths are confined to the repository. */
  async commitFiles(files: Record<string, string | null>, message: string, author?: string): Promise<string> {
    for (const [rel, content] of Object.entries(files)) {
      const abs = path.join(this.repo, safeRelPath(rel));
      if (content === null) fs.rmSync(abs, { force: true });
      else {
        fs.mkdirSync(path.dirname(abs), { recursive: true });
        fs.writeFileSync(abs, content);
      }
    }
    await this.g.raw(['add', '-A']);
    const args = ['commit', '-q', '--allow-empty', '-m', message];
    if (author) args.push(`--author=${author} <${author}@agents.local>`);
    await this.g.raw(args);
    return (await this.g.raw(['rev-parse', 'HEAD'])).trim();
  }

  /** Resolve a ref or SHA to a full commit id and its tree; errors clearly if it does not exist. */
  async resolve(ref: string): Promise<{ commit: string; tree: string }> {
    if (!/^[A-Za-z0-9._/@^~-]{1,255}$/.test(ref) || ref.startsWith('-')) throw new GitInputError(`invalid ref ${JSON.stringify(ref)}`);
    const known = SHA_RE.test(ref) ? knownCommit(this.repo, ref) : undefined;
    if (known) return { commit: ref, tree: known.tree };
    let obj;
    try {
      obj = await catFile(this.repo, this.lane).read(`${ref}^{commit}`);
    } catch {
      obj = undefined;
    }
    if (!obj || obj.type !== 'commit') throw new GitInputError(`commit ${ref} does not exist in ${path.basename(this.repo)}`);
    const header = parseCommit(obj.content);
    const { tree } = header;
    if (!SHA_RE.test(obj.sha) || !SHA_RE.test(tree)) throw new GitInputError(`commit ${ref} does not exist in ${path.basename(this.repo)}`);
    rememberCommit(this.repo, obj.sha, header);
    return { commit: obj.sha, tree };
  }

  async head(): Promise<string> {
    return (await this.g.raw(['rev-parse', 'HEAD'])).trim();
  }

  async currentBranch(): Promise<string> {
    return (await this.g.raw(['rev-parse', '--abbrev-ref', 'HEAD'])).trim();
  }

  async branches(): Promise<{ name: string; commit: string }[]> {
    const out = await this.g.raw(['for-each-ref', '--format=%(refname:short)%00%(objectname)', 'refs/heads']);
    return out
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const [name, commit] = l.split('\0');
        return { name: name!, commit: commit! };
      });
  }

  /** The branch with the newest commit (where an agent last worked); the hub repository's HEAD is its base. */
  async latestBranch(): Promise<string | undefined> {
    const out = (await this.g.raw(['for-each-ref', '--sort=-committerdate', '--count=1', '--format=%(refname)', 'refs/heads'])).trim();
    return out || undefined;
  }

  /**
   * Commits from `ref` back (newest first). Messages are parsed from the commit objects themselves: an
   * agent-written message can hold any byte, so no separator-based `git log --format` output is trusted.
   */
  async log(ref: string, max = 50): Promise<CommitInfo[]> {
    const { commit } = await this.resolve(ref);
    const shas = (await this.g.raw(['rev-list', `--max-count=${Math.max(1, Math.min(max, 10_000))}`, commit])).split('\n').filter((l) => SHA_RE.test(l));
    const cf = catFile(this.repo, this.lane);
    const out: CommitInfo[] = [];
    for (const sha of shas) {
      const o = await cf.read(sha);
      if (o?.type === 'commit') out.push(commitInfo(sha, o.content));
    }
    return out;
  }

  /**
   * Merge base of a commit with a base branch (or its first parent if the commit is on the base branch or
   * the branch is missing). Walks commit objects through the repository's cat-file process: the ancestor
   * set of the base tip is cached per tip, so a proposal costs a few object reads, not git processes.
   */
  async baseOf(commit: string, baseBranch: string): Promise<string | undefined> {
    const cf = catFile(this.repo, this.lane);
    const parentsOf = async (sha: string): Promise<string[] | undefined> => {
      const known = SHA_RE.test(sha) ? knownCommit(this.repo, sha) : undefined;
      if (known) return known.parents;
      const o = await cf.read(sha);
      if (!o || o.type !== 'commit') return undefined;
      const header = parseCommit(o.content);
      if (o.sha === sha) rememberCommit(this.repo, sha, header);
      return header.parents;
    };
    const firstParent = async () => (await parentsOf(commit))?.[0];
    if (!/^[A-Za-z0-9._/-]{1,200}$/.test(baseBranch) || baseBranch.startsWith('-')) return firstParent();
    const tip = await cf.read(`refs/heads/${baseBranch}^{commit}`);
    if (!tip) return firstParent();
    const ancestors = await this.ancestorsOf(tip.sha, parentsOf);
    if (!ancestors) {
      const mb = (await this.g.raw(['merge-base', commit, tip.sha]).catch(() => '')).trim();
      return SHA_RE.test(mb) && mb !== commit ? mb : firstParent();
    }
    if (ancestors.has(commit)) return firstParent();
    // Breadth-first from the commit: the first commit that is also an ancestor of the base tip.
    const seen = new Set<string>([commit]);
    let frontier = [commit];
    while (frontier.length) {
      const next: string[] = [];
      for (const c of frontier) {
        for (const p of (await parentsOf(c)) ?? []) {
          if (ancestors.has(p)) return p;
          if (!seen.has(p)) {
            seen.add(p);
            next.push(p);
          }
        }
      }
      frontier = next;
    }
    return firstParent();
  }

  private async ancestorsOf(tip: string, parentsOf: (sha: string) => Promise<string[] | undefined>): Promise<Set<string> | undefined> {
    const key = `${this.repo}\0${tip}`;
    const cached = ANCESTORS.get(key);
    if (cached) return cached;
    const set = new Set<string>([tip]);
    let frontier = [tip];
    while (frontier.length) {
      if (set.size > 50_000) return undefined; // huge history: let git do it
      const next: string[] = [];
      for (const c of frontier) {
        for (const p of (await parentsOf(c)) ?? []) {
          if (!set.has(p)) {
            set.add(p);
            next.push(p);
          }
        }
      }
      frontier = next;
    }
    if (ANCESTORS.size > 256) ANCESTORS.clear();
    ANCESTORS.set(key, set);
    return set;
  }

  /**
   * Files changed between two commits, with +/- counts (binary files flagged). Computed in-process from the
   * same objects as the diff, the file contents and the run's worktree; renames paired as in `diff`.
   */
  async changedFiles(base: string | undefined, commit: string): Promise<ChangedFile[]> {
    return diffStats(catFile(this.repo, this.lane), base, commit);
  }

  /**
   * Unified diff between two commits (optionally one file), with a byte cap. In-process, from the objects
   * themselves: no diff driver, textconv or attribute can change what the reviewer reads.
   */
  async diff(base: string | undefined, commit: string, file?: string, maxBytes = 5 * 1024 * 1024): Promise<{ patch: string; truncated: boolean }> {
    return unifiedDiff(catFile(this.repo, this.lane), base, commit, maxBytes, { file: file === undefined ? undefined : safeRelPath(file), renames: true });
  }

  /** The same diff from the same objects, renames shown as deletion plus addition (what screening reads). */
  async diffInProcess(base: string | undefined, commit: string, maxBytes = 5 * 1024 * 1024): Promise<{ patch: string; truncated: boolean }> {
    return unifiedDiff(catFile(this.repo, this.lane), base, commit, maxBytes);
  }

  /** Content of a file at an exact commit, or undefined if absent (read through the cat-file process). */
  async fileAt(commit: string, file: string): Promise<Buffer | undefined> {
    if (!SHA_RE.test(commit)) throw new GitInputError(`not a full commit id: ${commit}`);
    const rel = safeRelPath(file);
    if (/[\n\r]/.test(rel)) throw new GitInputError('invalid path');
    const o = await catFile(this.repo, this.lane).read(`${commit}:${rel}`).catch(() => undefined);
    return o && o.type === 'blob' ? o.content : undefined;
  }

  /** Is `commit` reachable from (or equal to) some ref of this repo? */
  async hasCommit(commit: string): Promise<boolean> {
    try {
      await this.resolve(commit);
      return true;
    } catch {
      return false;
    }
  }
}

const ANCESTORS = new Map<string, Set<string>>();

/** Commit headers (tree, parents) already read, per repository. A commit is its SHA's content forever, and a hub
 * repository never prunes an object (gc.auto 0, gc.pruneExpire never), so a commit once read there stays
 * resolvable: a proposal of a known commit needs no object read at all. Bounded. */
const COMMITS = new Map<string, { tree: string; parents: string[] }>();

function knownCommit(repo: string, sha: string): { tree: string; parents: string[] } | undefined {
  return COMMITS.get(`${repo}\0${sha}`);
}

function rememberCommit(repo: string, sha: string, header: { tree: string; parents: string[] }): void {
  if (COMMITS.size >= 100_000) COMMITS.clear();
  COMMITS.set(`${repo}\0${sha}`, { tree: header.tree, parents: [...header.parents] });
}
const CAT_FILES = new Map<string, CatFile>();

/** The shared cat-file process of a repository (one per lane). */
function catFile(repo: string, lane: ReadLane): CatFile {
  const key = lane === 'interactive' ? repo : `${lane}\0${repo}`;
  let cf = CAT_FILES.get(key);
  if (!cf) {
    if (CAT_FILES.size > 512) {
      for (const c of CAT_FILES.values()) c.close();
      CAT_FILES.clear();
    }
    cf = new CatFile(repo);
    CAT_FILES.set(key, cf);
  }
  return cf;
}

/** The shared object reader of a repository (review, screening and run checkout all read through it). */
export function objectsOf(repo: string, lane: ReadLane = 'interactive'): CatFile {
  return catFile(repo, lane);
}

export const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';
