#!/usr/bin/env bash
# Records the `zfs allow` shapes the parser and the permission audit are tested on, from the lab VM
# (test/lab/vm/vm.sh up), into test/fixtures/openzfs-2.3/ with the same layout as
# test/lab/vm/record-fixtures.sh (NAME.cmd / .stdout / .stderr / .exit) and appends them to its
# manifest.json. Run it AFTER record-fixtures.sh: that script deletes every fixture before recording.
#
# Everything happens under a scratch dataset, tank/zfs-fleet-allow (unmounted, a few KiB), destroyed
# at the end and on failure; the VM's own delegations (operator on tank and backup) are not touched.
# Usage: record-allow-fixtures.sh [OUT_DIR]
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${1:-$(cd "$HERE/../fixtures" && pwd)/openzfs-2.3}
STATE=${ZFS_FLEET_LAB:-/tmp/zfs-fleet-lab}/vm
CFG=$STATE/ssh_config
[ -f "$CFG" ] || { echo "no $CFG: run test/lab/vm/vm.sh up first" >&2; exit 1; }
mkdir -p "$OUT"

CM=(-o ControlMaster=auto -o "ControlPath=$STATE/cm-allow-%r" -o ControlPersist=60)
L=tank/zfs-fleet-allow
cleanup() {
  ssh -F "$CFG" "${CM[@]}" zfsvm "zfs destroy -r $L 2>/dev/null; zfs destroy -r $L-local 2>/dev/null; true" || true
  ssh -F "$CFG" "${CM[@]}" -O exit zfsvm 2>/dev/null || true
  ssh -F "$CFG" "${CM[@]}" -O exit zfsvm-operator 2>/dev/null || true
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
  # 255 is also what ssh returns when it fails: accept it from the command only if ssh still works
  # (`zfs allow` of a missing dataset exits 255).
  if [ "$rc" = 255 ] && ! ssh -F "$CFG" "${CM[@]}" "$alias" true; then echo "ssh failed for $name: $(cat "$OUT/$name.stderr")" >&2; exit 1; fi
  echo "$rc" >"$OUT/$name.exit"
  NAMES+=("$name $alias")
  printf '%-44s exit %s\n' "$name" "$rc"
}

echo "recording zfs allow shapes into $OUT"
run zfsvm "zfs destroy -r $L 2>/dev/null; zfs destroy -r $L-local 2>/dev/null; true"
# Every section and line kind `zfs allow` prints: permission sets (one nested), create-time
# permissions, Local / Descendent / Local+Descendent, user / group / everyone, names and numeric ids
# that do not resolve, receive:append; a child with its own Local grant.
run zfsvm "set -e
zfs create -u $L
zfs create -u $L/child
zfs allow -s @recv create,mount,receive $L
zfs allow -s @nested @recv,rollback $L
zfs allow -c create,mount,receive $L
zfs allow -l -u operator create,mount $L
zfs allow -l -g operator diff $L
zfs allow -d -u operator @recv,destroy $L
zfs allow -d -e bookmark $L
zfs allow -u operator hold,release,receive:append $L
zfs allow -g staff,operator snapshot $L
zfs allow -e userprop $L
zfs allow -u 4242 send $L
zfs allow -g 4343 @nested $L
zfs allow -l -u operator snapshot,compression $L/child"

rec root_zfs_allow_shapes_child zfsvm "zfs allow $L/child"
rec root_zfs_allow_shapes zfsvm "zfs allow $L"
rec operator_zfs_allow_shapes_child zfsvm-operator "zfs allow $L/child"
# The create-time permissions are granted, as Local, to the user who creates a dataset.
run zfsvm-operator "zfs create -u $L/made"
rec root_zfs_allow_created_by_operator zfsvm "zfs allow $L/made"
rec root_err_allow_not_exist zfsvm "zfs allow $L/nope"
rec root_err_allow_snapshot zfsvm 'zfs allow tank/off/products@20230501-0000'
rec root_zfs_allow_usage zfsvm 'zfs allow'
rec operator_id_names zfsvm-operator 'id -un && id -u && id -Gn && id -G'
rec root_id_names zfsvm 'id -un && id -u && id -Gn && id -G'
run zfsvm "set -e
zfs create -u -o compression=gzip -o recordsize=64K -o org.example:tag=x $L/props
zfs create -u -o mountpoint=/srv/zfs-fleet-allow $L/props/sub"
rec root_zfs_get_local_received zfsvm "zfs get -H -r -s local,received -o name,property all $L/props"
# Local-only grants on a parent (nothing inherited but tank's hold,send): the first receive of a new
# child is checked on the parent and passes; the next one is checked on the child and fails.
run zfsvm "set -e
zfs create -u $L-local
zfs allow -l -u operator create,mount,receive $L-local"
rec root_zfs_allow_local_only zfsvm "zfs allow $L-local"
run zfsvm "zfs destroy -r $L-local"
# What the permission audit's gatherer asks for a pull of tank/off/{products,images} into backup/off/…
# as the operator (the VM's own delegations, as \`vm.sh up\` leaves them).
rec operator_zfs_allow_products zfsvm-operator 'zfs allow tank/off/products'
rec operator_zfs_allow_images zfsvm-operator 'zfs allow tank/off/images'
rec operator_zfs_allow_off zfsvm-operator 'zfs allow tank/off'
rec operator_zfs_allow_users zfsvm-operator 'zfs allow tank/off/users'
rec operator_zfs_list_off_children zfsvm-operator 'zfs list -H -o name -r -t filesystem,volume tank/off'
rec operator_zfs_get_props_off_r zfsvm-operator 'zfs get -H -r -s local,received -o property all tank/off'
rec operator_zfs_allow_backup_off zfsvm-operator 'zfs allow backup/off'
rec operator_err_allow_missing zfsvm-operator 'zfs allow backup/off/zfs-fleet-missing'
rec operator_zfs_get_props_images zfsvm-operator 'zfs get -H -s local,received -o property all tank/off/images'
rec operator_zfs_get_props_products zfsvm-operator 'zfs get -H -s local,received -o property all tank/off/products'

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
