// Checks on receive: what an agent may put into its hub-owned repository. Run by the hub's pre-receive hook
// (receiveHook.ts) for pushes over smart HTTP and for imports from local working copies alike, with the
// pushed objects still in git's quarantine (the hook's environment names it). Each refusal is one line of
// plain ASCII that names the ref, commit or path and the rule; git shows it to the pusher as `remote: ...`
// and reports the ref as `[remote rejected] (pre-receive hook declined)`. No vscode import.
import * as path from 'node:path';
import { runGit } from './exec';
import { checkTreeLinks, type TreeNode } from './treeLinks';

export interface ReceiveLimits {
  /** Largest blob (file) in bytes. */
  maxBlobBytes: number;
  /** Longest commit message in bytes. */
  maxMessageBytes: number;
  /** Most new commits one push may bring. */
  maxNewCommits: number;
  /** Most files in one tip tree. */
  maxFiles: number;
  /** Longest repository path. */
  maxPathBytes: number;
}

export const DEFAULT_RECEIVE_LIMITS: ReceiveLimits = {
  maxBlobBytes: 20 * 1024 * 1024,
  maxMessageBytes: 64 * 1024,
  maxNewCommits: 5000,
  maxFiles: 50_000,
  maxPathBytes: 1024,
};

export interface RefUpdate {
  oldSha: string;
  newSha: string;
  ref: string;
}

const ZERO = /^0{40}$/;
const SHA = /^[0-9a-f]{40}$/;

/** Name a code point the way a reviewer can read it: `U+200B`. */
function cp(ch: string): string {
  return 'U+' + ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
}

/** A string as ASCII: printable ASCII kept, anything else as <U+XXXX> (messages never carry raw controls). */
export function asciiSafe(s: string, max = 200): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    out += c >= 0x20 && c < 0x7f ? ch : `<${cp(ch)}>`;
    if (out.length > max) return out.slice(0, max) + '...';
  }
  return out;
}

/**
 * Ref names: only branches and tags, ASCII letters, digits and `. _ / -`, with git's own structural rules.
 * Anything else (controls, bidi overrides, zero-width or confusable characters) is refused: a ref name is shown
 * to the reviewer as the branch an experiment came from, and must read as what it is.
 */
export function checkRefName(ref: string): string | undefined {
  const shown = asciiSafe(ref);
  if (!/^refs\/(heads|tags)\//.test(ref)) return `refusing ${shown}: only refs/heads/* and refs/tags/* may be pushed`;
  const odd = [...ref].find((ch) => !/[A-Za-z0-9._/-]/.test(ch));
  if (odd !== undefined) {
    return `refusing ${shown}: ref names may hold only ASCII letters, digits and . _ / - (found ${cp(odd)})`;
  }
  if (ref.length > 200) return `refusing ${shown}: ref name longer than 200 characters`;
  const parts = ref.split('/');
  if (ref.includes('..') || ref.endsWith('/') || ref.endsWith('.') || parts.some((p) => p === '' || p.startsWith('.') || p.endsWith('.lock'))) {
    return `refusing ${shown}: not a well-formed ref name`;
  }
  return undefined;
}

/** One tree entry name; undefined if acceptable. */
export function checkEntryName(name: string): string | undefined {
  if (name === '' || name === '.' || name === '..') return 'an empty, "." or ".." path component';
  if (name.includes('/') || name.includes('\\')) return 'a slash or backslash inside a file name';
  const c = [...name].find((ch) => ch.codePointAt(0)! < 0x20 || ch.codePointAt(0) === 0x7f);
  if (c !== undefined) return `a control character (${cp(c)}) in a file name`;
  // .git in any case, with trailing dots or spaces (Windows strips them) or as the 8.3 short name.
  const folded = name.toLowerCase().replace(/[. ]+$/, '');
  if (folded === '.git' || folded === 'git~1') return 'a .git path component';
  if (folded === '.gitmodules') return 'a .gitmodules file (submodules are not accepted)';
  return undefined;
}

/** Does a symlink at `linkPath` with `target` stay inside the tree (and out of .git)? */
export function checkSymlink(linkPath: string, target: string): string | undefined {
  if (!target) return 'an empty symlink target';
  if (target.includes('\0')) return 'a NUL byte in a symlink target';
  if (target.startsWith('/') || /^[A-Za-z]:/.test(target) || target.startsWith('\\')) return `an absolute symlink target (${asciiSafe(target)})`;
  const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(linkPath), target));
  if (resolved === '..' || resolved.startsWith('../')) return `a symlink pointing outside the repository (${asciiSafe(target)})`;
  if (resolved.split('/').some((s) => s.toLowerCase() === '.git')) return `a symlink into .git (${asciiSafe(target)})`;
  return undefined;
}

interface TreeEntry {
  mode: string;
  name: string;
  sha: string;
}

/** Parse a raw tree object. */
export function parseTreeEntries(content: Buffer): TreeEntry[] {
  const out: TreeEntry[] = [];
  let i = 0;
  while (i < content.length) {
    const sp = content.indexOf(0x20, i);
    const nul = sp < 0 ? -1 : content.indexOf(0, sp);
    if (sp < 0 || nul < 0 || nul + 21 > content.length) throw new Error('malformed tree object');
    out.push({
      mode: content.subarray(i, sp).toString('latin1'),
      name: content.subarray(sp + 1, nul).toString('utf8'),
      sha: content.subarray(nul + 1, nul + 21).toString('hex'),
    });
    i = nul + 21;
  }
  return out;
}

/** Read many objects at once through one `cat-file --batch` (quarantine-aware through the environment). */
async function readObjects(repo: string, shas: string[], env: Record<string, string>): Promise<Map<string, { type: string; content: Buffer }>> {
  const out = new Map<string, { type: string; content: Buffer }>();
  if (!shas.length) return out;
  const buf = await runGit(repo, ['cat-file', '--batch'], { env, input: shas.join('\n') + '\n', binary: true, maxBuffer: 2 * 1024 * 1024 * 1024 });
  let i = 0;
  while (i < buf.length) {
    const nl = buf.indexOf(0x0a, i);
    if (nl < 0) break;
    const [sha, type, size] = buf.subarray(i, nl).toString('latin1').split(' ');
    if (type === 'missing' || !sha || !type || size === undefined) {
      i = nl + 1;
      continue;
    }
    const n = Number(size);
    out.set(sha, { type, content: buf.subarray(nl + 1, nl + 1 + n) });
    i = nl + 1 + n + 1;
  }
  return out;
}

async function batchCheck(repo: string, shas: string[], env: Record<string, string>): Promise<Map<string, { type: string; size: number }>> {
  const out = new Map<string, { type: string; size: number }>();
  if (!shas.length) return out;
  const text = await runGit(repo, ['cat-file', '--batch-check=%(objectname) %(objecttype) %(objectsize)'], { env, input: shas.join('\n') + '\n' });
  for (const line of text.split('\n')) {
    const [sha, type, size] = line.split(' ');
    if (sha && type && type !== 'missing' && size !== undefined) out.set(sha, { type, size: Number(size) });
  }
  return out;
}

/**
 * Check a push. `env` carries git's quarantine variables (GIT_OBJECT_DIRECTORY, GIT_ALTERNATE_OBJECT_DIRECTORIES,
 * GIT_QUARANTINE_PATH) so the pushed objects are visible. Returns the refusals (empty = accept).
 */
export async function checkPush(repo: string, updates: RefUpdate[], env: Record<string, string>, limits: ReceiveLimits = DEFAULT_RECEIVE_LIMITS): Promise<string[]> {
  const errors: string[] = [];
  for (const u of updates) {
    if (!SHA.test(u.oldSha) || !SHA.test(u.newSha)) {
      errors.push(`refusing ${asciiSafe(u.ref)}: malformed update`);
      continue;
    }
    const bad = checkRefName(u.ref);
    if (bad) {
      errors.push(bad);
      continue;
    }
    if (ZERO.test(u.newSha)) continue; // deleting one's own branch or tag
    errors.push(...(await checkTip(repo, u, env, limits)));
  }
  return errors;
}

async function checkTip(repo: string, u: RefUpdate, env: Record<string, string>, limits: ReceiveLimits): Promise<string[]> {
  const errors: string[] = [];
  const at = (sha: string) => `${asciiSafe(u.ref)} (${sha.slice(0, 12)})`;
  const tip = (await batchCheck(repo, [`${u.newSha}^{commit}`], env)).values().next().value;
  if (!tip || tip.type !== 'commit') return [`refusing ${asciiSafe(u.ref)}: ${u.newSha.slice(0, 12)} is not a commit`];
  // New commits and new objects (everything not reachable from the refs the repository already has).
  const revs = (await runGit(repo, ['rev-list', '--objects', u.newSha, '--not', '--all'], { env })).split('\n').filter(Boolean);
  const paths = new Map<string, string>();
  for (const r of revs) {
    const sp = r.indexOf(' ');
    paths.set(sp < 0 ? r : r.slice(0, sp), sp < 0 ? '' : r.slice(sp + 1));
  }
  const info = await batchCheck(repo, [...paths.keys()], env);
  const commits = [...info].filter(([, v]) => v.type === 'commit').map(([k]) => k);
  if (commits.length > limits.maxNewCommits) {
    return [`refusing ${asciiSafe(u.ref)}: ${commits.length} new commits in one push (at most ${limits.maxNewCommits}); push in smaller steps`];
  }
  for (const [sha, v] of info) {
    if (v.type === 'blob' && v.size > limits.maxBlobBytes) {
      errors.push(`refusing ${at(u.newSha)}: file ${asciiSafe(paths.get(sha) ?? sha)} is ${v.size} bytes (at most ${limits.maxBlobBytes})`);
    }
  }
  const objects = await readObjects(repo, [...info].filter(([, v]) => v.type === 'commit' || v.type === 'tree').map(([k]) => k), env);
  for (const [sha, o] of objects) {
    if (o.type === 'commit') {
      const body = o.content.indexOf('\n\n');
      const msgBytes = body < 0 ? 0 : o.content.length - body - 2;
      if (msgBytes > limits.maxMessageBytes) errors.push(`refusing ${at(sha)}: commit message of ${msgBytes} bytes (at most ${limits.maxMessageBytes})`);
      continue;
    }
    let entries: TreeEntry[];
    try {
      entries = parseTreeEntries(o.content);
    } catch {
      errors.push(`refusing ${at(u.newSha)}: malformed tree ${sha.slice(0, 12)}`);
      continue;
    }
    const dir = paths.get(sha) ?? '';
    for (const e of entries) {
      const where = asciiSafe(dir ? `${dir}/${e.name}` : e.name);
      const why = checkEntryName(e.name);
      if (why) errors.push(`refusing ${at(u.newSha)}: ${where}: ${why}`);
      if (e.mode === '160000') errors.push(`refusing ${at(u.newSha)}: ${where}: submodules are not accepted`);
      else if (!['40000', '100644', '100755', '120000'].includes(e.mode)) errors.push(`refusing ${at(u.newSha)}: ${where}: unsupported file mode ${asciiSafe(e.mode)}`);
    }
  }
  if (errors.length) return errors;
  // The tip's whole tree: every symlink must stay inside it; sizes of the listing itself are bounded.
  const listing = (await runGit(repo, ['ls-tree', '-r', '-z', '--full-tree', u.newSha], { env })).split('\0').filter(Boolean);
  if (listing.length > limits.maxFiles) return [`refusing ${at(u.newSha)}: ${listing.length} files (at most ${limits.maxFiles})`];
  const links: { path: string; sha: string }[] = [];
  const nodes: TreeNode[] = [];
  for (const rec of listing) {
    const tab = rec.indexOf('\t');
    const [mode, , sha] = rec.slice(0, tab).split(' ');
    const p = rec.slice(tab + 1);
    if (Buffer.byteLength(p) > limits.maxPathBytes) errors.push(`refusing ${at(u.newSha)}: path longer than ${limits.maxPathBytes} bytes: ${asciiSafe(p, 80)}`);
    if (mode === '120000' && sha) links.push({ path: p, sha });
    else nodes.push({ path: p, mode: mode ?? '' });
  }
  const targets = await readObjects(repo, [...new Set(links.map((l) => l.sha))], env);
  for (const l of links) {
    const target = targets.get(l.sha)?.content.toString('utf8') ?? '';
    nodes.push({ path: l.path, mode: '120000', target });
    const why = checkSymlink(l.path, target);
    if (why) errors.push(`refusing ${at(u.newSha)}: ${asciiSafe(l.path)}: ${why}`);
  }
  if (errors.length) return errors;
  // The links as the checked-out tree resolves them: chains, symlinked parents, loops, case collisions.
  for (const p of checkTreeLinks(nodes)) errors.push(`refusing ${at(u.newSha)}: ${asciiSafe(p.path)}: ${p.why}`);
  return errors;
}

/** Parse pre-receive's stdin: one `<old> <new> <ref>` line per update. */
export function parseUpdates(stdin: string): RefUpdate[] {
  return stdin
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [oldSha = '', newSha = '', ...rest] = l.split(' ');
      return { oldSha, newSha, ref: rest.join(' ') };
    });
}
