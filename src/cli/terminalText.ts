// Agent-written text made safe for a terminal. Agents write titles, rationales, commands, diffs, findings
// and logs; printed raw, an escape sequence could recolour, retitle or rewrite the screen (or hide a line),
// and bidi overrides or zero-width characters could make what a reviewer reads differ from what runs.
// Every such character is shown as a visible marker `<U+XXXX>` instead, and every terminal sequence as a marker
// saying what it would have done (`⟦link → evil.example⟧`, `⟦title: …⟧`, `⟦cursor up 3⟧`, `⟦CR⟧`): nothing is
// dropped silently.
// Lines and blocks go through the shared text-safety module (src/shared/textSafety.ts), like the extension.
import { terminalBlock, terminalLine } from '../shared/textSafety';

/** C0 and C1 controls, DEL; bidi embeddings/overrides/isolates and marks; zero-width and invisible
 * formatting characters; line/paragraph separators; interlinear annotations; tag characters; lone surrogates. */
const UNSAFE =
  /[\u0000-\u001f\u007f-\u009f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb]|\udb40[\udc00-\udc7f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;


/**
 * Agent text for one line of terminal output (table cells, titles, messages): every unsafe character,
 * newline and tab included, becomes a `<U+XXXX>` marker.
 */
export function safeLine(text: unknown): string {
  return terminalLine(text);
}

/**
 * Agent text spanning lines (rationales, diffs, logs): newlines and tabs are kept, everything else unsafe
 * (a carriage return too, which could overwrite the line before it) becomes a marker.
 */
export function safeBlock(text: unknown): string {
  return terminalBlock(text);
}

/**
 * Agent text spanning lines, as lines of its own each starting with `indent`: a newline (LF, or CRLF as a
 * Windows editor writes it) is a line break; tabs are kept; a lone CR, escape sequences, bidi and invisible
 * characters become markers, as in `safeBlock`. Trailing empty lines are dropped; an empty text gives no lines.
 */
export function safeLines(text: unknown, indent = '  '): string[] {
  const s = String(text ?? '').replace(/\r\n/g, '\n').replace(/\n+$/, '');
  if (!s) return [];
  return terminalBlock(s)
    .split('\n')
    .map((l) => `${indent}${l}`.trimEnd());
}

/** The first line of agent text, for a table cell (not yet made safe: pass it to safeLine), and whether more follows. */
export function firstLine(text: unknown): { line: string; more: boolean } {
  const s = String(text ?? '').replace(/\r\n/g, '\n').trim();
  const i = s.indexOf('\n');
  return i < 0 ? { line: s, more: false } : { line: s.slice(0, i).trimEnd(), more: s.slice(i + 1).trim().length > 0 };
}

/**
 * JSON for a terminal or a pipe: the same value when parsed (JSON.stringify escapes C0 controls already;
 * this also escapes DEL, C1 controls, bidi and invisible characters as `\uXXXX`).
 */
export function safeJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(UNSAFE, (ch) => {
    if (ch === '\n') return ch; // the indentation's own newlines (inside strings C0 controls are escaped already)
    let out = '';
    for (let i = 0; i < ch.length; i++) out += `\\u${ch.charCodeAt(i).toString(16).padStart(4, '0')}`;
    return out;
  });
}
