// Small helpers shared by the real-VS-Code end-to-end phases (test/e2e/e2e.ts, test/e2e/e2eSimulated.ts):
// VSIX packaging, the fleet's ledger as the hub wrote it, polling, and the workbench actions a reviewer uses
// (command palette, sidebar tree rows, the extension's webview frames, numbered screenshots).
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FrameLocator, Locator, Page } from 'playwright-core';
import { ROOT } from '../../scripts/codeServer.mjs';

export const EXT_ID = 'overseer-dev.overseer';

export interface LedgerLine {
  seq: number;
  type: string;
  actor: { kind: string; id: string };
  data: Record<string, unknown>;
}

export function ledger(fleetDir: string): LedgerLine[] {
  return fs
    .readFileSync(path.join(fleetDir, 'ledger.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as LedgerLine);
}

export async function until<T>(what: string, fn: () => T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Poll an asynchronous count (e.g. a locator's) until it equals `want`. */
export async function untilCount(what: string, count: () => Promise<number>, want: number, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  let got = await count();
  while (got !== want) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${got}, want ${want}`);
    await new Promise((r) => setTimeout(r, 100));
    got = await count();
  }
}

/** Elapsed-time logger: `[12.3s] message`. */
export function stopwatch(): (m: string) => void {
  const t0 = Date.now();
  return (m: string) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s] ${m}`);
}

/** Build the production VSIX into `out` (scripts/package-vsix.sh); E2E_VSIX=path skips packaging. Resolves to the .vsix path. */
export function packageVsix(out: string): Promise<string> {
  if (process.env.E2E_VSIX) return Promise.resolve(process.env.E2E_VSIX);
  return new Promise((resolve, reject) => {
    const child = execFile('bash', [path.join(ROOT, 'scripts/package-vsix.sh'), out], { cwd: ROOT, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 }, (err, stdout) => {
      if (err) return reject(err);
      const vsix = stdout.trim().split('\n').pop();
      if (!vsix || !fs.existsSync(vsix)) return reject(new Error(`package-vsix.sh printed no VSIX path: ${stdout.slice(-500)}`));
      resolve(vsix);
    });
    child.stderr?.pipe(process.stderr);
  });
}

export interface Workbench {
  page: Page;
  /** Save `<nn>-<name>.png` into the shots directory (optionally only a region of the page); resolves to its path. */
  shot(name: string, clip?: { x: number; y: number; width: number; height: number }): Promise<string>;
  /** A notification toast by its message. */
  toast(text: string | RegExp): Locator;
  /** Run a command from the command palette (F1) by its title. */
  palette(command: string): Promise<void>;
  /** The document inside the visible webview of the Overseer extension. */
  webview(): FrameLocator;
  /** A row of a sidebar tree, by its visible text (labels + descriptions). */
  treeItem(text: RegExp): Locator;
  /** The header of a sidebar view (Queue, Agents, Forum...). */
  paneHeader(title: string): Locator;
}

export function workbench(page: Page, shotsDir: string, log: (m: string) => void): Workbench {
  let n = 0;
  return {
    page,
    async shot(name, clip) {
      const p = path.join(shotsDir, `${String(++n).padStart(2, '0')}-${name}.png`);
      await page.screenshot({ path: p, animations: 'disabled', clip });
      log(`shot ${path.relative(ROOT, p)}`);
      return p;
    },
    toast: (text) => page.locator('.notifications-toasts .notification-list-item-message', { hasText: text }),
    // F1 pressed while a webview has the focus reaches the workbench only through the webview's key forwarding,
    // which a reloading page can drop; and a page taking the focus while the palette is open closes it. So the
    // palette starts from the focused activity bar, and is tried again (up to 3 times) when it does not hold.
    async palette(command) {
      const input = page.locator('.quick-input-widget input.input');
      for (let i = 1; ; i++) {
        await page.locator('.part.activitybar .action-label').first().focus().catch(() => undefined);
        await page.keyboard.press('F1');
        try {
          await input.waitFor({ timeout: 5_000 });
          await input.fill(`>${command}`, { timeout: 5_000 });
          await page.locator('.quick-input-list .monaco-list-row', { hasText: command }).first().waitFor({ timeout: 5_000 });
          await page.keyboard.press('Enter');
          return;
        } catch (err) {
          if (i === 3) throw err;
          log(`command palette closed before "${command}" ran (try ${i}), again`);
          if (await input.isVisible()) await page.keyboard.press('Escape');
        }
      }
    },
    webview: () => page.frameLocator(`iframe.webview.ready[src*="extensionId=${EXT_ID}"]:visible`).frameLocator('#active-frame'),
    treeItem: (text) => page.locator('.part.sidebar .monaco-list-row', { hasText: text }).first(),
    paneHeader: (title) => page.locator('.part.sidebar .pane-header', { hasText: new RegExp(`^${title}`) }).first(),
  };
}
