// Agent markdown -> HTML string, safe on its own (layer 1); DOMPurify is layer 2 in the browser.
// markdown-it with raw HTML off, no linkify, no typographer; links only to http(s) (everything else is
// rendered as text); images never load (alt text shown instead); bidi controls made visible. Pure: no DOM.
import MarkdownIt from 'markdown-it';
import { isSafeHref, plain } from './text';

export const MAX_MARKDOWN = 50_000;

let md: InstanceType<typeof MarkdownIt> | undefined;

function instance(): InstanceType<typeof MarkdownIt> {
  if (md) return md;
  const m = new MarkdownIt('commonmark', { html: false, linkify: false, typographer: false, breaks: false });
  m.disable(['image']);
  m.validateLink = (url: string) => isSafeHref(url);
  const defaultOpen = m.renderer.rules.link_open ?? ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
  m.renderer.rules.link_open = (tokens, idx, options, env, self) => {
    const t = tokens[idx];
    t.attrSet('rel', 'noopener noreferrer nofollow');
    t.attrSet('class', 'ext-link');
    const href = t.attrGet('href') ?? '';
    t.attrSet('title', href);
    return defaultOpen(tokens, idx, options, env, self);
  };
  md = m;
  return m;
}

/** Render agent markdown to an HTML string: escaped text, a small set of tags, http(s) links only. */
export function renderMarkdown(src: unknown, max = MAX_MARKDOWN): string {
  const text = plain(src, max);
  return instance().render(text);
}

/** The tags and attributes DOMPurify keeps (layer 2). */
export const ALLOWED_TAGS = [
  'p', 'br', 'hr', 'em', 'strong', 'code', 'pre', 'blockquote', 'ul', 'ol', 'li', 'a',
  'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'del', 's',
];
export const ALLOWED_ATTR = ['href', 'title', 'rel', 'class', 'start'];
/** DOMPurify's URI filter: http(s) only. */
export const ALLOWED_URI_REGEXP = /^https?:\/\//i;
