// Hunk mapping for review comments: which lines of each side of a diff a reviewer may comment on, and
// what each line is. Pure (no vscode): parses a unified diff with jsdiff's parsePatch.
import { parsePatch } from 'diff';

export type Side = 'base' | 'head';

export interface LineRange {
  /** 1-based, inclusive. */
  start: number;
  end: number;
}

export interface HunkInfo {
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
}

export interface FilePatch {
  /** Repo-relative path on the head side (or base side for deletions). */
  path: string;
  oldPath: string | null;
  newPath: string | null;
  hunks: HunkInfo[];
  /** Lines added on the head side / removed on the base side (1-based). */
  added: number[];
  removed: number[];
}

function stripPrefix(name: string | undefined): string | null {
  if (!name || name === '/dev/null') return null;
  let n = name.trim();
  if (n.startsWith('"') && n.endsWith('"') && n.length >= 2) n = n.slice(1, -1);
  if (/^[ab]\//.test(n)) n = n.slice(2);
  return n;
}

/** Parse a (possibly multi-file) unified diff. Malformed input yields the files that did parse, never throws. */
export function parseFilePatches(patch: string): FilePatch[] {
  let parsed: ReturnType<typeof parsePatch>;
  try {
    parsed = parsePatch(patch);
  } catch {
    return [];
  }
  const out: FilePatch[] = [];
  for (const p of parsed) {
    const oldPath = stripPrefix(p.oldFileName);
    const newPath = stripPrefix(p.newFileName);
    const path = newPath ?? oldPath;
    if (!path) continue;
    const fp: FilePatch = { path, oldPath, newPath, hunks: [], added: [], removed: [] };
    for (const h of p.hunks) {
      // jsdiff reports an empty side's start as start+1 for `-0,0`/`+N,0`; normalise from the lines.
      fp.hunks.push({ oldStart: h.oldStart, oldLines: h.oldLines, newStart: h.newStart, newLines: h.newLines });
      let o = h.oldStart;
      let n = h.newStart;
      for (const l of h.lines) {
        const c = l[0];
        if (c === '+') fp.added.push(n++);
        else if (c === '-') fp.removed.push(o++);
        else if (c === ' ' || l === '') {
          o++;
          n++;
        }
      }
    }
    out.push(fp);
  }
  return out;
}

/** Find the patch of one file (by head or base path). */
export function patchForFile(patch: string, file: string): FilePatch | undefined {
  const all = parseFilePatches(patch);
  return all.find((f) => f.newPath === file) ?? all.find((f) => f.oldPath === file);
}

/** Ranges of one side a reviewer may comment on: every line inside a hunk on that side. Merged, sorted. */
export function commentingRanges(fp: FilePatch | undefined, side: Side): LineRange[] {
  if (!fp) return [];
  const ranges: LineRange[] = [];
  for (const h of fp.hunks) {
    const start = side === 'head' ? h.newStart : h.oldStart;
    const len = side === 'head' ? h.newLines : h.oldLines;
    if (len <= 0) continue;
    ranges.push({ start, end: start + len - 1 });
  }
  ranges.sort((a, b) => a.start - b.start);
  const merged: LineRange[] = [];
  for (const r of ranges) {
    const last = merged[merged.length - 1];
    if (last && r.start <= last.end + 1) last.end = Math.max(last.end, r.end);
    else merged.push({ ...r });
  }
  return merged;
}

/** Is a 1-based line of a side inside a commenting range? */
export function isCommentable(ranges: readonly LineRange[], line: number): boolean {
  let lo = 0;
  let hi = ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = ranges[mid]!;
    if (line < r.start) hi = mid - 1;
    else if (line > r.end) lo = mid + 1;
    else return true;
  }
  return false;
}

/** Nearest commentable line to `line` (for comments whose line drifted, or screening links). */
export function nearestCommentable(ranges: readonly LineRange[], line: number): number | undefined {
  let best: number | undefined;
  let dist = Infinity;
  for (const r of ranges) {
    const l = Math.min(Math.max(line, r.start), r.end);
    const d = Math.abs(l - line);
    if (d < dist) {
      dist = d;
      best = l;
    }
  }
  return best;
}
