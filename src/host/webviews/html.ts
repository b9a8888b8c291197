// The one HTML/CSP builder for every Overseer webview. Pure (no vscode import) so it is unit-tested
// under plain mocha; `index.ts` feeds it the webview's cspSource and asWebviewUri'd resource URIs.
import { randomBytes } from 'node:crypto';

export interface HtmlParts {
  /** `webview.cspSource` (the origin webview resources are served from). */
  cspSource: string;
  /** Webview URI of the bundled script (dist/webview/<surface>.js). */
  scriptUri: string;
  /** Webview URIs of stylesheets (media/*.css). */
  styleUris: string[];
  /** Surface name (review, forum, agent, leaderboard); set on <body data-surface>. */
  surface: string;
  title: string;
  nonce?: string;
}

/** 128 bits from the OS CSPRNG, base64: a fresh one per rendered document. */
export function makeNonce(): string {
  return randomBytes(16).toString('base64');
}

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export function escapeHtml(s: string): string {
  return String(s).replace(/[&<>"']/g, (c) => ESC[c]);
}

/** The Content-Security-Policy: nothing but our own nonce'd script and our own styles/fonts/images. */
export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  // VS Code: "https://*.vscode-cdn.net" / "vscode-webview://…"; code-server: "'self' https://*.vscode-cdn.net".
  const tokens = cspSource.split(' ').filter(Boolean);
  const ok = tokens.length > 0 && tokens.every((t) => t === "'self'" || /^[a-z][a-z0-9+.-]*:[^\s;,'"]*$/i.test(t) || /^\*\.[^\s;,'"]+$/.test(t));
  if (!ok) throw new Error(`unsafe cspSource ${JSON.stringify(cspSource)}`);
  return [
    "default-src 'none'",
    `img-src ${cspSource} data:`,
    `style-src ${cspSource}`,
    `font-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
    "connect-src 'none'",
    "frame-src 'none'",
    "form-action 'none'",
    "base-uri 'none'",
  ].join('; ');
}

export function buildHtml(p: HtmlParts): string {
  const nonce = p.nonce ?? makeNonce();
  if (!/^[A-Za-z0-9+/=]{16,}$/.test(nonce)) throw new Error('nonce must be base64 of at least 12 random bytes');
  if (!/^[a-z]+$/.test(p.surface)) throw new Error(`invalid surface ${JSON.stringify(p.surface)}`);
  const styles = p.styleUris.map((u) => `<link rel="stylesheet" href="${escapeHtml(u)}">`).join('\n    ');
  return `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <meta http-equiv="Content-Security-Policy" content="${escapeHtml(contentSecurityPolicy(p.cspSource, nonce))}">
    <meta name="viewport" content="width=device-width, initial-scale=1.0">
    ${styles}
    <title>${escapeHtml(p.title)}</title>
  </head>
  <body data-surface="${p.surface}">
    <div id="app" role="main" aria-busy="true"><p class="muted">Loading…</p></div>
    <script nonce="${nonce}" src="${escapeHtml(p.scriptUri)}"></script>
  </body>
</html>`;
}
