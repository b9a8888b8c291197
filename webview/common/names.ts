// The warning badge shown beside agent-chosen names (file, branch, agent, title) that could deceive:
// hidden characters, mixed scripts, look-alike letters (src/shared/textSafety, TR39 data).
import { h } from './dom';
import { nameFindings, nameBadge, type NameKind } from '../../src/shared/textSafety';

/** A `⚠ mixed scripts · look-alike letters` badge with the reasons as its tooltip, or null when the name is what it looks like. */
export function nameBadgeEl(name: unknown, kind: NameKind): HTMLElement | null {
  if (typeof name !== 'string') return null;
  const text = nameBadge(name, kind);
  if (!text) return null;
  const why = nameFindings(name, kind).map((f) => f.message).join('\n');
  return h('span', { class: 'name-warning', role: 'note', title: why, aria: { label: `warning: ${why}` } }, text);
}
