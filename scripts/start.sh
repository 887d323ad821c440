#!/usr/bin/env bash
# Runs the product on a fresh Debian machine (as root): the ZFS lab (three zfs-fuse hosts behind real
# sshd), the extension packaged and installed into code-server (a real VS Code), served on
# http://127.0.0.1:${PORT:-8080}. Ctrl-C stops VS Code; `npm run lab -- down` stops the lab.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then npm ci --no-audit --no-fund; fi
bash test/lab/lab.sh up
bash test/lab/lab.sh incident   # seed 000 on datasets of its own: the Replication view shows it first
npm run --silent package
bash scripts/install-code-server.sh
exec node scripts/start.mjs
