#!/usr/bin/env bash
# `npm run demo`: a 9-agent demo fleet (nine research directions, the digits dataset), the hub on 127.0.0.1:8787, the
# simulator acting as the agents, and code-server on 127.0.0.1:8080 with the extension installed and the fleet open.
# Each step is printed with the time since the start and what it installs and why; a step with nothing to do says so
# (a warm start skips the dependencies, the VSIX build when no source changed, and the code-server install).
#   --no-browser   no code-server: print the hub URL and how to open the fleet in your own VS Code instead
#   --fresh        a new fleet (default: resume the last one)
# Ctrl-C stops everything; the next `npm run demo` resumes the fleet. Other arguments go to `overseer demo`
# (--port, --cs-port, --seed, --pace, ...; `node dist/cli.js demo --help`).
# OVERSEER_DEMO_VSIX: where the VSIX is built (default .fleet-demo/overseer.vsix).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
OVERSEER_DEMO_T0="${OVERSEER_DEMO_T0:-$(date +%s%3N)}"
export OVERSEER_DEMO_T0
step() { local now; now=$(date +%s%3N); printf '[%5.1f s] %s\n' "$(((now - OVERSEER_DEMO_T0) / 100))e-1" "$*"; }

NO_BROWSER=0
for a in "$@"; do
  case "$a" in
    --no-browser | --no-code-server) NO_BROWSER=1 ;;
    -h | --help)
      sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
  esac
done

# 1. dependencies
if [ -d node_modules ]; then
  step "dependencies: node_modules present"
else
  step "dependencies: npm ci (node_modules is missing; the extension, hub and CLI need them to build) ..."
  npm ci --no-audit --no-fund
fi

# 2. the extension (VSIX), rebuilt only when a source changed since the last build
VSIX="${OVERSEER_DEMO_VSIX:-$ROOT/.fleet-demo/overseer.vsix}"
if [ -s "$VSIX" ] && [ -s dist/cli.js ] && [ -z "$(find src webview media package.json esbuild.mjs -newer "$VSIX" -print -quit)" ]; then
  step "extension: $VSIX is up to date"
else
  step "extension: building the VSIX (esbuild + vsce, about 20 s) ..."
  VSIX="$(bash scripts/package-vsix.sh "$VSIX" | tail -n 1)"
  step "extension: built $VSIX"
fi

# 3. code-server (VS Code in the browser), installed once into .tools/ — not with --no-browser
CS="$ROOT/.tools/code-server/node_modules/code-server/out/node/entry.js"
if [ "$NO_BROWSER" = 1 ]; then
  step "code-server: skipped (--no-browser)"
elif [ -f "$CS" ]; then
  step "code-server: installed in .tools/code-server"
else
  step "code-server: not installed; installing it once into .tools/code-server (scripts/e2e-setup.sh --code-server-only:"
  step "  npm install of code-server 4.100.3, plus ripgrep and libkrb5-dev from apt if missing; no browser is installed)."
  step "  Skip this with --no-browser and open the fleet in your own VS Code."
  bash scripts/e2e-setup.sh --code-server-only
  step "code-server: installed"
fi

# exec: Ctrl-C goes straight to the demo process, which stops the simulator, code-server (its process group) and the hub.
exec node dist/cli.js demo --vsix "$VSIX" --code-server "$CS" "$@"
