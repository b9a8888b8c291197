// Turns a unified diff into what the detectors need: per file, the added lines with their line number at the
// pinned commit (new side), the removed lines anchored on the new side, and the visible new-side window (added +
// context lines). Robust to binary diffs, renames, deletions, malformed hunks, huge diffs and non-UTF-8 bytes.
import { parsePatch } from 'diff';
import type { StructuredPatch } from 'diff';

export type FileStatus = 'added' | 'modified' | 'deleted' | 'renamed' | 'copied';

export interface NumberedLine {
  /** 1-based line number in the file at the pinned commit (new side). For removed lines: the new-side line
   * right after the removal point (where a reviewer would put a comment), at least 1. */
  line: number;
  text: string;
}

export interface ChangedFile {
  /** Path at the pinned commit (new side); for a deletion, the old path. */
  path: string;
  oldPath?: string;
  status: FileStatus;
  binary: boolean;
  added: NumberedLine[];
  removed: NumberedLine[];
  /** New-side lines visible in the diff (context + added), keyed by line number. */
  window: Map<number, string>;
  /** Full content at the pinned commit when the caller could provide it. */
  content?: string[];
}

export interface ParsedProposalDiff {
  files: ChangedFile[];
  /** Set when the diff exceeded the cap; the rest was not screened. */
  truncated?: { totalChars: number; keptChars: number; droppedFiles: number };
  /** Set when a part of the diff could not be parsed. */
  parseErrors: string[];
  /** U+FFFD replacement characters seen (bytes that were not valid UTF-8 when decoded upstream). */
  replacementChars: number;
}

export const DEFAULT_MAX_DIFF_CHARS = 2_000_000;

function stripPrefix(name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  let n = name.trim();
  // "--- a/foo\t2024-..." headers from GNU diff carry a timestamp after a tab; parsePatch already splits on tab.
  if (n === '/dev/null') return n;
  if (n.startsWith('a/') || n.startsWith('b/')) n = n.slice(2);
  return n;
}

/** Split a multi-file git diff into per-file chunks so that one malformed file does not lose the rest. */
function splitByFile(diffText: string): string[] {
  const lines = diffText.split('\n');
  const chunks: string[] = [];
  let cur: string[] = [];
  for (const l of lines) {
    if (l.startsWith('diff --git ') && cur.length > 0) {
      chunks.push(cur.join('\n'));
      cur = [];
    }
    cur.push(l);
  }
  if (cur.length > 0) chunks.push(cur.join('\n'));
  return chunks;
}

/** Rewrite every `@@ -a,b +c,d @@` header with the counts of the lines that actually follow it. */
export function repairHunkHeaders(chunk: string): string {
  const lines = chunk.split('\n');
  const out: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const m = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@(.*)$/.exec(lines[i]!);
    if (!m) {
      out.push(lines[i]!);
      i++;
      continue;
    }
    let j = i + 1;
    let oldN = 0;
    let newN = 0;
    const body: string[] = [];
    while (j < lines.length && !/^(@@ |diff --git |--- |\+\+\+ )/.test(lines[j]!)) {
      const l = lines[j]!;
      if (l.startsWith('+')) newN++;
      else if (l.startsWith('-')) oldN++;
      else if (l.startsWith('\\')) {
        /* no newline marker */
      } else if (l.startsWith(' ') || (l === '' && j < lines.length - 1)) {
        oldN++;
        newN++;
      } else if (l === '') {
        break;
      } else break;
      body.push(l);
      j++;
    }
    out.push(`@@ -${m[1]},${oldN} +${m[2]},${newN} @@${m[3]}`, ...body);
    i = j;
  }
  return out.join('\n');
}

function safeParse(text: string, errors: string[]): StructuredPatch[] {
  try {
    return parsePatch(text);
  } catch {
    // Fall back to per-file parsing; drop only the chunk that fails.
    const out: StructuredPatch[] = [];
    for (const chunk of splitByFile(text)) {
      try {
        out.push(...parsePatch(chunk));
      } catch {
        // Hunk headers that disagree with their bodies (hand-edited or cut patches): recount and retry.
        try {
          out.push(...parsePatch(repairHunkHeaders(chunk)));
        } catch (e) {
          const head = chunk.split('\n', 1)[0] ?? '';
          errors.push(`${head.slice(0, 200)}: ${(e as Error).message}`);
        }
      }
    }
    return out;
  }
}

function toChangedFile(p: StructuredPatch): ChangedFile | undefined {
  const oldName = stripPrefix(p.oldFileName);
  const newName = stripPrefix(p.newFileName);
  let status: FileStatus = 'modified';
  if (p.isCreate || oldName === '/dev/null') status = 'added';
  else if (p.isDelete || newName === '/dev/null') status = 'deleted';
  else if (p.isRename) status = 'renamed';
  else if (p.isCopy) status = 'copied';
  const path = status === 'deleted' ? oldName : newName;
  if (!path || path === '/dev/null') {
    if (p.hunks.length === 0) return undefined;
  }
  const file: ChangedFile = {
    path: path && path !== '/dev/null' ? path : (p.index ?? '<unknown>'),
    status,
    binary: Boolean(p.isBinary),
    added: [],
    removed: [],
    window: new Map(),
  };
  if (oldName && oldName !== '/dev/null' && oldName !== file.path) file.oldPath = oldName;
  for (const h of p.hunks) {
    let newLine = h.newStart === 0 ? 1 : h.newStart;
    for (const raw of h.lines) {
      const tag = raw[0];
      const text = raw.slice(1);
      if (tag === '+') {
        file.added.push({ line: newLine, text });
        file.window.set(newLine, text);
        newLine++;
      } else if (tag === '-') {
        file.removed.push({ line: Math.max(1, newLine), text });
      } else if (tag === ' ') {
        file.window.set(newLine, text);
        newLine++;
      }
      // '\' (No newline at end of file) and anything else: no line advance.
    }
  }
  return file;
}

/** Parse a proposal's unified diff. Never throws. */
export function parseProposalDiff(diffText: string, maxChars = DEFAULT_MAX_DIFF_CHARS): ParsedProposalDiff {
  const parseErrors: string[] = [];
  let text = diffText.replace(/\r\n/g, '\n');
  let truncated: ParsedProposalDiff['truncated'];
  if (text.length > maxChars) {
    // Cut at the last file boundary before the cap so no file is half-screened.
    const cut = text.lastIndexOf('\ndiff --git ', maxChars);
    const keep = cut > 0 ? cut + 1 : maxChars;
    const rest = text.slice(keep);
    const droppedFiles = (rest.match(/^diff --git /gm) ?? []).length || 1;
    truncated = { totalChars: text.length, keptChars: keep, droppedFiles };
    text = text.slice(0, keep);
    if (cut <= 0) {
      // A single enormous file: keep the head but make sure the last hunk is not cut mid-way (parsePatch
      // tolerates short hunks, so only drop the dangling partial line).
      text = text.slice(0, text.lastIndexOf('\n') + 1);
    }
  }
  const replacementChars = (text.match(/\uFFFD/g) ?? []).length;
  const files: ChangedFile[] = [];
  if (text.trim().length > 0) {
    for (const p of safeParse(text, parseErrors)) {
      const f = toChangedFile(p);
      if (f) files.push(f);
    }
  }
  return { files, truncated, parseErrors, replacementChars };
}

/** Decode bytes as UTF-8 without throwing (invalid sequences become U+FFFD). */
export function decodeLenient(buf: Uint8Array): string {
  return new TextDecoder('utf-8', { fatal: false }).decode(buf);
}
