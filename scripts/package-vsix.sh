#!/usr/bin/env bash
# Production build + VSIX: dist/ bundled and minified by esbuild, packaged by vsce without node_modules
# (everything the extension needs at runtime is in dist/). Prints the path of the .vsix.
# usage: bash scripts/package-vsix.sh [out.vsix]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
VERSION=$(node -p "require('./package.json').version")
NAME=$(node -p "require('./package.json').name")
OUT="${1:-$ROOT/dist-vsix/$NAME-$VERSION.vsix}"
mkdir -p "$(dirname "$OUT")"
rm -rf dist/webview
node esbuild.mjs --production
for f in dist/extension.js dist/cli.js dist/receiveHook.js; do [ -s "$f" ] || { echo "missing $f after build" >&2; exit 1; }; done
ls dist/webview/*.js >/dev/null
npx --no-install vsce package --no-dependencies --allow-missing-repository --skip-license --no-update-package-json --no-rewrite-relative-links --out "$OUT" >&2
echo "$OUT"
