// `npm run bench -- demo`: how long `npm run demo` takes until a newcomer has a usable workbench, cold and warm.
//   cold: no VSIX built yet, a new fleet, a code-server profile without the extension (what a first start builds);
//   warm: the same again, stopped with Ctrl-C and started a second time (the fleet resumed, nothing to build).
// Each start runs scripts/demo.sh exactly as `npm run demo` does (own ports, own fleet directory), prints every step
// the demo printed with its time, then opens the printed URL in Chromium (playwright-core) and counts the workbench
// as usable when the Overseer sidebar lists the agents and the queue. Tools already installed on this machine
// (node_modules, code-server) are not reinstalled; the line says so. Ends with `cold start: N s` / `warm start: N s`.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium } from 'playwright-core';

const ROOT = path.resolve(__dirname, '..');
const CODE_SERVER = path.join(ROOT, '.tools/code-server/node_modules/code-server/out/node/entry.js');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const p = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(p));
    });
  });
}

interface Start {
  steps: { at: number; text: string }[];
  urlAt: number;
  usableAt: number;
}

async function start(label: string, o: { fleetDir: string; vsix: string; fresh: boolean }): Promise<Start> {
  const [hubPort, csPort] = [await freePort(), await freePort()];
  const t0 = Date.now();
  const child: ChildProcess = spawn('bash', ['scripts/demo.sh', '--fleet', o.fleetDir, '--port', String(hubPort), '--cs-port', String(csPort), ...(o.fresh ? ['--fresh'] : [])], {
    cwd: ROOT,
    env: { ...process.env, OVERSEER_DEMO_T0: String(t0), OVERSEER_DEMO_VSIX: o.vsix },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let out = '';
  const steps: Start['steps'] = [];
  let url: string | undefined;
  let urlAt = 0;
  child.stdout!.on('data', (d: Buffer) => {
    out += d;
    for (const line of String(d).split('\n')) {
      const m = /^\[\s*([\d.]+) s\] (.*)$/.exec(line);
      if (m) steps.push({ at: Number(m[1]), text: m[2]! });
      const u = /^open:\s+(\S+)/.exec(line);
      if (u && !url) {
        url = u[1];
        urlAt = (Date.now() - t0) / 1000;
      }
    }
  });
  child.stderr!.on('data', (d: Buffer) => (out += d));
  const stop = async () => {
    if (child.exitCode !== null) return;
    process.kill(child.pid!, 'SIGINT'); // as Ctrl-C: the demo stops the simulator, code-server and the hub
    await new Promise<void>((r) => {
      const t = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          /* gone */
        }
        r();
      }, 30_000);
      child.once('exit', () => (clearTimeout(t), r()));
    });
  };
  try {
    const deadline = Date.now() + 600_000;
    while (!url) {
      if (child.exitCode !== null) throw new Error(`${label}: the demo exited (${child.exitCode}) before printing a URL:\n${out.slice(-3000)}`);
      if (Date.now() > deadline) throw new Error(`${label}: no URL after 600 s:\n${out.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
      page.setDefaultTimeout(180_000);
      await page.goto(url);
      const icon = page.locator('.part.activitybar a.action-label[aria-label^="Overseer"]');
      await icon.waitFor();
      const sidebarOpen = await page.locator('.part.sidebar .pane-header', { hasText: /^Queue/ }).first().isVisible().catch(() => false);
      if (!sidebarOpen) await icon.click();
      // usable: the sidebar is connected to the hub and shows the fleet (an agent row and a queue group)
      await page.locator('.part.sidebar .monaco-list-row', { hasText: /agent-1\b/ }).first().waitFor();
      await page.locator('.part.sidebar .monaco-list-row', { hasText: /Awaiting review/ }).first().waitFor();
      const usableAt = (Date.now() - t0) / 1000;
      return { steps, urlAt, usableAt };
    } finally {
      await browser.close();
    }
  } finally {
    await stop();
  }
}

function print(label: string, s: Start): void {
  console.log(`demo ${label} start:`);
  let prev = 0;
  for (const st of s.steps) {
    console.log(`  ${st.at.toFixed(1).padStart(6)} s  (+${(st.at - prev).toFixed(1).padStart(5)} s)  ${st.text}`);
    prev = st.at;
  }
  console.log(`  ${s.urlAt.toFixed(1).padStart(6)} s  URL printed`);
  console.log(`  ${s.usableAt.toFixed(1).padStart(6)} s  workbench usable (the Overseer sidebar lists the agents and the queue)`);
}

export async function benchDemo(): Promise<void> {
  if (!fs.existsSync(CODE_SERVER) || !fs.existsSync(CHROMIUM)) {
    console.log(`demo: skipped (needs code-server in .tools/ and Chromium at ${CHROMIUM}: npm run e2e:setup)`);
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-bench-demo-'));
  try {
    const o = { fleetDir: path.join(dir, 'fleet'), vsix: path.join(dir, 'overseer.vsix') };
    console.log('demo: node_modules and code-server are already installed here, so "cold" is a first start without a built');
    console.log('      VSIX, fleet or code-server profile (a fresh machine adds `npm ci` and the one-time code-server install).');
    const cold = await start('cold', { ...o, fresh: true });
    print('cold', cold);
    const warm = await start('warm', { ...o, fresh: false });
    print('warm', warm);
    console.log(`cold start: ${Math.round(cold.usableAt)} s`);
    console.log(`warm start: ${Math.round(warm.usableAt)} s`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
