// In-process unified diff between two commits: tree objects are compared through the repository's
// cat-file process (only subtrees whose ids differ are opened) and text files are diffed with jsdiff.
// No process is spawned, which keeps proposal screening off the hub's event loop (a fork of a large Node
// process costs tens of milliseconds of blocked loop). Renames appear as a deletion plus an addition.
import { structuredPatch } from 'diff';
import type { CatFile } from './catFile';
import { EMPTY_TREE_SHA, parseCommit } from './catFile';

interface Entry {
  mode: string;
  sha: string;
}

const BINARY_PROBE = 8000;

function isBinary(b: Buffer): boolean {
  return b.subarray(0, BINARY_PROBE).includes(0);
}

function parseTree(content: Buffer): Map<string, Entry> {
  const out = new Map<string, Entry>();
  let i = 0;
  while (i < content.length) {
    const sp = content.indexOf(0x20, i);
    const nul = content.indexOf(0, sp);
    if (sp < 0 || nul < 0 || nul + 21 > content.length) break;
    const mode = content.subarray(i, sp).toString('latin1');
    const name = content.subarray(sp + 1, nul).toString('utf8');
    const sha = content.subarray(nul + 1, nul + 21).toString('hex');
    out.set(name, { mode, sha });
    i = nul + 21;
  }
  return out;
}

const isTree = (e: Entry | undefined) => e?.mode === '40000';

export interface TreeChange {
  path: string;
  old?: Entry;
  new?: Entry;
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
export async function unifiedDiff(cf: CatFile, base: string | undefined, head: string, maxBytes: number): Promise<{ patch: string; truncated: boolean }> {
  const changes = await changedBlobs(cf, base, head);
  const parts: string[] = [];
  let size = 0;
  for (const c of changes) {
    const [a, b] = await Promise.all([
      c.old ? cf.read(c.old.sha).then((o) => o?.content ?? Buffer.alloc(0)) : Promise.resolve(undefined),
      c.new ? cf.read(c.new.sha).then((o) => o?.content ?? Buffer.alloc(0)) : Promise.resolve(undefined),
    ]);
    const head = [`diff --git a/${c.path} b/${c.path}`];
    if (!c.old) head.push(`new file mode ${c.new!.mode}`);
    else if (!c.new) head.push(`deleted file mode ${c.old.mode}`);
    else if (c.old.mode !== c.new.mode) head.push(`old mode ${c.old.mode}`, `new mode ${c.new.mode}`);
    const from = c.old ? `a/${c.path}` : '/dev/null';
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
