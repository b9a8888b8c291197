// Shared harness for the real-VS-Code tests: a throwaway code-server 4.100.3 (installed by
// scripts/e2e-setup.sh into .tools/code-server) driven by Debian's Chromium through playwright-core.
// Used by scripts/exthost-tests.mjs and test/e2e/e2e.ts.
import { chromium } from 'playwright-core';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const CODE_SERVER = join(ROOT, '.tools/code-server/node_modules/code-server/out/node/entry.js');
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export function checkTools() {
  const missing = [];
  if (!existsSync(CODE_SERVER)) missing.push(`code-server (${CODE_SERVER})`);
  if (!existsSync(CHROMIUM)) missing.push(`chromium (${CHROMIUM})`);
  if (missing.length) throw new Error(`missing ${missing.join(' and ')}: run  bash scripts/e2e-setup.sh`);
}

export const BASE_SETTINGS = {
  'workbench.startupEditor': 'none',
  'security.workspace.trust.enabled': false,
  'workbench.tips.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  'update.mode': 'none',
  'workbench.reduceMotion': 'on',
  'remote.autoForwardPorts': false,
  'git.enabled': false,
  'chat.commandCenter.enabled': false,
  'workbench.layoutControl.enabled': false,
};

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => res(p));
    });
  });
}

/**
 * Start a fresh code-server. opts: { settings, vsix, env, workspaceFiles, keep }.
 * Returns { dir, ws, port, base, log(), installExtension(vsix), stop() }.
 */
export async function startCodeServer(opts = {}) {
  checkTools();
  const dir = mkdtempSync(join(tmpdir(), 'overseer-cs-'));
  const userData = join(dir, 'user-data');
  const exts = join(dir, 'extensions');
  const ws = opts.workspace ?? join(dir, 'workspace');
  mkdirSync(join(userData, 'User'), { recursive: true });
  mkdirSync(ws, { recursive: true });
  for (const [name, content] of Object.entries(opts.workspaceFiles ?? { 'README.md': 'workspace\n' })) writeFileSync(join(ws, name), content);
  writeFileSync(join(userData, 'User', 'settings.json'), JSON.stringify({ ...BASE_SETTINGS, ...(opts.settings ?? {}) }, null, 2));
  writeFileSync(join(dir, 'config.yaml'), 'auth: none\ncert: false\n'); // keeps ~/.config/code-server untouched
  const csArgs = ['--config', join(dir, 'config.yaml'), '--user-data-dir', userData, '--extensions-dir', exts];
  // EXTENSIONS_GALLERY={} disables the (unreachable) gallery; XDG_DATA_HOME keeps logs out of ~/.local/share.
  const env = { ...process.env, EXTENSIONS_GALLERY: '{}', XDG_DATA_HOME: join(dir, 'xdg-data'), ...(opts.env ?? {}) };
  if (opts.vsix) execFileSync(process.execPath, [CODE_SERVER, ...csArgs, '--install-extension', opts.vsix], { stdio: ['ignore', 'pipe', 'inherit'], env });
  const port = await freePort();
  const t0 = Date.now();
  const cs = spawn(
    process.execPath,
    [CODE_SERVER, ...csArgs, '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none', '--disable-telemetry', '--disable-update-check',
      '--disable-workspace-trust', '--disable-getting-started-override', ws],
    { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env }, // own process group: we kill the whole tree
  );
  let log = '';
  cs.stdout.on('data', (d) => (log += d));
  cs.stderr.on('data', (d) => (log += d));
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    try {
      process.kill(-cs.pid, 'SIGKILL');
    } catch {}
    if (!opts.keep) rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', stop);
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) break;
    } catch {}
    if (i > 600) {
      stop();
      throw new Error(`code-server did not start:\n${log.slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { dir, ws, port, base, startedMs: Date.now() - t0, log: () => log, stop };
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}
