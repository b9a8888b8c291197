// Layer 2 of agent-markdown rendering (DOMPurify) needs a real DOM: bundle webview/common/sanitize.ts with
// esbuild and run it in Debian's Chromium (playwright-core). Skipped when Chromium is not installed.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as esbuild from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

describe('webview sanitize in a browser (markdown-it + DOMPurify)', function () {
  this.timeout(60_000);
  let browser: Browser | undefined;
  let page: Page;

  before(async function () {
    if (!fs.existsSync(CHROMIUM)) return this.skip();
    const bundle = await esbuild.build({
      stdin: {
        contents: "import { markdownElement } from './webview/common/sanitize'; (globalThis as any).render = (s: string) => markdownElement(s).outerHTML;",
        resolveDir: process.cwd(),
        loader: 'ts',
      },
      bundle: true,
      write: false,
      format: 'iife',
      platform: 'browser',
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
    page = await browser.newPage();
    await page.setContent('<!DOCTYPE html><html><body></body></html>');
    await page.addScriptTag({ content: bundle.outputFiles[0].text });
  });
  after(async () => {
    await browser?.close();
  });

  async function render(src: string): Promise<{ html: string; links: string[]; tags: string[]; handlers: number; fired: boolean }> {
    return page.evaluate((s) => {
      (window as unknown as { fired: boolean }).fired = false;
      const html = (globalThis as unknown as { render: (s: string) => string }).render(s);
      const host = document.createElement('div');
      host.innerHTML = html; // already sanitized; this is what the webview appends
      document.body.append(host);
      const els = [...host.querySelectorAll('*')];
      const out = {
        html,
        links: [...host.querySelectorAll('a[href]')].map((a) => a.getAttribute('href')!),
        tags: [...new Set(els.map((e) => e.tagName.toLowerCase()))],
        handlers: els.filter((e) => [...e.attributes].some((a) => a.name.startsWith('on') || a.name === 'style' || a.name === 'src')).length,
        fired: false,
      };
      host.remove();
      return out;
    }, src);
  }

  const HOSTILE = [
    '<script>window.fired = true</script>',
    '<img src=x onerror="window.fired = true">',
    '[x](command:workbench.action.terminal.new)',
    '[x](javascript:window.fired=true)',
    '<a href="javascript:window.fired=true">x</a>',
    '<details open ontoggle="window.fired=true">',
    '![x](https://evil.example/p.png)',
    '[x](https://ok.example/ "title\\" onmouseover=\\"window.fired=true")',
    '`<script>` and ```\n<script>window.fired=true</script>\n```',
    'a\u202Eb [c\u2066](https://ok.example/\u202E)',
  ];

  it('keeps only allow-listed tags, no handlers/styles/sources, and only http(s) links', async () => {
    const allowed = new Set(['div', 'span', 'p', 'br', 'hr', 'em', 'strong', 'code', 'pre', 'blockquote', 'ul', 'ol', 'li', 'a', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'del', 's']);
    for (const src of HOSTILE) {
      const r = await render(src);
      for (const t of r.tags) assert.ok(allowed.has(t), `${src}: tag ${t} in ${r.html}`);
      assert.equal(r.handlers, 0, `${src}: ${r.html}`);
      for (const l of r.links) assert.match(l, /^https?:\/\//, `${src}: link ${l}`);
      assert.equal(await page.evaluate(() => (window as unknown as { fired: boolean }).fired), false, src);
    }
  });

  it('still renders ordinary markdown', async () => {
    const r = await render('# Result\n\n**PGR 0.47** with `aux=0.5`\n\n- a\n- b\n\n[paper](https://arxiv.org/abs/2312.09390)');
    for (const t of ['h1', 'strong', 'code', 'ul', 'li', 'a']) assert.ok(r.tags.includes(t), `${t} missing in ${r.html}`);
    // Links are disarmed (no live href; a click asks first) and show their real target as text.
    assert.deepEqual(r.links, []);
    assert.match(r.html, /<a [^>]*role="link"[^>]*>paper<\/a><span class="link-target"> \(→ https:\/\/arxiv\.org\/abs\/2312\.09390\)<\/span>/);
  });

  it('shows bidi controls instead of applying them', async () => {
    const r = await render('x\u202Ey');
    assert.match(r.html, /⟦RLO U\+202E⟧/);
    assert.doesNotMatch(r.html, /\u202E/);
  });
});
