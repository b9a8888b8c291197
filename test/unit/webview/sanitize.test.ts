// Agent-written text is hostile: layer 1 (markdown-it, pure) and the plain-text helpers under plain mocha.
import assert from 'node:assert/strict';
import { MAX_MARKDOWN, renderMarkdown } from '../../../webview/common/markdown';
import { MAX_TEXT, hasBidi, isSafeHref, neutralizeBidi, oneLine, plain } from '../../../webview/common/text';

/** Every href="..." in an HTML string. */
function hrefs(html: string): string[] {
  return [...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1]);
}

describe('webview sanitize: markdown (layer 1)', () => {
  it('escapes raw HTML instead of rendering it', () => {
    for (const src of ['<script>alert(1)</script>', '<img src=x onerror=alert(1)>', '<iframe src="https://evil"></iframe>', '<a href="command:x">x</a>', '<svg onload=alert(1)>']) {
      const out = renderMarkdown(src);
      assert.doesNotMatch(out, /<(script|img|iframe|svg|a)\b/i, out);
      assert.match(out, /&lt;/);
    }
  });

  it('renders http(s) links, with rel=noopener', () => {
    const out = renderMarkdown('[paper](https://arxiv.org/abs/2312.09390) and <http://example.com/x>');
    assert.deepEqual(hrefs(out), ['https://arxiv.org/abs/2312.09390', 'http://example.com/x']);
    assert.match(out, /rel="noopener noreferrer nofollow"/);
  });

  it('never turns command:, javascript:, data:, file:, vscode: or protocol-relative URLs into links', () => {
    const bad = [
      '[x](command:workbench.action.terminal.new)',
      '[x](command:_workbench.downloadResource?%5B%22file%3A%2F%2F%2Fetc%2Fpasswd%22%5D)',
      '[x](javascript:alert(1))',
      '[x](JaVaScRiPt:alert(1))',
      '[x](java\tscript:alert(1))',
      '[x](&#106;avascript:alert(1))',
      '[x](data:text/html;base64,PHNjcmlwdD4=)',
      '[x](file:///etc/passwd)',
      '[x](vscode://ms-vscode.foo/bar)',
      '[x](//evil.example/)',
      '<command:workbench.action.terminal.new>',
      '<javascript:alert(1)>',
      '[x][r]\n\n[r]: javascript:alert(1)',
      '[x](https://user:pass@evil.example/)',
    ];
    for (const src of bad) {
      const out = renderMarkdown(src);
      assert.deepEqual(hrefs(out), [], `${src} -> ${out}`);
    }
  });

  it('does not load images (remote trackers)', () => {
    const out = renderMarkdown('![pixel](https://evil.example/p.png) ![x](data:image/png;base64,AAAA)');
    assert.doesNotMatch(out, /<img/i);
    assert.doesNotMatch(out, /src=/i);
  });

  it('makes bidi control characters visible (Trojan Source)', () => {
    const out = renderMarkdown('access\u202E \u2066level\u2069 = "user"');
    assert.ok(!hasBidi(out));
    assert.match(out, /⟦RLO U\+202E⟧/);
    assert.match(out, /⟦LRI U\+2066⟧/);
  });

  it('caps huge input and still renders markdown', () => {
    const huge = `**start** ${'x'.repeat(5_000_000)}`;
    const out = renderMarkdown(huge);
    assert.ok(out.length < MAX_MARKDOWN + 1000, `output ${out.length} chars`);
    assert.match(out, /<strong>start<\/strong>/);
    assert.match(out, /more characters hidden/);
  });

  it('survives pathological nesting', () => {
    const out = renderMarkdown(`${'>'.repeat(5000)} ${'*'.repeat(20000)}${'['.repeat(20000)}`);
    assert.equal(typeof out, 'string');
    assert.doesNotMatch(out, /<script/i);
  });

  it('treats non-string input as text', () => {
    assert.equal(renderMarkdown(undefined), '');
    assert.match(renderMarkdown({ toString: () => '<b>x</b>' }), /&lt;b&gt;/);
  });
});

describe('webview sanitize: plain text', () => {
  it('isSafeHref accepts only absolute http(s) without credentials', () => {
    for (const u of ['https://example.com', 'http://127.0.0.1:8080/x?y#z', 'HTTPS://EXAMPLE.COM']) assert.equal(isSafeHref(u), true, u);
    for (const u of ['command:foo', 'javascript:alert(1)', ' javascript:alert(1)', 'data:,x', '//evil', '/relative', '#anchor', 'https://a:b@evil', 'https://evil\u202E.com', 'vscode://x', 'file:///etc/passwd', ''])
      assert.equal(isSafeHref(u), false, u);
  });

  it('plain() marks control and zero-width characters (never removes them) and caps length', () => {
    assert.equal(plain('a\u0000b\u0007c\u200Bd'), 'a⟦NUL U+0000⟧b⟦BEL U+0007⟧c⟦ZWSP U+200B⟧d');
    assert.equal(plain('tab\tand\nnewline'), 'tab\tand\nnewline');
    const long = plain('y'.repeat(MAX_TEXT + 50));
    assert.ok(long.startsWith('y'.repeat(MAX_TEXT)));
    assert.match(long, /50 more characters hidden/);
    assert.equal(plain(null), '');
    assert.equal(plain(42), '42');
  });

  it('oneLine() collapses newlines (titles cannot fake extra rows)', () => {
    assert.equal(oneLine('title\n\nApproved by lead\r\n'), 'title Approved by lead ');
    assert.equal(oneLine('x'.repeat(600), 10).slice(0, 10), 'x'.repeat(10));
  });

  it('neutralizeBidi marks every bidi control', () => {
    const all = '\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069\u200E\u200F\u061C';
    const out = neutralizeBidi(all);
    assert.ok(!hasBidi(out));
    assert.equal(out.match(/⟦[A-Z]+ U\+/g)?.length, all.length);
  });
});
