// Bundles: dist/extension.js (node, cjs, vscode external), dist/cli.js (node), dist/receiveHook.js (node), dist/webview/*.js (browser).
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');
const common = { bundle: true, sourcemap: !production, minify: production, logLevel: 'warning', legalComments: 'none' };

const builds = [
  { ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', platform: 'node', format: 'cjs', target: 'node20', banner: { js: '#!/usr/bin/env node' } },
  // The hub's pre-receive check, started by git for every push (small, so it starts fast).
  { ...common, entryPoints: ['src/git/receiveHook.ts'], outfile: 'dist/receiveHook.js', platform: 'node', format: 'cjs', target: 'node20' },
];
if (fs.existsSync('src/host/extension.ts')) {
  builds.push({ ...common, entryPoints: ['src/host/extension.ts'], outfile: 'dist/extension.js', platform: 'node', format: 'cjs', target: 'node20', external: ['vscode'] });
}
const webviews = fs.existsSync('webview') ? fs.readdirSync('webview').filter((d) => d !== 'common' && fs.existsSync(`webview/${d}/main.ts`)) : [];
for (const w of webviews) {
  builds.push({ ...common, entryPoints: [`webview/${w}/main.ts`], outfile: `dist/webview/${w}.js`, platform: 'browser', format: 'iife', target: 'es2022' });
}

if (watch) {
  for (const b of builds) (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
  fs.chmodSync('dist/cli.js', 0o755);
  // The structural screener's tree-sitter runtime and grammars sit beside the bundles (the VSIX has no node_modules).
  const wasmSrc = 'node_modules/@vscode/tree-sitter-wasm/wasm';
  fs.mkdirSync('dist/tree-sitter-wasm', { recursive: true });
  for (const f of ['tree-sitter.wasm', 'tree-sitter-python.wasm', 'tree-sitter-bash.wasm']) fs.copyFileSync(`${wasmSrc}/${f}`, `dist/tree-sitter-wasm/${f}`);
}
