#!/usr/bin/env bash
# `npm run demo`: build the VSIX, make sure code-server is installed, then run `overseer demo`: a 9-agent demo fleet
# (nine research directions, synthetic dataset), the hub on 127.0.0.1:8787, the deterministic simulator acting as
# the agents, and code-server on 127.0.0.1:8080 with the extension installed and the fleet folder open.
# Ctrl-C stops everything. Extra arguments go to `overseer demo` (e.g. --fresh, --port, --cs-port, --seed).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
[ -d node_modules ] || npm ci
echo "building the extension (VSIX) ..."
VSIX="$(bash scripts/package-vsix.sh "$ROOT/.fleet-demo/overseer.vsix" | tail -n 1)"
CS="$ROOT/.tools/code-server/node_modules/code-server/out/node/entry.js"
if [ ! -f "$CS" ]; then
  echo "installing code-server (scripts/e2e-setup.sh) ..."
  bash scripts/e2e-setup.sh
fi
# exec: Ctrl-C goes straight to the demo process, which stops the simulator, code-server (its process group) and the hub.
exec node dist/cli.js demo --vsix "$VSIX" --code-server "$CS" "$@"
