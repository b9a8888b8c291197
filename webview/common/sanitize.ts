// Browser side of agent-markdown rendering: markdown-it (layer 1, see markdown.ts) then DOMPurify
// (layer 2) into a DocumentFragment. Never assigns innerHTML on a live element.
// Agent content is framed as agent-written (a labelled box, with a warning when it speaks as the product),
// and its links are not live: each shows its real target, and a click asks first, naming the host.
import DOMPurify from 'dompurify';
import { ALLOWED_ATTR, ALLOWED_TAGS, ALLOWED_URI_REGEXP, renderMarkdown } from './markdown';
import { isSafeHref, oneLine } from './text';
import { claimsProductVoice, linkInfo } from '../../src/shared/textSafety';

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

/** Where each disarmed link goes (kept out of the DOM, so no attribute makes it live again). */
const targets = new WeakMap<Element, string>();

/** Open an http(s) URL the way a webview link click does (VS Code routes it to the external opener). */
function openExternal(url: string): void {
  const a = document.createElement('a');
  a.href = url;
  a.target = '_blank';
  a.rel = 'noopener noreferrer nofollow';
  a.style.display = 'none';
  document.body.append(a);
  a.click();
  a.remove();
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls: string, ...kids: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  e.className = cls;
  e.append(...kids);
  return e;
}

/** The inline confirmation under a clicked link: names the host and the full target, opens only on "Open". */
function confirmLink(link: HTMLElement, url: string): void {
  const after = link.nextElementSibling?.classList.contains('link-target') ? link.nextElementSibling : link;
  if (after.nextElementSibling?.classList.contains('link-confirm')) {
    (after.nextElementSibling.querySelector('button') as HTMLButtonElement | null)?.focus();
    return;
  }
  const info = linkInfo(url, link.textContent ?? '');
  const open = el('button', 'link-open', `Open ${info.host}`);
  const cancel = el('button', 'link-cancel', 'Cancel');
  open.type = 'button';
  cancel.type = 'button';
  const box = el(
    'span',
    'link-confirm',
    'Agent-written link. Open a page on ',
    el('strong', 'link-host', info.host),
    '? ',
    el('code', 'link-url', info.shown),
    info.mismatch ? el('span', 'link-mismatch', ' ⚠ the link text names a different site') : '',
    ' ',
    open,
    ' ',
    cancel,
  );
  box.setAttribute('role', 'alertdialog');
  box.setAttribute('aria-label', `Open a page on ${info.host}?`);
  open.addEventListener('click', () => {
    box.remove();
    openExternal(url);
  });
  cancel.addEventListener('click', () => {
    box.remove();
    link.focus();
  });
  after.after(box);
  open.focus();
}

function disarm(root: ParentNode): void {
  for (const a of [...root.querySelectorAll('a')]) {
    const href = a.getAttribute('href') ?? '';
    a.removeAttribute('href');
    if (!isSafeHref(href)) continue;
    targets.set(a, href);
    a.setAttribute('role', 'link');
    a.tabIndex = 0;
    a.title = `${linkInfo(href).shown} — asks before opening`;
    const go = (ev: Event) => {
      ev.preventDefault();
      confirmLink(a, targets.get(a)!);
    };
    a.addEventListener('click', go);
    a.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' || ev.key === ' ') go(ev);
    });
  }
}

export interface AgentTextOptions {
  /** Who wrote it (agent id or name), shown in the frame's label. */
  author?: string;
  /** Written by a human (a review comment, an agent's assigned direction): links still ask first, but no agent frame. */
  human?: boolean;
}

/** The frame every agent-written block sits in: a label that says so, and a warning if it speaks as the product. */
export function agentFrame(body: Node, sourceText: string, opts: AgentTextOptions = {}): HTMLElement {
  const frame = el('div', 'agent-text');
  const label = el('div', 'agent-label', `Agent-written${opts.author ? ` by ${oneLine(opts.author, 64)}` : ''} · not from Overseer`);
  if (claimsProductVoice(sourceText)) {
    frame.classList.add('impersonation');
    label.append(el('span', 'impersonation-warning', ' · ⚠ claims approval or checks that Overseer did not give'));
  }
  frame.append(label, body);
  return frame;
}

/** Agent markdown -> a detached, sanitized fragment wrapped in <div class="md">, inside the agent-written frame. */
export function markdownElement(src: unknown, opts: AgentTextOptions = {}): HTMLElement {
  const div = document.createElement('div');
  div.className = 'md';
  div.append(sanitizeToFragment(renderMarkdown(src)));
  disarm(div);
  if (opts.human) return div;
  return agentFrame(div, typeof src === 'string' ? src : '', opts);
}

/** Where a disarmed link goes (tests, accessibility tooling). */
export function linkTarget(a: Element): string | undefined {
  return targets.get(a);
}
