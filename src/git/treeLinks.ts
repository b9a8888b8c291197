// Symlinks resolved the way the checked-out tree would resolve them. A textual check of one target alone
// (normalize `dirname(link)/target`) is not enough: `lnk/up -> ..` is harmless on its own and so is
// `lnk/esc -> up/..` read as text, but the kernel follows `up` first, lands on the tree's root and then
// leaves it. Here every target is walked component by component from the link's directory, each component
// that is itself a symlink of the tree is followed (at most 40 in one lookup, like the kernel's ELOOP), `..`
// climbs from where the walk really is, and anything that climbs above the root, ends in .git or loops is
// refused. Paths that collide when letter case and Unicode normalisation are ignored are refused as well: on a
// case-insensitive file system (a reviewer's laptop) `LNK` and `lnk/` would be one directory and the
// resolution above would not hold. Pure: used by the receive check (receiveCheck.ts) and by materialisation
// (materialize.ts). No vscode import.

export interface TreeNode {
  path: string;
  /** Git mode: 100644, 100755 or 120000 (directories are implied by the paths). */
  mode: string;
  /** Symlink target (mode 120000). */
  target?: string;
}

export interface TreeProblem {
  path: string;
  why: string;
}

/** Links followed in one lookup before it counts as a loop (Linux's MAXSYMLINKS). */
export const MAX_LINK_HOPS = 40;

/** The form two names share when a case-insensitive, normalising file system would treat them as one. */
export function foldName(p: string): string {
  return p.normalize('NFC').toLowerCase().normalize('NFC');
}

type Outcome = { kind: 'inside'; at: string[] } | { kind: 'outside' | 'loop' | 'absolute' | 'git'; via: string[] };

const shown = (s: string) => JSON.stringify(s).slice(0, 200);

/**
 * Resolve `target` as the kernel would from directory `dir` (path components from the root), following the
 * tree's own symlinks. `hops` counts links followed in this lookup (shared with the caller); `via` collects
 * `link -> target` steps for the message.
 */
function walk(links: Map<string, string>, dir: string[], target: string, hops: { n: number }, via: string[]): Outcome {
  if (target.startsWith('/')) return { kind: 'absolute', via };
  const stack = [...dir];
  for (const comp of target.split('/')) {
    if (comp === '' || comp === '.') continue;
    if (comp === '..') {
      if (stack.length === 0) return { kind: 'outside', via };
      stack.pop();
      continue;
    }
    const candidate = [...stack, comp].join('/');
    const t = links.get(candidate);
    if (t === undefined) {
      // A directory, a file or nothing: the walk goes on below it (a missing component is treated as a
      // directory the run could create, so `missing/../..` still counts as leaving the tree).
      stack.push(comp);
      if (comp.toLowerCase() === '.git') return { kind: 'git', via };
      continue;
    }
    if (++hops.n > MAX_LINK_HOPS) return { kind: 'loop', via };
    via.push(`${candidate} -> ${t}`);
    const r = walk(links, stack, t, hops, via);
    if (r.kind !== 'inside') return r;
    stack.splice(0, stack.length, ...r.at);
  }
  return { kind: 'inside', at: stack };
}

/** Where a symlink of the tree really points, or why it is refused. */
export function resolveLink(links: Map<string, string>, linkPath: string): { at: string } | { why: string } {
  const target = links.get(linkPath);
  if (target === undefined) return { why: 'not a symlink' };
  const dir = linkPath.split('/').slice(0, -1);
  const via = [`${linkPath} -> ${target}`];
  const r = walk(links, dir, target, { n: 1 }, via);
  const chain = via.length > 1 ? ` (${via.slice(0, 6).map(shown).join(', then ')}${via.length > 6 ? ', ...' : ''})` : '';
  switch (r.kind) {
    case 'inside':
      return { at: r.at.join('/') };
    case 'outside':
      return { why: `a symlink that resolves outside the repository through the tree's own symlinks${chain}` };
    case 'loop':
      return { why: `a symlink loop (more than ${MAX_LINK_HOPS} links followed)${chain}` };
    case 'absolute':
      return { why: `a symlink that resolves to an absolute path${chain}` };
    case 'git':
      return { why: `a symlink that resolves into .git${chain}` };
  }
}

/**
 * Every problem of a whole tree's symlinks and names: links resolving outside (through chains and symlinked
 * parents), into .git, to absolute paths, loops; and paths that collide ignoring case and normalisation.
 */
export function checkTreeLinks(nodes: TreeNode[], maxProblems = 50): TreeProblem[] {
  const problems: TreeProblem[] = [];
  const links = new Map<string, string>();
  for (const n of nodes) if (n.mode === '120000') links.set(n.path, n.target ?? '');
  // Case and normalisation collisions among files, links and the directories they imply.
  const seen = new Map<string, string>();
  const note = (p: string) => {
    const f = foldName(p);
    const other = seen.get(f);
    if (other === undefined) seen.set(f, p);
    else if (other !== p && problems.length < maxProblems) {
      problems.push({ path: p, why: `collides with ${shown(other)} on a file system that ignores letter case or Unicode normalisation` });
    }
  };
  const dirs = new Set<string>();
  for (const n of nodes) {
    note(n.path);
    const parts = n.path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const d = parts.slice(0, i).join('/');
      if (dirs.has(d)) continue;
      dirs.add(d);
      note(d);
    }
  }
  for (const [p] of links) {
    if (problems.length >= maxProblems) break;
    if (dirs.has(p)) {
      problems.push({ path: p, why: 'a symlink that is also a directory of the tree' });
      continue;
    }
    const r = resolveLink(links, p);
    if ('why' in r) problems.push({ path: p, why: r.why });
  }
  return problems;
}
