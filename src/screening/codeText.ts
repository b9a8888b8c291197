// Small lexical helpers shared by the static detectors. Language-agnostic on purpose: agents write Python,
// shell, TypeScript and YAML, and the detectors only need comments stripped, string literals found and a rough
// idea of block structure (indentation).
import type { ChangedFile } from './patchModel';

export type CommentStyle = 'hash' | 'slash' | 'none';

export function commentStyleFor(path: string): CommentStyle {
  const p = path.toLowerCase();
  if (/\.(py|pyi|sh|bash|zsh|ya?ml|toml|cfg|ini|r|rb|pl|mk|dockerfile)$|(^|\/)(makefile|dockerfile)$/.test(p)) return 'hash';
  if (/\.(m?[jt]sx?|c|cc|cpp|h|hpp|java|go|rs|kt|swift|scala|cs)$/.test(p)) return 'slash';
  if (/\.(json|jsonl|csv|tsv|txt|md|log)$/.test(p)) return 'none';
  return 'hash';
}

/** Remove a trailing line comment, leaving string literals alone. Block comments are not tracked. */
export function stripComment(text: string, style: CommentStyle): string {
  if (style === 'none') return text;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') quote = c;
    else if (style === 'hash' && c === '#') return text.slice(0, i);
    else if (style === 'slash' && c === '/' && text[i + 1] === '/') return text.slice(0, i);
  }
  const t = text.trimStart();
  // Python docstring lines and JS block-comment lines are prose, not code.
  if (style === 'slash' && (t.startsWith('*') || t.startsWith('/*'))) return '';
  return text;
}

/** String literal bodies on one line ('..', "..", `..`). */
export function stringLiterals(text: string): string[] {
  const out: string[] = [];
  const re = /(["'`])((?:\\.|(?!\1)[^\\])*)\1/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) out.push(m[2]!);
  return out;
}

export function indentOf(text: string): number {
  let n = 0;
  for (const c of text) {
    if (c === ' ') n++;
    else if (c === '\t') n += 4;
    else break;
  }
  return n;
}

/** New-side text of a line: full content if known, else the diff window. */
export function lineAt(file: ChangedFile, line: number): string | undefined {
  if (file.content) return file.content[line - 1];
  return file.window.get(line);
}

/** Enclosing block headers of a line (nearest first), found by walking up to smaller indentation. */
export function enclosingHeaders(file: ChangedFile, line: number, maxBack = 80): string[] {
  const start = lineAt(file, line);
  if (start === undefined) return [];
  let cur = indentOf(start);
  const out: string[] = [];
  for (let l = line - 1; l >= Math.max(1, line - maxBack) && cur > 0; l--) {
    const t = lineAt(file, l);
    if (t === undefined || t.trim() === '') continue;
    const ind = indentOf(t);
    if (ind < cur) {
      out.push(t.trim());
      cur = ind;
    }
  }
  return out;
}

const LOOP_HEADER = /^(async\s+)?(for|while)\b|^for\s*\(|^do\b|\.(forEach|map|flatMap)\(|\bfor\s+\w+(\s*,\s*\w+)*\s+in\b/;

export function isInLoop(file: ChangedFile, line: number): boolean {
  const self = (lineAt(file, line) ?? '').trim();
  // Comprehension or one-line loop on the line itself.
  if (/\[[^\]]*\bfor\b[^\]]*\bin\b/.test(self) || /\.(forEach|map)\(/.test(self) || /^for\b.*;\s*do\b/.test(self)) return true;
  for (const h of enclosingHeaders(file, line)) {
    if (/^(def|class|function|async\s+def)\b/.test(h)) return false;
    if (LOOP_HEADER.test(h)) return true;
  }
  return false;
}

export function enclosingFunctionName(file: ChangedFile, line: number): string | undefined {
  for (const h of enclosingHeaders(file, line)) {
    const m = /^(?:async\s+)?(?:def|function)\s+(\w+)/.exec(h) ?? /^(?:const|let|var)\s+(\w+)\s*=\s*(?:async\s*)?\(/.exec(h);
    if (m) return m[1];
  }
  return undefined;
}

/** Assignment target on a line (`x = ...`, `const x = ...`, `self.x = ...`), if any. */
export function assignmentTarget(code: string): string | undefined {
  const m = /^\s*(?:const|let|var)?\s*([\w.[\]'"]+(?:\s*,\s*[\w.[\]'"]+)*)\s*(?::\s*[\w[\], |]+)?\s*=(?!=)/.exec(code);
  return m ? m[1] : undefined;
}

export function isTestPath(path: string): boolean {
  const p = path.toLowerCase();
  return (
    /(^|\/)(tests?|spec|__tests__)\//.test(p) ||
    /(^|\/)test_[^/]*\.py$/.test(p) ||
    /_test\.(py|go)$/.test(p) ||
    /\.(test|spec)\.[cm]?[jt]sx?$/.test(p) ||
    /(^|\/)conftest\.py$/.test(p)
  );
}

export function isScoringPath(path: string): boolean {
  const p = path.toLowerCase();
  if (isResultArtifactPath(p) || /\.(json|jsonl|csv|tsv|log|txt|md|png|jpg|pdf|npy|npz|pt|bin|parquet)$/.test(p)) return false;
  const base = p.split('/').pop() ?? p;
  return (
    /(^|\/)(eval|evals|evaluation|evaluator|scoring|scorer|scorers|grader|grading|judge|baselines?|metrics)\//.test(p) ||
    /^(evaluate|evaluation|eval|score|scores|scoring|scorer|grader|grade|grading|metric|metrics|baseline|baselines|judge|pgr|leaderboard)([._-][^/]*)?\.[a-z]+$/.test(base)
  );
}

export function isResultArtifactPath(path: string): boolean {
  const p = path.toLowerCase();
  const base = p.split('/').pop() ?? p;
  return (
    /(^|\/)(results?|logs?|runs|outputs?|wandb|mlruns|leaderboard)\/.*\.(json|jsonl|csv|tsv|log|txt|yaml|yml)$/.test(p) ||
    /^(metrics|results?|scores?|eval_results?|leaderboard|summary)\.(json|jsonl|csv|tsv|log|txt)$/.test(base)
  );
}
