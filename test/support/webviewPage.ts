// A webview bundle in a real DOM (Debian's Chromium via playwright-core), with a stub of the VS Code webview
// API that records what the webview posts in `window.sent`. Returns undefined when Chromium is not installed.
import * as fs from 'node:fs';
import * as esbuild from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export async function openWebview(entry: string, opts: { css?: boolean } = {}): Promise<{ browser: Browser; page: Page } | undefined> {
  if (!fs.existsSync(CHROMIUM)) return undefined;
  const bundle = await esbuild.build({ entryPoints: [entry], bundle: true, write: false, format: 'iife', platform: 'browser' });
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  const page = await browser.newPage();
  await page.setContent('<!DOCTYPE html><html><body><div id="app"></div></body></html>');
  if (opts.css) await page.addStyleTag({ content: fs.readFileSync('media/webview.css', 'utf8') });
  await page.addScriptTag({
    content: 'window.sent = []; window.acquireVsCodeApi = function () { return { postMessage: function (m) { window.sent.push(m); }, getState: function () {}, setState: function () {} }; };',
  });
  await page.addScriptTag({ content: bundle.outputFiles[0]!.text });
  return { browser, page };
}

/** Deliver a host notification to the webview, as the extension would. */
export async function notify(page: Page, method: string, params: unknown): Promise<void> {
  await page.evaluate(([m, p]) => window.postMessage({ t: 'note', method: m, params: p }, '*'), [method, params] as [string, unknown]);
}

/** A mocha suite's page on one webview bundle (call inside `describe`): opened before its tests, closed after;
 * the suite is skipped when Chromium is not installed. The returned function gives the page inside tests. */
export function webviewSuite(entry: string, opts: { css?: boolean } = {}): () => Page {
  let opened: { browser: Browser; page: Page } | undefined;
  before(async function () {
    opened = await openWebview(entry, opts);
    if (!opened) this.skip();
  });
  after(async () => {
    await opened?.browser.close();
  });
  return () => opened!.page;
}
