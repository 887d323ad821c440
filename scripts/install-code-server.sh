#!/usr/bin/env bash
# Install code-server 4.100.3 (VS Code 1.100, runs on the machine's Node 20) for the end-to-end
# tests, offline apart from the npm registry and Debian's archive. Idempotent: a second run
# returns at once when `bin/code-server --version` answers.
#
#   bash scripts/install-code-server.sh          # installs into $ZFS_FLEET_CACHE/code-server-4.100.3
#   ZFS_FLEET_CACHE=/some/dir bash scripts/install-code-server.sh
#
# What a fresh machine needs, step by step (each is skipped when already done):
#   1. apt packages: chromium (the test browser), ripgrep (stands in for @vscode/ripgrep's
#      download), and what node-gyp needs to build code-server's native modules
#      (build-essential, python3, pkg-config; libkrb5-dev for the `kerberos` module).
#   2. Node 20 with its headers (/usr/include/node): code-server's postinstall refuses any other
#      major, and node-gyp must build against local headers (it cannot download them).
#   3. Debian's rg packed as the tarball @vscode/ripgrep's postinstall looks for in its download
#      cache ($TMPDIR/vscode-ripgrep-cache-<pkg version>/ripgrep-<rg version>-<target>.tar.gz),
#      so it never goes to GitHub.
#   4. `npm install code-server@4.100.3` as the one dependency of a private package in STAGE, with
#      npm_config_unsafe_perm=true (as root the postinstall refuses without it) and
#      npm_config_yes=true. Not `npm install -g --prefix`: npm exports npm_config_global=true to the
#      postinstall, whose own `npm install` in lib/vscode then runs as a global install that
#      ignores VS Code's npm-shrinkwrap.json and fails extracting. The postinstall runs
#      `npm install` in lib/vscode and lib/vscode/extensions and builds the native modules
#      (node-pty, kerberos, spdlog, argon2, ...): the slow part, several minutes on 2 cores.
#   5. Check that the ripgrep binary and node-pty landed, link bin/code-server, move STAGE into
#      place, check `--version`.
set -euo pipefail

CS_VERSION=4.100.3
# @vscode/ripgrep as pinned by code-server 4.100.3's lib/vscode/npm-shrinkwrap.json, and the
# ripgrep release its postinstall downloads (VERSION in its lib/postinstall.js).
RG_PKG_VERSION=1.15.11
RG_RELEASE=v13.0.0-10

CACHE="${ZFS_FLEET_CACHE:-/var/cache/zfs-fleet}"
DEST="$CACHE/code-server-$CS_VERSION"
START=$(date +%s)

# `code-server --version` without touching ~/.config (it writes a default config.yaml with a
# password otherwise) or ~/.local/share.
cs_version() {
  local xdg rc=0 out
  xdg=$(mktemp -d)
  out=$(XDG_DATA_HOME="$xdg" XDG_CONFIG_HOME="$xdg" "$1" --config /dev/null --version 2>/dev/null | head -1) || rc=$?
  rm -rf "$xdg"
  [ "$rc" = 0 ] && [ -n "$out" ] && printf '%s\n' "$out"
}

log() { printf '[install-code-server %4ss] %s\n' "$(( $(date +%s) - START ))" "$*"; }
done_in() { log "$1 (took $(( $(date +%s) - START )) s)"; }
die() { log "ERROR: $*"; exit 1; }

# --- 1. apt packages -------------------------------------------------------------------------
APT_PACKAGES=(chromium ripgrep build-essential python3 pkg-config libkrb5-dev ca-certificates tar gzip)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  log "apt: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  log "apt: all of ${APT_PACKAGES[*]} present"
fi

# --- already installed? ----------------------------------------------------------------------
# One install at a time per cache (two test runs may start together): wait for the lock, then
# look again.
mkdir -p "$CACHE"
exec 9>"$CACHE/.install-code-server.lock"
flock 9
if [ -x "$DEST/bin/code-server" ] && v=$(cs_version "$DEST/bin/code-server") && [[ "$v" == "$CS_VERSION "* ]]; then
  log "code-server already installed in $DEST: $v"
  done_in "nothing to do"
  exit 0
fi

# --- 2. Node 20 and its headers --------------------------------------------------------------
command -v node >/dev/null || die "node is not installed (code-server $CS_VERSION needs Node 20)"
command -v npm >/dev/null || die "npm is not installed"
NODE_MAJOR=$(node -p 'process.versions.node.split(".")[0]')
[ "$NODE_MAJOR" = 20 ] || die "code-server $CS_VERSION needs Node 20, found $(node --version)"
NODE_PREFIX=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
if [ -z "${npm_config_nodedir:-}" ]; then
  if [ -f "$NODE_PREFIX/include/node/node.h" ]; then
    export npm_config_nodedir="$NODE_PREFIX"
  elif [ -f /usr/include/node/node.h ]; then
    export npm_config_nodedir=/usr
  else
    log "WARNING: no Node headers found (include/node/node.h); node-gyp will try to download them"
  fi
fi
log "node $(node --version), npm $(npm --version), nodedir ${npm_config_nodedir:-<none>}"

# --- 3. the ripgrep download cache -----------------------------------------------------------
rm -rf "$CACHE"/.install-code-server.*/ # left by an install that was killed
WORK=$(mktemp -d "$CACHE/.install-code-server.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
STAGE="$WORK/stage"
export TMPDIR="$WORK/tmp"
mkdir -p "$TMPDIR" "$STAGE"

case "$(uname -m)" in
  x86_64) RG_TARGET=x86_64-unknown-linux-musl ;;
  aarch64 | arm64) RG_TARGET=aarch64-unknown-linux-musl ;;
  *) die "unsupported architecture $(uname -m)" ;;
esac
RG_BIN=$(command -v rg) || die "rg not found after installing Debian's ripgrep"
RG_CACHE="$TMPDIR/vscode-ripgrep-cache-$RG_PKG_VERSION"
mkdir -p "$RG_CACHE" "$WORK/rg"
cp "$RG_BIN" "$WORK/rg/rg"
chmod 755 "$WORK/rg/rg"
tar -czf "$RG_CACHE/ripgrep-$RG_RELEASE-$RG_TARGET.tar.gz" -C "$WORK/rg" rg
log "ripgrep: $("$RG_BIN" --version | head -1) placed as $RG_CACHE/ripgrep-$RG_RELEASE-$RG_TARGET.tar.gz"

# --- 4. npm install ----------------------------------------------------------------------------
export npm_config_unsafe_perm=true
export npm_config_yes=true
export npm_config_fund=false
export npm_config_audit=false
export npm_config_update_notifier=false
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
NPM_LOG="$CACHE/install-code-server-$CS_VERSION.log"
log "npm: installing code-server@$CS_VERSION (builds native modules; several minutes; log: $NPM_LOG)"
cat >"$STAGE/package.json" <<JSON
{ "name": "zfs-fleet-code-server", "version": "$CS_VERSION", "private": true,
  "description": "code-server for ZFS Fleet's end-to-end tests (scripts/install-code-server.sh)" }
JSON
if ! (cd "$STAGE" && npm install --no-audit --no-fund --omit=dev "code-server@$CS_VERSION") >"$NPM_LOG" 2>&1; then
  tail -n 60 "$NPM_LOG" >&2 || true
  die "npm install of code-server@$CS_VERSION failed (full log: $NPM_LOG)"
fi
log "npm: done"

# --- 5. checks and move into place -----------------------------------------------------------
PKG="$STAGE/node_modules/code-server"
[ -f "$PKG/lib/vscode/out/server-main.js" ] || die "code-server's VS Code is missing in $PKG/lib/vscode"
[ -d "$PKG/lib/vscode/node_modules" ] || die "code-server's postinstall did not run (no lib/vscode/node_modules); see $NPM_LOG"
RG_IN="$PKG/lib/vscode/node_modules/@vscode/ripgrep/bin/rg"
"$RG_IN" --version >/dev/null 2>&1 || die "@vscode/ripgrep has no working bin/rg (is $RG_PKG_VERSION still the version code-server pins?); see $NPM_LOG"
node -e "require('$PKG/lib/vscode/node_modules/node-pty')" 2>/dev/null || die "node-pty did not build; see $NPM_LOG"

mkdir -p "$STAGE/bin"
ln -s ../node_modules/code-server/out/node/entry.js "$STAGE/bin/code-server"
rm -rf "$DEST"
mv "$STAGE" "$DEST"
v=$(cs_version "$DEST/bin/code-server") || die "$DEST/bin/code-server --version does not answer"
log "code-server installed in $DEST: $v"
done_in "installed"
