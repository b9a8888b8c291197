// Tiny DOM builder: strings always become text nodes (never HTML). Attributes go through setAttribute,
// except `href`, which is refused here (links come only from the sanitizer).
import { plain } from './text';

export type Child = Node | string | number | null | undefined | false | Child[];
export interface Attrs {
  class?: string;
  id?: string;
  title?: string;
  role?: string;
  tabindex?: number;
  dataset?: Record<string, string>;
  aria?: Record<string, string>;
  on?: Partial<Record<keyof HTMLElementEventMap, (e: Event) => void>>;
  [attr: string]: unknown;
}

const RESERVED = new Set(['class', 'dataset', 'aria', 'on']);

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs | null, ...children: Child[]): HTMLElementTagNameMap[K];
export function h(tag: string, attrs?: Attrs | null, ...children: Child[]): HTMLElement;
export function h(tag: string, attrs?: Attrs | null, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  if (attrs) {
    if (attrs.class) el.className = attrs.class;
    for (const [k, v] of Object.entries(attrs.dataset ?? {})) el.dataset[k] = v;
    for (const [k, v] of Object.entries(attrs.aria ?? {})) el.setAttribute(`aria-${k}`, v);
    for (const [k, v] of Object.entries(attrs.on ?? {})) if (v) el.addEventListener(k, v);
    for (const [k, v] of Object.entries(attrs)) {
      if (RESERVED.has(k) || v === undefined || v === null || v === false) continue;
      if (k === 'href' || k === 'src' || k === 'srcdoc' || k.startsWith('on') || k === 'style') throw new Error(`h(): ${k} is not allowed`);
      if (k === 'title') el.setAttribute('title', plain(v, 2000));
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

export function append(el: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (typeof c === 'string' || typeof c === 'number') el.appendChild(document.createTextNode(plain(String(c))));
    else el.appendChild(c);
  }
}

export function replace(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

export function $(sel: string, root: ParentNode = document): HTMLElement | null {
  return root.querySelector(sel);
}

/** A vscode-elements button (falls back to a plain button look if the element is not registered). */
export function button(label: string, onClick: () => void, opts: { id?: string; secondary?: boolean; title?: string; disabled?: boolean } = {}): HTMLElement {
  const b = h('vscode-button', { id: opts.id, title: opts.title, secondary: opts.secondary, disabled: opts.disabled, on: { click: () => onClick() } }, label);
  return b;
}
