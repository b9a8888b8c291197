#!/usr/bin/env bash
# Installs what the real-VS-Code tests need, without touching the root package.json:
#   apt: chromium (driven by playwright-core), ripgrep, libkrb5-dev (code-server's kerberos native module)
#   npm: code-server 4.100.3 (= VS Code 1.100.3, last release on Node 20) into .tools/code-server/
# Idempotent: re-running after a successful install is a no-op.
# --code-server-only (what `npm run demo` uses): no Chromium; the demo opens in your own browser.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TOOLS="$ROOT/.tools/code-server"
CS_VERSION=4.100.3
export DEBIAN_FRONTEND=noninteractive
CS_ONLY=0
[ "${1:-}" = "--code-server-only" ] && CS_ONLY=1

need=()
why=()
if [ "$CS_ONLY" = 0 ]; then
  command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || { need+=(chromium); why+=("chromium: the browser the e2e tests drive (playwright-core)"); }
fi
command -v rg >/dev/null 2>&1 || { need+=(ripgrep); why+=("ripgrep: code-server's search, from Debian instead of a download from GitHub"); }
dpkg -s libkrb5-dev >/dev/null 2>&1 || { need+=(libkrb5-dev); why+=("libkrb5-dev: headers for code-server's kerberos module, compiled on install"); }
if ((${#need[@]})); then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "apt-get install ${need[*]}${SUDO:+ (with sudo)}:"
  for w in "${why[@]}"; do echo "  - $w"; done
  $SUDO apt-get -o DPkg::Lock::Timeout=900 update -qq
  $SUDO apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "${need[@]}"
fi

if [ -f "$TOOLS/node_modules/code-server/package.json" ] &&
   node -e "process.exit(require('$TOOLS/node_modules/code-server/package.json').version==='$CS_VERSION'?0:1)"; then
  echo "code-server $CS_VERSION already installed in $TOOLS"
  exit 0
fi

# @vscode/ripgrep's postinstall downloads rg from GitHub; seed its cache with Debian's rg instead.
RG_CACHE="${TMPDIR:-/tmp}/vscode-ripgrep-cache-1.15.11"
RG_TGZ="$RG_CACHE/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz"
if [ ! -s "$RG_TGZ" ]; then
  d=$(mktemp -d); cp "$(command -v rg)" "$d/rg"; mkdir -p "$RG_CACHE"; tar czf "$RG_TGZ" -C "$d" rg; rm -rf "$d"
fi

mkdir -p "$TOOLS"
cat > "$TOOLS/package.json" <<JSON
{
  "name": "overseer-e2e-tools",
  "private": true,
  "description": "Real VS Code (code-server) for Overseer's e2e and extension-host tests; installed by scripts/e2e-setup.sh",
  "dependencies": { "code-server": "$CS_VERSION" }
}
JSON
# code-server's postinstall refuses root without unsafe-perm; node-pty's postinstall runs `npx node-gyp`
# (npm_config_yes avoids npx prompting). Nothing may download browser builds.
cd "$TOOLS"
echo "npm install code-server@$CS_VERSION into $TOOLS (VS Code in the browser; about 200 MB, once) ..."
npm_config_unsafe_perm=true npm_config_yes=true PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
  npm install --no-audit --no-fund --no-package-lock
node -e "require('$TOOLS/node_modules/code-server/package.json')" && echo "code-server $CS_VERSION installed in $TOOLS"
