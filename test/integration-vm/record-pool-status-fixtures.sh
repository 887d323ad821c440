#!/usr/bin/env bash
# Records what `zpool status` says of scrubs and pool health on OpenZFS 2.3 (the lab VM,
# test/lab/vm/vm.sh up) into test/fixtures/openzfs-2.3/ with the layout of
# test/lab/vm/record-fixtures.sh (NAME.cmd / .stdout / .stderr / .exit), appended to its
# manifest.json. Run it AFTER record-fixtures.sh, which deletes every fixture before recording.
# The pool facts read them (src/core/zfs/poolStatus.ts): last scrub, its errors, data errors.
#
# Two scratch pools on files in /var/tmp (destroyed at the end and on failure): zf-scrub (one
# vdev: never scrubbed, scrubbed clean, its vdev file overwritten while exported and scrubbed
# again: checksum errors and data errors, a scrub paused) and zf-mirror (a mirror with one side
# taken offline: DEGRADED). Status is asked as the product asks it: `env TZ=UTC LC_ALL=C zpool status`.
# Usage: record-pool-status-fixtures.sh [OUT_DIR]
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${1:-$(cd "$HERE/../fixtures" && pwd)/openzfs-2.3}
STATE=${ZFS_FLEET_LAB:-/tmp/zfs-fleet-lab}/vm
CFG=$STATE/ssh_config
[ -f "$CFG" ] || { echo "no $CFG: run test/lab/vm/vm.sh up first" >&2; exit 1; }
mkdir -p "$OUT"

CM=(-o ControlMaster=auto -o "ControlPath=$STATE/cm-poolstatus-%r" -o ControlPersist=60)
SCRATCH='for p in zf-scrub zf-mirror; do zpool destroy -f "$p" 2>/dev/null; done; rm -f /var/tmp/zf-*.img; true'
cleanup() {
  ssh -F "$CFG" "${CM[@]}" zfsvm "$SCRATCH" || true
  ssh -F "$CFG" "${CM[@]}" -O exit zfsvm 2>/dev/null || true
}
trap cleanup EXIT

run() { ssh -F "$CFG" "${CM[@]}" "$1" "$2"; }

NAMES=()
rec() {
  local name=$1 alias=$2 cmd=$3 rc
  printf '%s\n' "$cmd" >"$OUT/$name.cmd"
  set +e
  ssh -F "$CFG" "${CM[@]}" "$alias" "$cmd" >"$OUT/$name.stdout" 2>"$OUT/$name.stderr"
  rc=$?
  set -e
  if [ "$rc" = 255 ] && ! ssh -F "$CFG" "${CM[@]}" "$alias" true; then echo "ssh failed for $name: $(cat "$OUT/$name.stderr")" >&2; exit 1; fi
  echo "$rc" >"$OUT/$name.exit"
  NAMES+=("$name $alias")
  printf '%-44s exit %s\n' "$name" "$rc"
}

STATUS='env TZ=UTC LC_ALL=C zpool status'
echo "recording zpool status (scrubs, health) into $OUT"
run zfsvm "$SCRATCH"
run zfsvm 'set -e
truncate -s 256M /var/tmp/zf-scrub.img /var/tmp/zf-m1.img /var/tmp/zf-m2.img
zpool create -O compression=off zf-scrub /var/tmp/zf-scrub.img
zpool create zf-mirror mirror /var/tmp/zf-m1.img /var/tmp/zf-m2.img
head -c 96M /dev/urandom >/zf-scrub/a.bin
head -c 8M /dev/urandom >/zf-mirror/a.bin
sync'

rec root_zpool_status_never_scrubbed zfsvm "$STATUS zf-scrub"
run zfsvm 'zpool scrub -w zf-scrub'
rec root_zpool_status_scrubbed zfsvm "$STATUS zf-scrub"
# Overwrite the middle of the only vdev while the pool is exported (the labels at both ends stay).
run zfsvm 'set -e
zpool export zf-scrub
dd if=/dev/urandom of=/var/tmp/zf-scrub.img bs=1M seek=48 count=96 conv=notrunc status=none
zpool import -d /var/tmp zf-scrub'
rec root_zpool_scrub_with_errors zfsvm 'zpool scrub -w zf-scrub'
rec root_zpool_status_scrub_errors zfsvm "$STATUS zf-scrub"
rec root_zpool_status_scrub_paused zfsvm "zpool clear zf-scrub; zpool scrub zf-scrub && zpool scrub -p zf-scrub; $STATUS zf-scrub"
run zfsvm 'zpool offline zf-mirror /var/tmp/zf-m2.img'
rec root_zpool_status_degraded zfsvm "$STATUS zf-mirror"
rec root_zpool_list_degraded zfsvm 'zpool list -H -p -o name,health,size,allocated,free'
rec root_zpool_status_all zfsvm "$STATUS"

printf '%s\n' "${NAMES[@]}" | node -e '
const fs = require("fs"), path = require("path"), dir = process.argv[1];
const file = path.join(dir, "manifest.json");
const old = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8")) : [];
const rows = fs.readFileSync(0, "utf8").trim().split("\n").map((l) => {
  const [name, alias] = l.split(" ");
  const read = (ext) => fs.readFileSync(path.join(dir, name + ext), "utf8");
  return { name, alias, user: alias === "zfsvm-operator" ? "operator" : "root", cmd: read(".cmd").replace(/\n$/, ""), exit: Number(read(".exit")) };
});
const names = new Set(rows.map((r) => r.name));
fs.writeFileSync(file, JSON.stringify([...old.filter((r) => !names.has(r.name)), ...rows], null, 2) + "\n");
' "$OUT"
echo "recorded ${#NAMES[@]} fixtures into $OUT (manifest.json updated)"
