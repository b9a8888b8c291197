// Agent-written strings shown in tree items, quick picks, status bar, diff titles and messages. Pure (no
// vscode): the rules live in src/shared/textSafety.ts. Hidden characters (zero-width, bidi, tags, controls)
// become visible markers, never silently removed; newlines collapse; huge strings are capped.
import { block, escapeIcons, findingsBadge, line, nameFindings, type NameKind } from '../shared/textSafety';

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

/** What a name's checks found, kept per kind and name: a tree shows the same agent, branch and title on many
 * rows and again after every refresh, and the checks (scripts, confusables) cost far more than the lookup.
 * Printable ASCII is never looked up (nothing to find). Bounded. */
const NAME_NOTES = new Map<NameKind, Map<string, NameNotes>>();
const NAME_NOTES_MAX = 20_000;
interface NameNotes {
  badge: string;
  warnings: readonly string[];
}
const CLEAN: NameNotes = { badge: '', warnings: [] };

function nameNotes(s: string, kind: NameKind): NameNotes {
  if (/^[\x20-\x7e]*$/.test(s)) return CLEAN;
  let byName = NAME_NOTES.get(kind);
  if (!byName) NAME_NOTES.set(kind, (byName = new Map()));
  let n = byName.get(s);
  if (!n) {
    const findings = nameFindings(s, kind);
    n = findings.length ? { badge: findingsBadge(findings), warnings: findings.map((f) => `⚠ ${f.message}`) } : CLEAN;
    if (byName.size >= NAME_NOTES_MAX) byName.clear();
    byName.set(s, n);
  }
  return n;
}

/** One "⚠ …" line per reason a name could deceive, for tooltips. */
export function nameWarnings(s: unknown, kind: NameKind): string[] {
  return typeof s === 'string' ? [...nameNotes(s, kind).warnings] : [];
}

/** A name with its warning badge appended when it could deceive (mixed scripts, look-alikes, hidden characters); at most `max` characters in all. */
export function plainName(s: unknown, kind: NameKind, max = 200): string {
  const badge = typeof s === 'string' ? nameNotes(s, kind).badge : '';
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
