// Browser side of agent-markdown rendering: markdown-it (layer 1, see markdown.ts) then DOMPurify
// (layer 2) into a DocumentFragment. Never assigns innerHTML on a live element.
import DOMPurify from 'dompurify';
import { ALLOWED_ATTR, ALLOWED_TAGS, ALLOWED_URI_REGEXP, renderMarkdown } from './markdown';
import { isSafeHref } from './text';

let hooked = false;

function purifier(): typeof DOMPurify {
  if (!hooked) {
    hooked = true;
    DOMPurify.addHook('afterSanitizeAttributes', (node) => {
      if (node.nodeName === 'A') {
        const href = node.getAttribute('href') ?? '';
        if (!isSafeHref(href)) node.removeAttribute('href');
        node.setAttribute('rel', 'noopener noreferrer nofollow');
      }
    });
  }
  return DOMPurify;
}

/** Sanitize an HTML string into a fragment (tags/attributes allow-listed, http(s) links only). */
export function sanitizeToFragment(html: string): DocumentFragment {
  return purifier().sanitize(html, {
    ALLOWED_TAGS,
    ALLOWED_ATTR,
    ALLOWED_URI_REGEXP,
    ALLOW_DATA_ATTR: false,
    ALLOW_ARIA_ATTR: false,
    RETURN_DOM_FRAGMENT: true,
  }) as unknown as DocumentFragment;
}

/** Agent markdown -> a detached, sanitized fragment wrapped in <div class="md">. */
export function markdownElement(src: unknown): HTMLElement {
  const div = document.createElement('div');
  div.className = 'md';
  div.append(sanitizeToFragment(renderMarkdown(src)));
  return div;
}
