// Agent markdown -> HTML string, safe on its own (layer 1); DOMPurify is layer 2 in the browser.
// markdown-it with raw HTML off, no linkify, no typographer; links only to http(s) (everything else is
// rendered as text), each followed by its real target in plain sight; images never load (alt text shown
// instead); hidden characters made visible (src/shared/textSafety). Markdown nested past the renderer's
// limit is shown whole as plain text instead of being cut off. Pure: no DOM.
import MarkdownIt from 'markdown-it';
import { linkInfo } from '../../src/shared/textSafety';
import { isSafeHref, plain } from './text';

export const MAX_MARKDOWN = 50_000;
/** markdown-it's nesting limit (commonmark preset): past it, the rest of a block would be dropped silently. */
export const MAX_NESTING = 20;

let md: InstanceType<typeof MarkdownIt> | undefined;

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function instance(): InstanceType<typeof MarkdownIt> {
  if (md) return md;
  const m = new MarkdownIt('commonmark', { html: false, linkify: false, typographer: false, breaks: false, maxNesting: MAX_NESTING });
  m.disable(['image']);
  m.validateLink = (url: string) => isSafeHref(url);
  const defaultOpen = m.renderer.rules.link_open ?? ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
  const defaultClose = m.renderer.rules.link_close ?? ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
  m.renderer.rules.link_open = (tokens, idx, options, env, self) => {
    const t = tokens[idx]!;
    t.attrSet('rel', 'noopener noreferrer nofollow');
    t.attrSet('class', 'ext-link');
    const href = t.attrGet('href') ?? '';
    t.attrSet('title', href);
    return defaultOpen(tokens, idx, options, env, self);
  };
  // After every link, its real target as text: `[https://github.com/x](https://evil.example)` reads
  // "https://github.com/x (→ https://evil.example ⚠ the text names another site)".
  m.renderer.rules.link_close = (tokens, idx, options, env, self) => {
    let open = idx - 1;
    let text = '';
    while (open >= 0 && tokens[open]!.type !== 'link_open') text = tokens[open--]!.content + text;
    const href = open >= 0 ? String(tokens[open]!.attrGet('href') ?? '') : '';
    const info = linkInfo(href, text);
    const warn = info.mismatch ? ' ⚠ the link text names another site' : '';
    return `${defaultClose(tokens, idx, options, env, self)}<span class="link-target"> (→ ${esc(info.shown)}${warn})</span>`;
  };
  md = m;
  return m;
}

/** Whether parsing reached the nesting limit somewhere (block or inline), where markdown-it stops and drops the rest. */
function hitsNestingLimit(tokens: ReturnType<InstanceType<typeof MarkdownIt>['parse']>): boolean {
  for (const t of tokens) {
    if (t.level + Math.max(0, t.nesting) >= MAX_NESTING - 1) return true;
    if (t.children && hitsNestingLimit(t.children)) return true;
  }
  return false;
}

/** Render agent markdown to an HTML string: escaped text, a small set of tags, http(s) links only. */
export function renderMarkdown(src: unknown, max = MAX_MARKDOWN): string {
  const text = plain(src, max);
  const m = instance();
  const env = {};
  const tokens = m.parse(text, env);
  if (hitsNestingLimit(tokens)) {
    return `<p class="md-note">Shown as plain text: this markdown nests too deeply to render (limit: ${MAX_NESTING - 2} levels), so nothing of it is dropped.</p><pre class="md-plain">${esc(text)}</pre>`;
  }
  return m.renderer.render(tokens, m.options, env);
}

/** The tags and attributes DOMPurify keeps (layer 2). */
export const ALLOWED_TAGS = [
  'p', 'br', 'hr', 'em', 'strong', 'code', 'pre', 'blockquote', 'ul', 'ol', 'li', 'a', 'span',
  'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'del', 's',
];
export const ALLOWED_ATTR = ['href', 'title', 'rel', 'class', 'start'];
/** DOMPurify's URI filter: http(s) only. */
export const ALLOWED_URI_REGEXP = /^https?:\/\//i;
