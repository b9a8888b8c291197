// Agent-written strings shown in tree items, quick picks, status bar, diff titles and messages. Pure (no
// vscode): the rules live in src/shared/textSafety.ts. Hidden characters (zero-width, bidi, tags, controls)
// become visible markers, never silently removed; newlines collapse; huge strings are capped.
import { block, escapeIcons, line, nameBadge, nameFindings, type NameKind } from '../shared/textSafety';

/** One line of display-safe text of at most `max` characters (an ellipsis marks truncation). */
export function plain(s: unknown, max = 200): string {
  return line(s, max);
}

/** Multi-line text (tooltips, log-ish output): keeps newlines, marks everything hidden like `plain`. */
export function plainBlock(s: unknown, max = 4000): string {
  return block(s, max);
}

/** Agent text for a quick pick label/description/detail: `plain` with `$(icon)` syntax escaped. */
export function pickText(s: unknown, max = 200): string {
  return escapeIcons(plain(s, max));
}

/** One "⚠ …" line per reason a name could deceive, for tooltips. */
export function nameWarnings(s: unknown, kind: NameKind): string[] {
  return typeof s === 'string' ? nameFindings(s, kind).map((f) => `⚠ ${f.message}`) : [];
}

/** A name with its warning badge appended when it could deceive (mixed scripts, look-alikes, hidden characters); at most `max` characters in all. */
export function plainName(s: unknown, kind: NameKind, max = 200): string {
  const badge = typeof s === 'string' ? nameBadge(s, kind) : '';
  return badge ? `${plain(s, Math.max(8, max - badge.length - 1))} ${badge}` : plain(s, max);
}

/** Short SHA for display. */
export function shortSha(sha: string | undefined): string {
  return typeof sha === 'string' ? sha.slice(0, 10) : '';
}

/** "3 minutes ago"-style relative time, pure given `now`. */
export function ago(iso: string, now = Date.now()): string {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return '';
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86_400)}d ago`;
}
