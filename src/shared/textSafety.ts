// One text-safety module for everything agent-written: the extension host (trees, quick picks, diff
// labels), every webview, the CLI's terminal output and the AI reviewer's prompt. Pure: no vscode, no DOM.
//
// Rules:
// - Invisible characters (Unicode Default_Ignorable_Code_Point: zero-width, bidi marks/embeddings/overrides/
//   isolates, tag characters U+E0000–E007F, variation selectors, fillers), other format characters and
//   controls are never removed: each becomes a visible marker `⟦RLO U+202E⟧`. A run of tag characters is
//   also decoded, since tags spell hidden ASCII: `⟦tags "ignore the tests"⟧`.
// - Names (file, branch, agent, title) are checked for mixed scripts (TR39 "highly restrictive", with the
//   engine's own Script_Extensions data) and for confusables (TR39 skeletons from the `unhomoglyph`
//   package, generated from Unicode's confusables.txt), as warnings a UI shows as a badge and screening
//   raises as findings (`nameFindings`).
import unhomoglyph from 'unhomoglyph';

// ------------------------------------------------------------------------------------------ markers

const NAMES: Record<number, string> = {
  0x00ad: 'SHY', 0x034f: 'CGJ', 0x061c: 'ALM', 0x180e: 'MVS', 0x200b: 'ZWSP', 0x200c: 'ZWNJ', 0x200d: 'ZWJ',
  0x200e: 'LRM', 0x200f: 'RLM', 0x2028: 'LSEP', 0x2029: 'PSEP', 0x202a: 'LRE', 0x202b: 'RLE', 0x202c: 'PDF',
  0x202d: 'LRO', 0x202e: 'RLO', 0x2060: 'WJ', 0x2061: 'FA', 0x2062: 'IT', 0x2063: 'IS', 0x2064: 'IP',
  0x2066: 'LRI', 0x2067: 'RLI', 0x2068: 'FSI', 0x2069: 'PDI', 0xfeff: 'BOM', 0x1b: 'ESC', 0x00: 'NUL',
  0x07: 'BEL', 0x08: 'BS', 0x0d: 'CR', 0x7f: 'DEL', 0x0a: 'LF', 0x09: 'TAB',
};
/** Bidi controls: the characters that reorder what the reader sees (Trojan Source, CVE-2021-42574). */
const BIDI_CPS = new Set([0x061c, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069]);

/** Characters that never reach the reader as themselves: default ignorables, format, controls, separators, lone surrogates. */
const HIDDEN = /[\p{Default_Ignorable_Code_Point}\p{Cf}\p{Cc}\u2028\u2029]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/gu;
const HIDDEN_ONE = new RegExp(HIDDEN.source, 'u');
const TAG_RUN = /[\u{e0000}-\u{e007f}]+/gu;
const EMOJI = /\p{Extended_Pictographic}/u;
/** Printable ASCII only: nothing hidden, one script (Latin or none), no look-alikes. The fast path of every check below. */
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const NON_PRINTABLE_RUN = /[^\x20-\x7e]+/g;
const NON_ASCII = /[^\x00-\x7f]/;

/** A ZWJ between pictographs, or VS16 after one: part of one visible emoji, not hidden. */
function emojiGlue(whole: string, offset: number, cp: number): boolean {
  if (cp !== 0x200d && cp !== 0xfe0f) return false;
  const before = whole.slice(Math.max(0, offset - 2), offset);
  const after = whole.slice(offset + 1, offset + 3);
  return EMOJI.test(before) && (cp === 0xfe0f || EMOJI.test(after));
}

export type MarkKind = 'bidi' | 'tag' | 'invisible' | 'control';

export function kindOf(cp: number): MarkKind {
  if (BIDI_CPS.has(cp)) return 'bidi';
  if (cp >= 0xe0000 && cp <= 0xe007f) return 'tag';
  if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) return 'control';
  return 'invisible';
}

function hex(cp: number): string {
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** The visible marker for one hidden character, e.g. `⟦RLO U+202E⟧`. */
export function markerFor(ch: string): string {
  const cp = ch.codePointAt(0)!;
  const name = NAMES[cp];
  return `⟦${name ? `${name} ` : ''}${hex(cp)}⟧`;
}

function decodeTags(run: string): string {
  let out = '';
  for (const c of run) {
    const cp = c.codePointAt(0)! - 0xe0000;
    out += cp >= 0x20 && cp < 0x7f ? String.fromCharCode(cp) : `\\x${cp.toString(16).padStart(2, '0')}`;
  }
  return out;
}

export interface RevealOptions {
  /** Keep `\n` (and `\t`) as themselves (blocks); otherwise they are markers too (names) — see `line` for one-line display. */
  keepNewlines?: boolean;
  /** Marker style: `⟦RLO U+202E⟧` with tag runs decoded (default, UI) or `<U+202E>`, one per code point (terminal, plain ASCII). Terminal sequences are `⟦link → host⟧`-style in both. */
  style?: 'ui' | 'ascii';
  /** A run log: SGR colours dropped (not marked), a lone CR marked and followed by a line break (progress rewrites stay readable). */
  log?: boolean;
}

/**
 * Every hidden character replaced by a visible marker; nothing is removed. Terminal control sequences become
 * markers that say what they would have done (`⟦link → evil.example⟧`, `⟦title: …⟧`, `⟦cursor up 3⟧`, `⟦CR⟧`;
 * see `terminalMarkers`). Emoji joiners and the emoji presentation selector between pictographs are kept (they
 * render as one visible glyph). CRLF becomes LF when newlines are kept.
 */
export function reveal(s: unknown, opts: RevealOptions = {}): string {
  const t = toText(s);
  // Printable ASCII has nothing to mark and no marker-like text to count: the common case costs one scan.
  if (PRINTABLE_ASCII.test(t)) return t;
  if (opts.keepNewlines || opts.style === 'ascii' || opts.log) return revealText(t, opts);
  // One display often reveals one string several times (a label, its tooltip, a warning quoting it).
  if (t !== lastRevealed.in) lastRevealed = { in: t, out: revealText(t, opts) };
  return lastRevealed.out;
}

let lastRevealed = { in: '', out: '' };

/** `reveal` without its fast paths (the definition they must agree with; tests). */
export function revealText(text: string, opts: RevealOptions = {}): string {
  let t = text;
  if (opts.keepNewlines) t = t.replace(/\r\n/g, '\n');
  const ascii = opts.style === 'ascii';
  const mark = (ch: string) => (ascii ? `<${hex(ch.codePointAt(0)!)}>` : markerFor(ch));
  if (!ascii) t = t.replace(TAG_RUN, (run) => `⟦tags "${decodeTags(run)}"⟧`);
  // Hidden characters first (on the text as it came: a plain log stays a one-byte string, which is several times
  // faster to scan), leaving the characters that start or end a terminal sequence for `terminalMarkers`.
  t = t.replace(HIDDEN, (ch, offset: number, whole: string) => {
    if (opts.keepNewlines && (ch === '\n' || ch === '\t')) return ch;
    if (SEQUENCE_CHARS.test(ch)) {
      // ESC and the 8-bit CSI start a sequence only before a printable ASCII character; before a character this
      // pass marks, they start none (and must not read the marker's own text as their parameters).
      if (ch === '\u001b' || ch === '\u009b') {
        const next = whole.charCodeAt(offset + 1);
        if (!(next >= 0x20 && next <= 0x7e)) return mark(ch);
      }
      return ch;
    }
    if (emojiGlue(whole, offset, ch.codePointAt(0)!)) return ch;
    return mark(ch);
  });
  t = terminalMarkers(t, { log: opts.log });
  // An ESC, BEL or C1 control that starts or ends no sequence is one hidden character like the others.
  if (LEFTOVER.test(t)) t = t.replace(LEFTOVER_ALL, mark);
  // A run of one marker is one marker with its count (`⟦ZWSP U+200B ×500⟧`, `⟦cursor up 1 ×40⟧`): all of it shown, none of it a flood.
  return ascii ? t : t.replace(REPEATED_MARKER, (run, m: string) => `${m.slice(0, -1)} ×${run.length / m.length}⟧`);
}

/** The characters that begin or end a terminal sequence (ESC, BEL, CR, 8-bit DCS/SOS/CSI/ST/OSC/PM/APC). */
const SEQUENCE_CHARS = /^[\u001b\u0007\r\u0090\u0098\u009b\u009c\u009d\u009e\u009f]$/;
const LEFTOVER = /[\u001b\u0007\u0090\u0098\u009b\u009c\u009d\u009e\u009f]/;
const LEFTOVER_ALL = new RegExp(LEFTOVER.source, 'g');
const REPEATED_MARKER = /(⟦[^⟦⟧\n]{1,240}⟧)\1{2,}/g;

/** Whether `s` holds any character that `reveal` would mark (newlines and tabs excluded). */
export function hasHidden(s: unknown): boolean {
  return reveal(s, { keepNewlines: true }) !== toText(s).replace(/\r\n/g, '\n');
}

/** The hidden characters of `s`, by kind (newlines, tabs and the CR of a CRLF excluded; a lone CR, which overwrites a line, counts). */
export function hiddenChars(s: unknown): { ch: string; cp: number; kind: MarkKind }[] {
  const out: { ch: string; cp: number; kind: MarkKind }[] = [];
  const t = toText(s);
  if (PRINTABLE_ASCII.test(t)) return out;
  let offset = 0;
  for (const ch of t) {
    const cp = ch.codePointAt(0)!;
    if (cp >= 0x20 && cp < 0x7f) {
      offset++;
      continue;
    }
    const crlf = ch === '\r' && t[offset + 1] === '\n';
    if (ch !== '\n' && ch !== '\t' && !crlf && HIDDEN_ONE.test(ch) && !emojiGlue(t, offset, cp)) out.push({ ch, cp, kind: kindOf(cp) });
    offset += ch.length;
  }
  return out;
}

function toText(s: unknown): string {
  return typeof s === 'string' ? s : s === undefined || s === null ? '' : String(s);
}

/** Cap a string at `max` UTF-16 units without splitting a surrogate pair, saying how much was cut. */
export function cap(t: string, max: number, note = true): string {
  if (t.length <= max) return t;
  let end = Math.max(0, max);
  if (end > 0 && /[\ud800-\udbff]/.test(t[end - 1]!)) end--;
  return `${t.slice(0, end)}…${note ? ` [${(t.length - end).toLocaleString('en-US')} more characters]` : ''}`;
}

/** One line for display (tree labels, titles, file names): newlines and tabs become spaces, a lone CR (which
 * overwrites the line's start on a terminal) `⟦CR⟧`, hidden characters and terminal sequences markers. */
export function line(s: unknown, max = 200): string {
  let t = toText(s);
  if (t.length > max * 4) t = t.slice(0, max * 4);
  if (PRINTABLE_ASCII.test(t)) {
    // No newline, tab or hidden character: only the space runs, the trim and the cap apply.
    if (t.includes('  ')) t = t.replace(/ {2,}/g, ' ');
    t = t.trim();
    return t.length > max ? `${t.slice(0, Math.max(0, max - 1)).trimEnd()}…` : t;
  }
  t = reveal(t.replace(/\r\n|[\n\t]/g, ' ')).replace(/ {2,}/g, ' ').trim();
  return t.length > max ? `${t.slice(0, Math.max(0, max - 1)).trimEnd()}…` : t;
}

/** Several lines for display (tooltips, prose): newlines kept, everything hidden marked. */
export function block(s: unknown, max = 4000): string {
  return reveal(cap(toText(s), max), { keepNewlines: true }).replace(/\t/g, '  ');
}

// ------------------------------------------------------------------------------------------ terminals, logs

/** ANSI/ECMA-48 escape sequences: CSI, OSC (to BEL or ST, parameters included), DCS/SOS/PM/APC strings, 2-char escapes, 8-bit CSI/OSC. */
const ESCAPES =
  /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b\u009c]*(?:\u0007|\u001b\\|\u009c)?|\u001b[P^_X][^\u001b\u009c]*(?:\u001b\\|\u009c)?|\u001b[ -/]*[0-~]|\u009b[0-?]*[ -/]*[@-~]|\u009d[^\u0007\u001b\u009c]*(?:\u0007|\u009c)?/g;

/** Remove terminal escape sequences with their parameters (OSC titles and hyperlinks, colours, cursor moves). */
export function stripEscapes(s: unknown): string {
  return toText(s).replace(ESCAPES, '');
}

/** A run log chunk for display: terminal sequences as markers (`⟦link → host⟧`, `⟦title: …⟧`, `⟦cursor up 3⟧`; SGR colours
 * dropped), a `\r` progress rewrite marked `⟦CR⟧` and kept as a new line, every other hidden character marked. */
export function logText(s: unknown): string {
  return reveal(s, { keepNewlines: true, log: true });
}

// One parser of terminal control sequences (ECMA-48, xterm) for every surface that shows agent or run text:
// OSC (to BEL or ST, or unterminated up to the next ESC), DCS/SOS/PM/APC strings, CSI, other escapes, their
// 8-bit forms, and a carriage return. Each becomes a marker saying what it would have done on a terminal.
const TERMINAL =
  /(?:\u001b\]|\u009d)([^\u0007\u001b\u009c]*)(\u0007|\u001b\\|\u009c)?|(?:\u001b([P^_X])|([\u0090\u0098\u009e\u009f]))([^\u001b\u009c]*)(?:\u001b\\|\u009c)?|(?:\u001b\[|\u009b)([0-?]*)([ -/]*)([@-~])|\u001b([ -/]*)([0-~])|\r/g;
const TERMINAL_ANY = /[\u001b\u009b\u009d\u0090\u0098\u009e\u009f\r]/;
const STRING_KINDS: Record<string, string> = { P: 'DCS', X: 'SOS', '^': 'PM', _: 'APC', '\u0090': 'DCS', '\u0098': 'SOS', '\u009e': 'PM', '\u009f': 'APC' };

/** A hidden-character marker `reveal` put into the payload already (kept), or a bracket the agent wrote (neutralised). */
const OWN_MARKER_OR_BRACKET = /(⟦(?:[A-Z]+ )?U\+[0-9A-F]{4,6}(?: ×\d+)?⟧|⟦tags "[^"⟦⟧]*"⟧)|[⟦⟧]/g;

/** Text an agent put inside a sequence, for a marker: capped, on one line (`\n` as `\\n`), `⟦`/`⟧` neutralised, and `://` defanged so no link detector makes it clickable. */
function payload(t: string, max = 120): string {
  const short = [...t].length > max ? `${[...t].slice(0, max).join('')}…` : t;
  return short
    .replace(/:\/\//g, '[:]//')
    .replace(OWN_MARKER_OR_BRACKET, (m, own?: string) => own ?? (m === '⟦' ? '[' : ']'))
    .replace(/\n/g, '\\n')
    .replace(/\t/g, '\\t');
}

/** The host a hidden link target points at (the browser's own parse, punycode for IDNs), or what kind of target it is. */
function linkTarget(uri: string): string {
  try {
    const u = new URL(uri.trim());
    if (u.hostname) return u.hostname;
    return `${u.protocol} target`;
  } catch {
    return 'unparsable target';
  }
}

function base64Text(b64: string): string | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 === 1) return undefined;
  try {
    const bin = atob(b64);
    const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
    return new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  } catch {
    return undefined;
  }
}

function oscMarker(body: string, terminated: boolean): string {
  const semi = body.indexOf(';');
  const ps = semi < 0 ? body : body.slice(0, semi);
  const rest = semi < 0 ? '' : body.slice(semi + 1);
  const open = terminated ? '' : ' (unterminated)';
  if (ps === '8') {
    const uri = rest.slice(rest.indexOf(';') + 1);
    return uri ? `link → ${linkTarget(uri)}${open}` : `/link${open}`;
  }
  if (ps === '52') {
    const data = rest.slice(rest.indexOf(';') + 1);
    if (data === '?') return `clipboard read${open}`;
    const text = base64Text(data);
    return text === undefined ? `clipboard write (${data.length} characters)${open}` : `clipboard write: "${payload(text)}"${open}`;
  }
  if (ps === '0' || ps === '1' || ps === '2') return `title: ${payload(rest, 200)}${open}`;
  return `terminal command OSC ${payload(ps, 8)}${rest ? `: "${payload(rest)}"` : ''}${open}`;
}

const CURSOR: Record<string, (n: number, p: string) => string> = {
  A: (n) => `cursor up ${n}`,
  B: (n) => `cursor down ${n}`,
  C: (n) => `cursor right ${n}`,
  D: (n) => `cursor left ${n}`,
  E: (n) => `cursor down ${n} to line start`,
  F: (n) => `cursor up ${n} to line start`,
  G: (n) => `cursor to column ${n}`,
  '`': (n) => `cursor to column ${n}`,
  d: (n) => `cursor to row ${n}`,
  H: (_n, p) => `cursor to ${p || '1;1'}`,
  f: (_n, p) => `cursor to ${p || '1;1'}`,
  s: () => 'cursor save',
  u: () => 'cursor restore',
  J: (_n, p) => ({ '': 'erase screen below', '0': 'erase screen below', '1': 'erase screen above', '2': 'erase screen', '3': 'erase scrollback' })[p] ?? `erase screen ${p}`,
  K: (_n, p) => ({ '': 'erase to line end', '0': 'erase to line end', '1': 'erase to line start', '2': 'erase line' })[p] ?? `erase line ${p}`,
  X: (n) => `erase ${n} characters`,
  P: (n) => `delete ${n} characters`,
  '@': (n) => `insert ${n} blanks`,
  L: (n) => `insert ${n} lines`,
  M: (n) => `delete ${n} lines`,
  S: (n) => `scroll up ${n}`,
  T: (n) => `scroll down ${n}`,
  r: (_n, p) => `scroll region ${p || 'reset'}`,
};
const MODES: Record<string, string> = { '?25l': 'hide cursor', '?25h': 'show cursor', '?1049h': 'alternate screen', '?1049l': 'main screen', '?47h': 'alternate screen', '?47l': 'main screen' };

function csiMarker(p: string, i: string, f: string, log: boolean): string | undefined {
  if (f === 'm' && !i) return log ? undefined : `colour ${p || '0'}`;
  if (!i && /^[0-9]*$/.test(p) && CURSOR[f]) return CURSOR[f](Math.max(1, Number(p || '1')), p);
  if (!i && /^[0-9;]*$/.test(p) && (f === 'H' || f === 'f' || f === 'J' || f === 'K' || f === 'r')) return CURSOR[f]!(1, p);
  if (!i && (f === 'h' || f === 'l')) return MODES[`${p}${f}`] ?? `terminal mode ${payload(p, 20)} ${f === 'h' ? 'on' : 'off'}`;
  if (!i && (f === 'n' || f === 'c')) return `terminal query CSI ${payload(p, 20)}${f}`;
  return `terminal control CSI ${payload(`${p}${i}${f}`, 24)}`;
}

const ESC_FINALS: Record<string, string> = { '7': 'cursor save', '8': 'cursor restore', M: 'cursor up 1 (reverse index)', D: 'cursor down 1', E: 'cursor to next line', c: 'terminal reset', '=': 'keypad mode', '>': 'keypad mode off' };

function escMarker(i: string, f: string): string {
  if (!i && ESC_FINALS[f]) return ESC_FINALS[f]!;
  if (/^[()*+]$/.test(i)) return `character set ${i}${f}`;
  return `escape ${payload(`${i}${f}`, 8)}`;
}

/**
 * Terminal control sequences replaced by markers saying what they would have done: an OSC 8 hyperlink's hidden
 * target as `⟦link → evil.example⟧` … `⟦/link⟧` (its host only: never a clickable URL; the visible text stays),
 * OSC 52 `⟦clipboard write: "…"⟧`, OSC 0/1/2 `⟦title: …⟧`, cursor moves and erasures `⟦cursor up 3⟧`
 * `⟦erase line⟧`, SGR colours `⟦colour 1;31⟧` (dropped in a run log), other sequences named, and a carriage
 * return `⟦CR⟧` (in a log followed by a line break). Other hidden characters are left to `reveal`.
 */
export function terminalMarkers(s: unknown, opts: { log?: boolean } = {}): string {
  const t = toText(s);
  if (!TERMINAL_ANY.test(t)) return t;
  const log = !!opts.log;
  return t.replace(
    TERMINAL,
    (m: string, oscBody?: string, oscEnd?: string, str7?: string, str8?: string, strBody?: string, csiP?: string, csiI?: string, csiF?: string, escI?: string, escF?: string) => {
      let what: string | undefined;
      if (m === '\r') return log ? '⟦CR⟧\n' : '⟦CR⟧';
      if (oscBody !== undefined) what = oscMarker(oscBody, oscEnd !== undefined);
      else if (strBody !== undefined) what = `terminal string ${STRING_KINDS[(str7 ?? str8)!]}${strBody ? `: "${payload(strBody, 80)}"` : ''}`;
      else if (csiF !== undefined) what = csiMarker(csiP!, csiI!, csiF, log);
      else what = escMarker(escI!, escF!);
      return what === undefined ? '' : `⟦${what}⟧`;
    },
  );
}

/** One line of terminal output: terminal sequences become `⟦cursor up 3⟧`-style markers, every other hidden character (newlines too) `<U+0007>`-style ones. */
export function terminalLine(s: unknown): string {
  return reveal(s, { style: 'ascii' });
}

/** Terminal text spanning lines: newlines and tabs kept, everything else hidden marked (a lone CR as `⟦CR⟧`). */
export function terminalBlock(s: unknown): string {
  return reveal(s, { keepNewlines: true, style: 'ascii' });
}

// ------------------------------------------------------------------------------------------ prompts, icons

/**
 * Agent text for a model prompt: hidden characters as markers the model can read (tag runs decoded, so a
 * hidden instruction arrives labelled as hidden), newlines kept.
 */
export function forPrompt(s: unknown): string {
  return reveal(s, { keepNewlines: true });
}

/** Escape VS Code's `$(icon)` syntax so agent text renders literally where labels support icons. */
export function escapeIcons(s: string): string {
  return s.replace(/(\\)?\$\(([a-z0-9\-~]+?)\)/gi, (m, esc: string | undefined) => (esc ? m : `\\${m}`));
}

// ------------------------------------------------------------------------------------------ links

export interface LinkInfo {
  /** The exact target (hidden characters marked). */
  shown: string;
  /** The host name a confirmation must name (punycode as the browser resolves it), or '' when unsafe. */
  host: string;
  safe: boolean;
  /** The link text looks like a URL or host that differs from the real target. */
  mismatch: boolean;
}

/** Describe a link target for a confirmation and flag link text that names a different URL/host. */
export function linkInfo(href: string, text = ''): LinkInfo {
  const shown = line(href, 500);
  let host = '';
  let safe = false;
  if (!hasHidden(href) && /^https?:\/\//i.test(href.trim())) {
    try {
      const u = new URL(href.trim());
      safe = (u.protocol === 'http:' || u.protocol === 'https:') && !u.username && !u.password;
      host = safe ? u.hostname : '';
    } catch {
      safe = false;
    }
  }
  const m = /(?:https?:\/\/)?((?:[\p{L}\p{N}-]+\.)+[\p{L}\p{N}-]{2,})/iu.exec(text.trim());
  let mismatch = false;
  if (m) {
    let textHost = m[1]!.toLowerCase();
    try {
      textHost = new URL(`http://${m[1]}`).hostname;
    } catch {
      /* keep as written */
    }
    mismatch = textHost !== host.toLowerCase();
  }
  return { shown, host, safe, mismatch };
}

// ------------------------------------------------------------------------------------------ product voice

const PRODUCT_VOICE = [
  /\b(?:approved|verified|cleared|signed[ -]off|whitelisted|allow-?listed)\s+by\s+(?:the\s+)?(?:overseer|reviewer|human|admin(?:istrator)?|operator|system|security|maintainers?)\b/i,
  /\ball\s+(?:checks|tests|screening)\s+(?:have\s+)?passed\b/i,
  /\boverseer\s+(?:has\s+)?(?:approved|verified|cleared)\b/i,
  /\b(?:system|overseer|operator)\s+(?:message|notice|override)\s*:/i,
  /\bno\s+review\s+(?:needed|required)\b/i,
];

/** Agent text that speaks as the product or a human ("Approved by overseer … all checks passed"): the UI says it is agent-written. */
export function claimsProductVoice(s: unknown): boolean {
  const t = skeleton(toText(s).slice(0, 50_000)).toLowerCase();
  return PRODUCT_VOICE.some((re) => re.test(t) || re.test(toText(s)));
}

// ------------------------------------------------------------------------------------------ names

/** The scripts probed with the engine's Script_Extensions data (anything else counts as its own script). */
const SCRIPTS = [
  'Latin', 'Greek', 'Cyrillic', 'Armenian', 'Hebrew', 'Arabic', 'Syriac', 'Thaana', 'Nko', 'Devanagari', 'Bengali',
  'Gurmukhi', 'Gujarati', 'Oriya', 'Tamil', 'Telugu', 'Kannada', 'Malayalam', 'Sinhala', 'Thai', 'Lao', 'Tibetan',
  'Myanmar', 'Georgian', 'Hangul', 'Ethiopic', 'Cherokee', 'Canadian_Aboriginal', 'Ogham', 'Runic', 'Khmer',
  'Mongolian', 'Hiragana', 'Katakana', 'Bopomofo', 'Han', 'Yi', 'Gothic', 'Deseret', 'Tifinagh', 'Vai', 'Lisu',
  'Coptic', 'Glagolitic', 'Old_Italic', 'Osage', 'Adlam', 'Bamum', 'Javanese', 'Balinese', 'Sundanese', 'Tai_Le',
  'Tai_Viet', 'Ol_Chiki', 'Samaritan', 'Mandaic', 'Buginese', 'Cham', 'Kayah_Li', 'Saurashtra', 'Lepcha',
] as const;
const SCRIPT_RES = SCRIPTS.map((s) => [s, new RegExp(`\\p{scx=${s}}`, 'u')] as const);
const COMMON = /[\p{scx=Common}\p{scx=Inherited}]/u;
const LETTERLIKE = /[\p{L}\p{M}\p{N}]/u;

const NO_SCRIPT: ReadonlySet<string> = new Set();
const LATIN: ReadonlySet<string> = new Set(['Latin']);
/** Script sets by code point (the probe costs one regular expression per script; a name repeats its letters). */
const SCRIPT_CACHE = new Map<number, ReadonlySet<string>>();

/** The script set of one character (Script_Extensions), empty for Common/Inherited. Han-family sets grow the TR39 way. Shared: never mutate. */
function scriptsOf(ch: string): ReadonlySet<string> {
  const cp = ch.codePointAt(0)!;
  if (cp < 0x80) return (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a) ? LATIN : NO_SCRIPT;
  let got = SCRIPT_CACHE.get(cp);
  if (!got) {
    if (SCRIPT_CACHE.size > 65_536) SCRIPT_CACHE.clear();
    SCRIPT_CACHE.set(cp, (got = probeScripts(ch)));
  }
  return got;
}

function probeScripts(ch: string): Set<string> {
  const out = new Set<string>();
  if (!LETTERLIKE.test(ch)) return out;
  for (const [name, re] of SCRIPT_RES) if (re.test(ch)) out.add(name);
  if (!out.size) {
    if (COMMON.test(ch)) return out;
    out.add(`Other(${hex(ch.codePointAt(0)!)})`);
  }
  if (out.has('Han')) out.add('Jpan').add('Kore').add('Hanb');
  if (out.has('Hiragana') || out.has('Katakana')) out.add('Jpan');
  if (out.has('Hangul')) out.add('Kore');
  if (out.has('Bopomofo')) out.add('Hanb');
  return out;
}

/** The scripts a string uses (Script_Extensions, Common/Inherited left out), in order of first use. */
export function scriptsIn(s: string): string[] {
  const seen: string[] = [];
  for (const ch of s) {
    const sc = scriptsOf(ch);
    if (!sc.size) continue;
    const first = [...sc][0]!;
    if (!seen.includes(first)) seen.push(first);
  }
  return seen;
}

/** TR39 "highly restrictive": one script, or Latin plus one of Han+Hiragana+Katakana, Han+Bopomofo, Han+Hangul. */
export function isMixedScript(s: string): boolean {
  let all: Set<string> | undefined;
  let nonLatin: Set<string> | undefined;
  let hasLatin = false;
  for (const ch of s) {
    const sc = scriptsOf(ch);
    if (!sc.size) continue;
    all = all ? new Set([...all].filter((x) => sc.has(x))) : new Set(sc);
    if (sc.has('Latin') && sc.size === 1) hasLatin = true;
    else nonLatin = nonLatin ? new Set([...nonLatin].filter((x) => sc.has(x))) : new Set(sc);
  }
  if (!all || all.size) return false;
  if (hasLatin && nonLatin && ['Jpan', 'Hanb', 'Kore'].some((x) => nonLatin!.has(x))) return false;
  return true;
}

const DEFAULT_IGNORABLE = /\p{Default_Ignorable_Code_Point}/gu;

/** TR39 skeleton: NFD, default ignorables removed, each character mapped to its confusable prototype, NFD. Equal skeletons look alike. */
export function skeleton(s: string): string {
  return unhomoglyph(s.normalize('NFD').replace(DEFAULT_IGNORABLE, '')).normalize('NFD');
}

/** Two names a reader cannot tell apart (same skeleton) although they differ. */
export function confusableWith(a: string, b: string): boolean {
  return a !== b && skeleton(a) === skeleton(b);
}

export type NameKind = 'file' | 'branch' | 'agent' | 'title';

export interface NameFinding {
  kind: 'hidden-characters' | 'bidi-control' | 'tag-characters' | 'mixed-script' | 'confusable';
  /** One sentence a reviewer reads (hidden characters shown as markers). */
  message: string;
}

function lookalikeChars(token: string): { ch: string; like: string; script: string }[] {
  const out: { ch: string; like: string; script: string }[] = [];
  for (const ch of token) {
    if (ch.charCodeAt(0) < 0x80 || !LETTERLIKE.test(ch)) continue;
    const sk = skeleton(ch);
    if (sk !== ch.normalize('NFD') && /^[\x21-\x7e]+$/.test(sk)) out.push({ ch, like: sk, script: [...scriptsOf(ch)][0] ?? 'Common' });
  }
  return out;
}

/**
 * Why a name could deceive a reader: hidden, bidi or tag characters; mixed scripts within one token; letters
 * that look like ASCII letters (TR39 confusables). Titles are checked word by word (a title may honestly mix
 * languages), names component by component. Empty when the name is what it looks like.
 */
export function nameFindings(name: string, kind: NameKind): NameFinding[] {
  const text = toText(name);
  const out: NameFinding[] = [];
  if (PRINTABLE_ASCII.test(text)) return out; // no hidden characters, one script, nothing that looks like another letter
  const what = kind === 'title' ? 'title' : `${kind} name`;
  const hidden = hiddenChars(text);
  const tags = hidden.filter((h) => h.kind === 'tag');
  const bidi = hidden.filter((h) => h.kind === 'bidi');
  const other = hidden.filter((h) => h.kind !== 'tag' && h.kind !== 'bidi');
  if (bidi.length) out.push({ kind: 'bidi-control', message: `${what} contains bidirectional control characters that reorder what is shown: ${line(text, 200)}` });
  if (tags.length) out.push({ kind: 'tag-characters', message: `${what} contains ${tags.length} invisible tag character${tags.length > 1 ? 's' : ''}: ${line(text, 200)}` });
  if (other.length) out.push({ kind: 'hidden-characters', message: `${what} contains invisible characters: ${line(text, 200)}` });
  // Mixed scripts and look-alikes need a letter outside ASCII; invisible characters alone were reported above.
  const letters = NON_ASCII.test(text) && NON_ASCII.test(text.replace(DEFAULT_IGNORABLE, ''));
  const tokens = !letters ? [] : kind === 'title' ? text.split(/[\s\p{P}\p{S}]+/u) : text.split(/[\s/\\]+/u);
  const mixed: string[] = [];
  const looks: string[] = [];
  for (const tok of tokens) {
    const t = tok.replace(DEFAULT_IGNORABLE, '');
    if (!t || PRINTABLE_ASCII.test(t)) continue;
    const isMixed = isMixedScript(t);
    if (isMixed) mixed.push(`${line(t, 80)} (${scriptsIn(t).join(' + ')})`);
    const lk = lookalikeChars(t);
    // A token wholly in another script is only deceptive when it all reads as ASCII (a whole-script confusable).
    if (lk.length && (isMixed || /^[\x21-\x7e]+$/.test(skeleton(t)))) {
      for (const l of lk) looks.push(`${l.script} '${l.ch}' (${hex(l.ch.codePointAt(0)!)}) looks like '${l.like}'`);
    }
  }
  if (mixed.length) out.push({ kind: 'mixed-script', message: `${what} mixes scripts: ${mixed.slice(0, 3).join('; ')}` });
  if (looks.length) out.push({ kind: 'confusable', message: `${what} has look-alike letters: ${[...new Set(looks)].slice(0, 5).join('; ')}` });
  return out;
}

/** A short badge text for a name ('' when nothing is wrong), e.g. "⚠ mixed scripts · look-alike letters". */
export function nameBadge(name: string, kind: NameKind): string {
  return findingsBadge(nameFindings(name, kind));
}

/** The badge text of findings already computed (see `nameBadge`). */
export function findingsBadge(f: readonly NameFinding[]): string {
  if (!f.length) return '';
  const label: Record<NameFinding['kind'], string> = {
    'bidi-control': 'bidi control',
    'tag-characters': 'hidden tags',
    'hidden-characters': 'invisible characters',
    'mixed-script': 'mixed scripts',
    confusable: 'look-alike letters',
  };
  return `⚠ ${[...new Set(f.map((x) => label[x.kind]))].join(' · ')}`;
}

/** Groups of names in `names` that look the same (equal skeletons) although they differ. */
export function lookalikeGroups(names: readonly string[]): string[][] {
  const by = new Map<string, Set<string>>();
  for (const n of names) {
    const k = skeleton(n);
    let g = by.get(k);
    if (!g) by.set(k, (g = new Set()));
    g.add(n);
  }
  return [...by.values()].filter((g) => g.size > 1).map((g) => [...g]);
}
