// Plain-text sanitizing for agent-written strings shown in tree items, quick picks, status bar and
// messages. Pure (no vscode). Tree items render plain strings, but hostile text can still mislead:
// bidi overrides reorder what the reader sees, control characters and newlines break layouts, and huge
// strings freeze the UI. `plain()` removes those and caps the length.

// C0/C1 controls (except tab, mapped to space), bidi embeddings/overrides/isolates, zero-width and BOM.
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]/g;

/** One line of plain, display-safe text of at most `max` characters (an ellipsis marks truncation). */
export function plain(s: unknown, max = 200): string {
  let t = typeof s === 'string' ? s : s === undefined || s === null ? '' : String(s);
  if (t.length > max * 4) t = t.slice(0, max * 4);
  t = t.replace(/[\r\n\t]+/g, ' ').replace(UNSAFE, '').replace(/ {2,}/g, ' ').trim();
  if (t.length > max) t = `${t.slice(0, Math.max(0, max - 1)).trimEnd()}…`;
  return t;
}

/** Multi-line plain text (tooltips, log-ish output): keeps newlines, strips the rest like `plain`. */
export function plainBlock(s: unknown, max = 4000): string {
  let t = typeof s === 'string' ? s : s === undefined || s === null ? '' : String(s);
  if (t.length > max) t = `${t.slice(0, max - 1)}…`;
  return t.replace(/\r\n?/g, '\n').replace(/\t/g, '  ').replace(UNSAFE, '');
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
