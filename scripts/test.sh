#!/usr/bin/env bash
# The README's test command (`npm test`): installs what the tests need on a fresh Debian machine
# (apt packages through the lab scripts, npm packages, code-server), then runs every suite:
# type check, lint, unit, integration against the zfs-fuse lab over real sshd, and the packaged
# extension inside code-server. Run as root (the lab needs zfs-fuse and mount namespaces).
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$SECONDS
step() { printf '\n=== %s (%ss)\n' "$*" "$((SECONDS - t0))"; }

# Whatever this script starts (the lab, the VM) it stops on the way out, failed step or not; a lab
# or VM that was already running when it began is left as it was. ZFS_FLEET_KEEP_UP=1 keeps them.
started=()
teardown() {
  local rc=$?
  trap - EXIT INT TERM
  if [ "${ZFS_FLEET_KEEP_UP:-}" != 1 ]; then
    for what in "${started[@]}"; do
      case $what in
        vm) bash test/lab/vm/vm.sh down >&2 || true ;;
        lab) bash test/lab/lab.sh down >&2 || true ;;
        pg) bash test/lab/pg.sh down >&2 || true ;;
      esac
    done
  fi
  printf '\n=== exit %s after %ss\n' "$rc" "$((SECONDS - t0))"
  exit "$rc"
}
trap teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step "npm packages"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # `npm ci`: exactly the lock, or fail (the lock lists every platform's optional packages, so npm 10 and 11 both take it).
  npm ci --no-audit --no-fund
fi

step "build, type check, lint"
npm run --silent build
npm run --silent typecheck   # the extension, tests and benches; and webview-ui (the timeline, browser)
npm run --silent lint

step "unit tests"
# The quoting tests run fish and tcsh (the login shells the lab's users have): installed first.
bash test/lab/lab.sh packages
npx vitest run test/unit

step "lab (zfs-fuse hosts over real sshd)"
bash test/lab/lab.sh status >/dev/null 2>&1 || started=(lab "${started[@]}")
bash test/lab/lab.sh up

step "PostgreSQL for the fleet store (127.0.0.1:55432)"
bash test/lab/pg.sh status >/dev/null 2>&1 || started=(pg "${started[@]}")
ZFS_FLEET_PG_URL=$(bash test/lab/pg.sh up)
export ZFS_FLEET_PG_URL

step "integration tests"
npx vitest run test/integration

if [ "${ZFS_FLEET_SKIP_VM:-}" != 1 ]; then
  # OpenZFS 2.3.2 in a VM (built from Debian's packages, cached by recipe under
  # ${ZFS_FLEET_CACHE:-/var/cache/zfs-fleet}; about 9 minutes the first time on 2 cores, then seconds;
  # booted under TCG in 1-2 minutes): the features zfs-fuse lacks.
  step "OpenZFS 2.3 VM"
  bash test/lab/vm/vm.sh status >/dev/null 2>&1 || started=(vm "${started[@]}")
  bash test/lab/vm/vm.sh up
  step "integration tests on OpenZFS 2.3 (VM)"
  npx vitest run --config test/integration-vm/vitest.config.ts
fi

if [ "${ZFS_FLEET_SKIP_E2E:-}" != 1 ]; then
  step "package and e2e in code-server"
  npm run --silent package
  bash scripts/install-code-server.sh
  node test/e2e/smoke.mjs
  step "timeline webview in headless Chromium (the real bundle, the panel's CSP, models built from recorded listings)"
  npm run --silent test:webview
  step "extension tests through @vscode/test-electron runTests (VS Code executable: test/e2e/lib/vscode-shim)"
  # The shim reports a failing test as a failure: the sample suite passing, then with a
  # deliberately failing test (runTests must reject with TestRunFailedError).
  node test/e2e/runTests.mjs --suite sample --check-failure
  step "replication in VS Code: pure parts, UI walk, commands in the extension host"
  npx vitest run --config test/e2e/replication/vitest.config.mjs
  node test/e2e/replication/walk.mjs --no-readme-screenshot
  # The timeline: open it from the Replication view, read it (lanes, summary, base, tooltip), Sync up to Here.
  node test/e2e/timeline/walk.mjs --no-readme-screenshot
  # Fleet Health: the view and the status bar item on the lab's real state.
  node test/e2e/health/walk.mjs --no-readme-screenshot
  # The Queue view on a store of its own: jobs by state, pause/resume/retry/cancel/priority on rows.
  node test/e2e/queue/run.mjs
  # The replication mocha suite runs once, through runTests + the shim (the desktop route) rather
  # than through test/e2e/replication/run.mjs (the direct payload route): same suite, same lab set-up.
  node test/e2e/runTests.mjs
fi

step "done"
