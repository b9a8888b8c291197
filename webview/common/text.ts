// Plain-text hygiene for agent-written strings shown via textContent. Pure: no DOM.

/** Bidirectional controls (Trojan Source, CVE-2021-42574) and other invisible formatting characters. */
const BIDI = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/g;
const INVISIBLE = /[\u200B-\u200D\u2060\uFEFF\u00AD]/g;

/** Replace bidi controls with a visible marker so text cannot reorder what the reviewer sees. */
export function neutralizeBidi(s: string): string {
  return s.replace(BIDI, (c) => `⟦U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}⟧`);
}

export function hasBidi(s: string): boolean {
  BIDI.lastIndex = 0;
  return BIDI.test(s);
}

export const MAX_TEXT = 20_000;

/** What every agent string goes through before it is put into textContent or markdown. */
export function plain(s: unknown, max = MAX_TEXT): string {
  let t = typeof s === 'string' ? s : s === undefined || s === null ? '' : String(s);
  if (t.length > max) t = `${t.slice(0, max)}… [${(t.length - max).toLocaleString('en-US')} more characters hidden]`;
  // Strip NULs and other C0 controls except tab/newline/carriage return.
  t = t.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/g, '\uFFFD');
  return neutralizeBidi(t.replace(INVISIBLE, ''));
}

/** Single-line form (titles, file names): newlines collapsed too. */
export function oneLine(s: unknown, max = 500): string {
  return plain(s, max).replace(/[\r\n\t]+/g, ' ');
}

/** Links we let a webview open: absolute http(s) URLs only (no command:, javascript:, data:, file:, vscode:). */
export function isSafeHref(url: string): boolean {
  const u = url.trim();
  if (hasBidi(u)) return false;
  if (!/^https?:\/\//i.test(u)) return false;
  try {
    const p = new URL(u);
    return (p.protocol === 'http:' || p.protocol === 'https:') && !p.username && !p.password;
  } catch {
    return false;
  }
}

export function fmtNum(n: number | null | undefined, digits = 2): string {
  return typeof n === 'number' && Number.isFinite(n) ? n.toFixed(digits) : '—';
}

export function fmtPct(n: number | null | undefined, digits = 1): string {
  return typeof n === 'number' && Number.isFinite(n) ? `${(n * 100).toFixed(digits)}%` : '—';
}

export function fmtTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? oneLine(iso, 40) : d.toISOString().replace('T', ' ').slice(0, 16);
}
