// The one HTML/CSP builder of every webview.
import assert from 'node:assert/strict';
import { buildHtml, contentSecurityPolicy, escapeHtml, makeNonce } from '../../../src/host/webviews/html';

const base = {
  cspSource: 'https://*.vscode-cdn.net',
  scriptUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview/review.js',
  styleUris: ['https://file+.vscode-resource.vscode-cdn.net/ext/media/webview.css'],
  surface: 'review',
  title: 'Review exp-1',
};

function csp(html: string): string {
  const m = /http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(html);
  assert.ok(m, 'no CSP meta tag');
  return m[1].replace(/&#39;/g, "'").replace(/&amp;/g, '&');
}

describe('webview html()', () => {
  it('locks the document down: default-src none, nonce scripts only, no inline styles or eval', () => {
    const nonce = makeNonce();
    const html = buildHtml({ ...base, nonce });
    const policy = csp(html);
    assert.match(policy, /default-src 'none'/);
    assert.match(policy, new RegExp(`script-src 'nonce-${nonce.replace(/[+/=]/g, (c) => `\\${c}`)}'`));
    assert.match(policy, /style-src https:\/\/\*\.vscode-cdn\.net(;|$)/);
    assert.doesNotMatch(policy, /unsafe-inline|unsafe-eval|\*;|script-src[^;]*https?:/);
    // The only script is ours, carrying the nonce.
    const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
    assert.equal(scripts.length, 1);
    assert.ok(scripts[0].includes(`nonce="${nonce}"`));
    assert.ok(scripts[0].includes(base.scriptUri));
  });

  it('uses a fresh 128-bit nonce each time', () => {
    const a = makeNonce();
    const b = makeNonce();
    assert.notEqual(a, b);
    assert.equal(Buffer.from(a, 'base64').length, 16);
    const h1 = buildHtml(base);
    const h2 = buildHtml(base);
    assert.notEqual(/nonce="([^"]+)"/.exec(h1)![1], /nonce="([^"]+)"/.exec(h2)![1]);
  });

  it('escapes the title and URIs', () => {
    const html = buildHtml({ ...base, title: 'Review <script>alert(1)</script> "x"' });
    assert.ok(html.includes('<title>Review &lt;script&gt;alert(1)&lt;/script&gt; &quot;x&quot;</title>'));
    assert.equal(escapeHtml(`<a href='x'>&`), '&lt;a href=&#39;x&#39;&gt;&amp;');
  });

  it("accepts VS Code's and code-server's cspSource, refuses anything that could widen the policy", () => {
    for (const ok of ['https://*.vscode-cdn.net', "'self' https://*.vscode-cdn.net", 'vscode-webview://abc123', 'vscode-resource:']) {
      assert.doesNotThrow(() => contentSecurityPolicy(ok, 'AAAAAAAAAAAAAAAAAAAAAA=='), ok);
    }
    for (const bad of ["'unsafe-inline'", "https://x; script-src 'unsafe-eval'", '*', 'https://x,https://y', '', "'self' 'unsafe-eval'", 'https://x\nscript-src *']) {
      assert.throws(() => contentSecurityPolicy(bad, 'AAAAAAAAAAAAAAAAAAAAAA=='), /unsafe cspSource/, bad);
    }
  });

  it('refuses weak nonces and odd surface names', () => {
    assert.throws(() => buildHtml({ ...base, nonce: 'abc' }), /nonce/);
    assert.throws(() => buildHtml({ ...base, nonce: `${'A'.repeat(22)}"onload="x` }), /nonce/);
    assert.throws(() => buildHtml({ ...base, surface: 'review"><script>' }), /invalid surface/);
  });
});
