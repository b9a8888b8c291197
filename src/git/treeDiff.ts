// In-process unified diff between two commits: tree objects are compared through the repository's
// cat-file process (only subtrees whose ids differ are opened) and text files are diffed with jsdiff.
// No process is spawned, which keeps proposal screening off the hub's event loop (a fork of a large Node
// process costs tens of milliseconds of blocked loop). Renames appear as a deletion plus an addition.
import { structuredPatch } from 'diff';
import type { CatFile } from './catFile';
import type { ChangedFile } from './sandbox';
import { EMPTY_TREE_SHA, parseCommit } from './catFile';
import { parseTreeEntries } from './receiveCheck';

interface Entry {
  mode: string;
  sha: string;
}

const BINARY_PROBE = 8000;

function isBinary(b: Buffer): boolean {
  return b.subarray(0, BINARY_PROBE).includes(0);
}

function parseTree(content: Buffer): Map<string, Entry> {
  return new Map(parseTreeEntries(content).map((e) => [e.name, { mode: e.mode, sha: e.sha }]));
}

const isTree = (e: Entry | undefined) => e?.mode === '40000';

export interface TreeChange {
  path: string;
  /** Set on renames: where the file was before. */
  oldPath?: string;
  /** Similarity of a rename, 0-100. */
  similarity?: number;
  old?: Entry;
  new?: Entry;
}

const RENAME_MIN_SIMILARITY = 50;
const RENAME_MAX_CANDIDATES = 100;

/** Share of lines two texts have in common (0-100), as git's similarity index roughly measures it. */
function similarity(a: Buffer, b: Buffer): number {
  if (a.equals(b)) return 100;
  if (isBinary(a) || isBinary(b)) return 0;
  const p = structuredPatch('a', 'b', a.toString('utf8'), b.toString('utf8'), undefined, undefined, { context: 0 });
  let changed = 0;
  for (const h of p.hunks) for (const l of h.lines) if (l[0] === '+' || l[0] === '-') changed++;
  const total = a.toString('utf8').split('\n').length + b.toString('utf8').split('\n').length;
  return total ? Math.max(0, Math.round(100 * (1 - changed / total))) : 100;
}

/**
 * Pair deletions with additions into renames: identical blobs first, then files at least 50% similar
 * (bounded: at most 100 deleted and 100 added candidates are compared).
 */
export async function pairRenames(cf: CatFile, changes: TreeChange[]): Promise<TreeChange[]> {
  const deleted = changes.filter((c) => c.old && !c.new && c.old.mode !== '120000');
  const added = changes.filter((c) => c.new && !c.old && c.new.mode !== '120000');
  if (!deleted.length || !added.length) return changes;
  const taken = new Set<TreeChange>();
  const renamed = new Map<TreeChange, TreeChange>();
  for (const a of added) {
    const d = deleted.find((x) => !taken.has(x) && x.old!.sha === a.new!.sha);
    if (d) taken.add(d), renamed.set(a, { path: a.path, oldPath: d.path, similarity: 100, old: d.old, new: a.new });
  }
  const restD = deleted.filter((d) => !taken.has(d)).slice(0, RENAME_MAX_CANDIDATES);
  const restA = added.filter((a) => !renamed.has(a)).slice(0, RENAME_MAX_CANDIDATES);
  if (restD.length && restA.length) {
    const content = new Map<string, Buffer>();
    const read = async (sha: string) => content.get(sha) ?? content.set(sha, (await cf.read(sha))?.content ?? Buffer.alloc(0)).get(sha)!;
    for (const a of restA) {
      let best: { d: TreeChange; s: number } | undefined;
      for (const d of restD) {
        if (taken.has(d)) continue;
        const s = similarity(await read(d.old!.sha), await read(a.new!.sha));
        if (s >= RENAME_MIN_SIMILARITY && (!best || s > best.s)) best = { d, s };
      }
      if (best) taken.add(best.d), renamed.set(a, { path: a.path, oldPath: best.d.path, similarity: best.s, old: best.d.old, new: a.new });
    }
  }
  return changes.filter((c) => !taken.has(c)).map((c) => renamed.get(c) ?? c);
}

async function treeOf(cf: CatFile, rev: string | undefined): Promise<string> {
  if (!rev) return EMPTY_TREE_SHA;
  const o = await cf.read(`${rev}^{commit}`);
  if (!o) throw new Error(`commit ${rev} does not exist`);
  return parseCommit(o.content).tree;
}

async function entries(cf: CatFile, tree: string | undefined): Promise<Map<string, Entry>> {
  if (!tree || tree === EMPTY_TREE_SHA) return new Map();
  const o = await cf.read(tree);
  return o && o.type === 'tree' ? parseTree(o.content) : new Map();
}

/** Blob-level changes between two trees, recursing only into differing subtrees. */
export async function changedBlobs(cf: CatFile, base: string | undefined, head: string): Promise<TreeChange[]> {
  const out: TreeChange[] = [];
  const walk = async (a: string | undefined, b: string | undefined, prefix: string) => {
    if (a === b) return;
    const [ea, eb] = await Promise.all([entries(cf, a), entries(cf, b)]);
    const names = [...new Set([...ea.keys(), ...eb.keys()])].sort();
    for (const name of names) {
      const x = ea.get(name);
      const y = eb.get(name);
      if (x && y && x.sha === y.sha && x.mode === y.mode) continue;
      const p = prefix + name;
      if (isTree(x) || isTree(y)) {
        await walk(isTree(x) ? x!.sha : undefined, isTree(y) ? y!.sha : undefined, p + '/');
        if (x && !isTree(x)) out.push({ path: p, old: x });
        if (y && !isTree(y)) out.push({ path: p, new: y });
      } else if (x?.mode === '160000' || y?.mode === '160000') {
        continue; // submodules are not part of a sandbox diff
      } else {
        out.push({ path: p, old: x, new: y });
      }
    }
  };
  await walk(await treeOf(cf, base), await treeOf(cf, head), '');
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** A git-style unified diff (3 lines of context) between two commits, capped at maxBytes. */
export async function unifiedDiff(
  cf: CatFile,
  base: string | undefined,
  head: string,
  maxBytes: number,
  opts: { file?: string; renames?: boolean } = {},
): Promise<{ patch: string; truncated: boolean }> {
  let changes = await changedBlobs(cf, base, head);
  if (opts.renames) changes = await pairRenames(cf, changes);
  if (opts.file !== undefined) changes = changes.filter((c) => c.path === opts.file || c.oldPath === opts.file);
  const parts: string[] = [];
  let size = 0;
  for (const c of changes) {
    const [a, b] = await Promise.all([
      c.old ? cf.read(c.old.sha).then((o) => o?.content ?? Buffer.alloc(0)) : Promise.resolve(undefined),
      c.new ? cf.read(c.new.sha).then((o) => o?.content ?? Buffer.alloc(0)) : Promise.resolve(undefined),
    ]);
    const oldPath = c.oldPath ?? c.path;
    const head = [`diff --git a/${oldPath} b/${c.path}`];
    if (!c.old) head.push(`new file mode ${c.new!.mode}`);
    else if (!c.new) head.push(`deleted file mode ${c.old.mode}`);
    else if (c.old.mode !== c.new.mode) head.push(`old mode ${c.old.mode}`, `new mode ${c.new.mode}`);
    if (c.oldPath !== undefined) head.push(`similarity index ${c.similarity ?? 100}%`, `rename from ${c.oldPath}`, `rename to ${c.path}`);
    const from = c.old ? `a/${oldPath}` : '/dev/null';
    const to = c.new ? `b/${c.path}` : '/dev/null';
    let text: string;
    if ((a && isBinary(a)) || (b && isBinary(b))) {
      text = head.join('\n') + `\nBinary files ${from} and ${to} differ\n`;
    } else {
      const p = structuredPatch(from, to, a?.toString('utf8') ?? '', b?.toString('utf8') ?? '', undefined, undefined, { context: 3 });
      if (!p.hunks.length) {
        text = head.join('\n') + '\n';
      } else {
        const lines = [...head, `--- ${from}`, `+++ ${to}`];
        for (const h of p.hunks) {
          lines.push(`@@ -${h.oldLines === 0 ? h.oldStart - 1 : h.oldStart},${h.oldLines} +${h.newLines === 0 ? h.newStart - 1 : h.newStart},${h.newLines} @@`);
          lines.push(...h.lines);
        }
        text = lines.join('\n') + '\n';
      }
    }
    size += Buffer.byteLength(text);
    if (size > maxBytes) return { patch: parts.join(''), truncated: true };
    parts.push(text);
  }
  return { patch: parts.join(''), truncated: false };
}

/** Changed files with line counts, from the same blobs and the same line diff as `unifiedDiff`. */
export async function diffStats(cf: CatFile, base: string | undefined, head: string): Promise<ChangedFile[]> {
  const out: ChangedFile[] = [];
  for (const c of await pairRenames(cf, await changedBlobs(cf, base, head))) {
    const [a, b] = await Promise.all([c.old ? cf.read(c.old.sha).then((o) => o?.content) : undefined, c.new ? cf.read(c.new.sha).then((o) => o?.content) : undefined]);
    const status: ChangedFile['status'] =
      c.oldPath !== undefined ? 'R' : !c.old ? 'A' : !c.new ? 'D' : (c.old.mode === '120000') !== (c.new.mode === '120000') ? 'T' : 'M';
    const binary = Boolean((a && isBinary(a)) || (b && isBinary(b)));
    let additions = 0;
    let deletions = 0;
    if (!binary) {
      const p = structuredPatch('a', 'b', a?.toString('utf8') ?? '', b?.toString('utf8') ?? '', undefined, undefined, { context: 0 });
      for (const h of p.hunks) for (const l of h.lines) l[0] === '+' ? additions++ : l[0] === '-' ? deletions++ : 0;
    }
    out.push({ path: c.path, ...(c.oldPath !== undefined ? { oldPath: c.oldPath } : {}), status, additions, deletions, binary });
  }
  return out;
}
