// Check out a commit's tree into a directory from the objects themselves, through the same object reader that
// serves the review diff and the file contents: the bytes the reviewer saw are the bytes that run. No git
// checkout runs, so no attribute (eol, filter, ident, working-tree-encoding) and no driver can change a byte.
// Every written file is hashed again and compared with its blob id before the run may start. No vscode import.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CatFile } from './catFile';
import { parseCommit } from './catFile';
import { checkEntryName, checkSymlink, parseTreeEntries } from './receiveCheck';
import { checkTreeLinks } from './treeLinks';

export class MaterializeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MaterializeError';
  }
}

export interface MaterializedFile {
  path: string;
  mode: string;
  sha: string;
}

const blobId = (content: Buffer) => createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');

/** All blobs of a tree, with their paths, after the same checks as on receive. */
export async function listTree(cf: CatFile, tree: string, maxFiles = 100_000): Promise<MaterializedFile[]> {
  const out: MaterializedFile[] = [];
  const walk = async (sha: string, prefix: string, depth: number) => {
    if (depth > 64) throw new MaterializeError('tree nested too deep');
    const o = await cf.read(sha);
    if (!o || o.type !== 'tree') throw new MaterializeError(`tree ${sha.slice(0, 12)} is missing`);
    for (const e of parseTreeEntries(o.content)) {
      const p = prefix + e.name;
      const why = checkEntryName(e.name);
      if (why) throw new MaterializeError(`${JSON.stringify(p)}: ${why}`);
      if (e.mode === '40000') await walk(e.sha, p + '/', depth + 1);
      else if (e.mode === '160000') throw new MaterializeError(`${JSON.stringify(p)}: submodules are not accepted`);
      else if (e.mode === '100644' || e.mode === '100755' || e.mode === '120000') out.push({ path: p, mode: e.mode, sha: e.sha });
      else throw new MaterializeError(`${JSON.stringify(p)}: unsupported file mode ${e.mode}`);
      if (out.length > maxFiles) throw new MaterializeError(`more than ${maxFiles} files`);
    }
  };
  await walk(tree, '', 0);
  return out;
}

/**
 * Write exactly the tree of `commit` (which must have tree `tree`) into `dir` (created; must not exist).
 * Every symlink is resolved through the tree's own symlinks first (treeLinks.ts), before anything is written;
 * then regular files and directories (no directory component may be a symlink), symlinks last; then every
 * file is read back and hashed against its blob id.
 */
export async function materialize(cf: CatFile, commit: string, tree: string, dir: string): Promise<MaterializedFile[]> {
  const c = await cf.read(`${commit}^{commit}`);
  if (!c || c.type !== 'commit' || c.sha !== commit) throw new MaterializeError(`commit ${commit.slice(0, 12)} does not exist in the hub repository`);
  const actual = parseCommit(c.content).tree;
  if (actual !== tree) throw new MaterializeError(`commit ${commit.slice(0, 12)} has tree ${actual.slice(0, 12)}, the approved tree is ${tree.slice(0, 12)}`);
  const files = await listTree(cf, tree);
  // Every symlink first, resolved through the tree's own symlinks, before a single byte is written.
  const targets = new Map<string, string>();
  for (const f of files) {
    if (f.mode !== '120000') continue;
    const o = await cf.read(f.sha);
    if (!o || o.type !== 'blob') throw new MaterializeError(`blob of ${JSON.stringify(f.path)} is missing`);
    const target = o.content.toString('utf8');
    const why = checkSymlink(f.path, target);
    if (why) throw new MaterializeError(`${JSON.stringify(f.path)}: ${why}`);
    targets.set(f.path, target);
  }
  const problem = checkTreeLinks(files.map((f) => ({ path: f.path, mode: f.mode, target: targets.get(f.path) })), 1)[0];
  if (problem) throw new MaterializeError(`${JSON.stringify(problem.path)}: ${problem.why}`);
  fs.mkdirSync(dir, { recursive: false, mode: 0o755 });
  const links: { file: MaterializedFile; target: string }[] = [];
  for (const f of files) {
    const target = targets.get(f.path);
    if (target !== undefined) {
      links.push({ file: f, target });
      continue;
    }
    const o = await cf.read(f.sha);
    if (!o || o.type !== 'blob') throw new MaterializeError(`blob of ${JSON.stringify(f.path)} is missing`);
    const abs = path.join(dir, f.path);
    mkdirsNoFollow(dir, path.dirname(f.path));
    const fd = fs.openSync(abs, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, f.mode === '100755' ? 0o755 : 0o644);
    try {
      fs.writeSync(fd, o.content);
    } finally {
      fs.closeSync(fd);
    }
  }
  for (const { file, target } of links) {
    const abs = path.join(dir, file.path);
    mkdirsNoFollow(dir, path.dirname(file.path));
    fs.symlinkSync(target, abs);
  }
  const why = await verifyMaterialized(cf, dir, files);
  if (why) throw new MaterializeError(why);
  return files;
}

/**
 * Create `rel` (a directory path inside `root`) one component at a time, refusing any component that exists as
 * anything but a real directory: nothing is ever written through a symlink, whatever the tree holds.
 */
function mkdirsNoFollow(root: string, rel: string): void {
  let cur = root;
  for (const part of rel.split('/')) {
    if (part === '' || part === '.') continue;
    cur = path.join(cur, part);
    let st: fs.Stats | undefined;
    try {
      st = fs.lstatSync(cur);
    } catch {
      st = undefined;
    }
    if (!st) fs.mkdirSync(cur, { mode: 0o755 });
    else if (!st.isDirectory()) throw new MaterializeError(`${JSON.stringify(path.relative(root, cur))} is not a directory in the run's worktree (a symlink or file where the tree has a directory)`);
  }
}

/** Re-read a materialized directory and compare it with the tree listing; a reason if it differs. */
export async function verifyMaterialized(_cf: CatFile, dir: string, files: MaterializedFile[]): Promise<string | undefined> {
  const expected = new Set(files.map((f) => f.path));
  for (const f of files) {
    const abs = path.join(dir, f.path);
    let st: fs.Stats;
    try {
      st = fs.lstatSync(abs);
    } catch {
      return `${JSON.stringify(f.path)} is missing from the run's worktree`;
    }
    const content = f.mode === '120000' ? (st.isSymbolicLink() ? Buffer.from(fs.readlinkSync(abs)) : undefined) : st.isFile() ? fs.readFileSync(abs) : undefined;
    if (!content || blobId(content) !== f.sha) return `${JSON.stringify(f.path)} in the run's worktree differs from the approved commit`;
    if (f.mode !== '120000' && Boolean(st.mode & 0o100) !== (f.mode === '100755')) return `${JSON.stringify(f.path)} has the wrong mode`;
  }
  // Nothing extra: walk the directory (without following symlinks).
  const walk = (rel: string): string | undefined => {
    for (const name of fs.readdirSync(path.join(dir, rel))) {
      const r = rel ? `${rel}/${name}` : name;
      const st = fs.lstatSync(path.join(dir, r));
      if (st.isDirectory()) {
        const w = walk(r);
        if (w) return w;
      } else if (!expected.has(r)) return `${JSON.stringify(r)} in the run's worktree is not part of the approved commit`;
    }
    return undefined;
  };
  return walk('');
}
