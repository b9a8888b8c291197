// Plain-text hygiene for agent-written strings shown via textContent. Pure: no DOM. The rules live in
// src/shared/textSafety.ts: hidden characters (zero-width, bidi, tags, controls) become visible markers.
import { hasHidden, linkInfo, nameBadge, reveal, type NameKind } from '../../src/shared/textSafety';

/** Bidirectional controls (Trojan Source, CVE-2021-42574). */
const BIDI = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/g;

/** Replace every hidden character (bidi controls included) with a visible marker. */
export function neutralizeBidi(s: string): string {
  return reveal(s, { keepNewlines: true });
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
  return reveal(t.replace(/\r\n/g, '\n'), { keepNewlines: true });
}

/** Single-line form (titles, file names): newlines collapsed too. */
export function oneLine(s: unknown, max = 500): string {
  return plain(typeof s === 'string' ? s.replace(/(?:\r\n|[\n\t])+/g, ' ') : s, max);
}

/** The warning badge text for a name ('' when it is what it looks like). */
export function nameWarning(s: unknown, kind: NameKind): string {
  return typeof s === 'string' ? nameBadge(s, kind) : '';
}

/** Links we let a webview open: absolute http(s) URLs only (no command:, javascript:, data:, file:, vscode:). */
export function isSafeHref(url: string): boolean {
  return !hasHidden(url) && linkInfo(url).safe;
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
