#!/usr/bin/env node
// Runs the extension-host test suites (test/exthost/**/*.test.ts and test/e2e/exthost/**/*.test.ts) inside a real VS Code extension host:
// code-server 4.100.3 + Chromium, workbench opened with ?payload=[extensionDevelopmentPath, extensionTestsPath]
// (the @vscode/test-web trick), results reported back through window.codeAutomationExit/Log.
// usage: node scripts/exthost-tests.mjs [--grep pattern] [test files...]
// env: OVERSEER_EXTHOST_TIMEOUT_MS (default 300000), KEEP=1 keeps the temp dirs.
import * as esbuild from 'esbuild';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { ROOT, checkTools, launchBrowser, startCodeServer } from './codeServer.mjs';

const T0 = Date.now();
const args = process.argv.slice(2);
let grep = '';
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--grep') grep = args[++i] ?? '';
  else files.push(args[i]);
}
checkTools();

function findTests(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? findTests(p) : n.endsWith('.test.ts') ? [p] : [];
  });
}
// The host suites first, then the webview suite (it switches the fleet directory to its own demo fleet).
const tests = files.length ? files.map((f) => resolve(ROOT, f)) : [...findTests(join(ROOT, 'test/exthost')).sort(), ...findTests(join(ROOT, 'test/e2e/exthost')).sort()];
if (!tests.length) {
  console.error('no test/exthost/**/*.test.ts suites found');
  process.exit(1);
}

// The extension itself (dev build, with source maps); each group's suites are bundled for the Node extension host.
execFileSync(process.execPath, ['esbuild.mjs'], { cwd: ROOT, stdio: 'inherit' });
const resultsDir = join(ROOT, 'test-results/exthost');
mkdirSync(resultsDir, { recursive: true });
async function runGroup(name, tests) {
  // unique per run: two runs at once (two engineers, or CI beside a local run) must not share bundles
  const OUT = join(ROOT, '.e2e/exthost', `${name}-${process.pid}`);
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  const entry = `
  const Mocha = require('mocha');
  const path = require('path');
exports.run = function run() {
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 60000, reporter: 'spec'${grep ? `, grep: ${JSON.stringify(grep)}` : ''} });
  // Accept both interfaces: describe/it (bdd) and suite/test (tdd).
  mocha.suite.on('pre-require', (g) => {
    g.suite = g.describe; g.test = g.it; g.suiteSetup = g.before; g.suiteTeardown = g.after; g.setup = g.beforeEach; g.teardown = g.afterEach;
  });
${tests.map((t, i) => `  mocha.addFile(path.join(__dirname, 'suite${i}.js'));`).join('\n')}
  return new Promise((resolve, reject) => {
    mocha.run((failures) => (failures > 0 ? reject(new Error(failures + ' extension-host test(s) failed')) : resolve()));
  });
};
`;
writeFileSync(join(OUT, 'index.js'), entry);
await Promise.all(
  tests.map((t, i) =>
    esbuild.build({
      entryPoints: [t],
      outfile: join(OUT, `suite${i}.js`),
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      sourcemap: 'inline',
      external: ['vscode', 'mocha'],
      logLevel: 'warning',
    }),
  ),
);
// mocha resolves from the repo's node_modules: .e2e/exthost is inside the repo.
console.log(`[${((Date.now() - T0) / 1000).toFixed(1)}s] bundled ${tests.length} suite(s): ${tests.map((t) => relative(ROOT, t)).join(', ')}`);

  const cs = await startCodeServer({
  keep: !!process.env.KEEP,
  env: { OVERSEER_EXTHOST: '1', OVERSEER_RESULTS_DIR: resultsDir },
  settings: { 'overseer.humanName': 'exthost-human' },
});
  const browser = await launchBrowser();
  let code = 'error';
try {
  const page = await browser.newPage();
  const remote = (p) => `vscode-remote://127.0.0.1:${cs.port}${p}`; // remote authority = the Host header code-server sees
  const payload = [['extensionDevelopmentPath', remote(ROOT)], ['extensionTestsPath', remote(join(OUT, 'index.js'))]];
  const exit = new Promise((res) => page.exposeFunction('codeAutomationExit', (c) => res(c)));
  await page.exposeFunction('codeAutomationLog', (_type, a) => console.log(...a));
  page.on('pageerror', (e) => console.error('[pageerror]', e.message));
  await page.goto(`${cs.base}/?folder=${encodeURIComponent(cs.ws)}&payload=${encodeURIComponent(JSON.stringify(payload))}`);
  const limit = Number(process.env.OVERSEER_EXTHOST_TIMEOUT_MS ?? 300_000);
  code = await Promise.race([exit, new Promise((r) => setTimeout(() => r('timeout'), limit))]);
} finally {
  await browser.close().catch(() => {});
  console.log(`extension-host tests [${name}] finished: exit code ${code} in ${((Date.now() - T0) / 1000).toFixed(1)}s`);
  if (code !== 0) console.error(cs.log().slice(-4000));
  cs.stop();
  if (!process.env.KEEP) rmSync(OUT, { recursive: true, force: true });
}
  return code === 0;
}

// Each group runs in its own fresh code-server: suites that dispose the shared hub connection or switch
// fleets cannot break the next group.
const groups = files.length
  ? [['selected', tests]]
  : [['host', tests.filter((t) => t.startsWith(join(ROOT, 'test/exthost')))], ['webviews', tests.filter((t) => t.startsWith(join(ROOT, 'test/e2e/exthost')))]].filter(([, g]) => g.length);
let ok = true;
for (const [name, group] of groups) ok = (await runGroup(name, group)) && ok;
process.exit(ok ? 0 : 1);
