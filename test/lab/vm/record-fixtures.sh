#!/usr/bin/env bash
# Records real OpenZFS 2.3 outputs from the lab VM (vm.sh up) as fixtures:
#   test/fixtures/openzfs-2.3/NAME.cmd     the command line, run by the remote login shell (bash)
#   test/fixtures/openzfs-2.3/NAME.stdout  exact stdout
#   test/fixtures/openzfs-2.3/NAME.stderr  exact stderr
#   test/fixtures/openzfs-2.3/NAME.exit    exit code
#   test/fixtures/openzfs-2.3/manifest.json  every fixture: name, ssh alias, user, cmd, exit
# NAME starts with the user it ran as (root_ / operator_). The VM is reset to the state
# `vm.sh up` leaves before recording, and again afterwards (pass --keep to leave the
# replicas, holds, bookmark and clone in place).
# Usage: record-fixtures.sh [--keep] [OUT_DIR]
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KEEP=0
if [ "${1:-}" = --keep ]; then KEEP=1; shift; fi
OUT=${1:-$(cd "$HERE/../../fixtures" && pwd)/openzfs-2.3}
STATE=${ZFS_FLEET_LAB:-/tmp/zfs-fleet-lab}/vm
CFG=$STATE/ssh_config
[ -f "$CFG" ] || { echo "no $CFG: run test/lab/vm/vm.sh up first" >&2; exit 1; }
mkdir -p "$OUT"

CM=(-o ControlMaster=auto -o "ControlPath=$STATE/cm-%r" -o ControlPersist=120)
close_masters() {
  ssh -F "$CFG" "${CM[@]}" -O exit zfsvm 2>/dev/null || true
  ssh -F "$CFG" "${CM[@]}" -O exit zfsvm-operator 2>/dev/null || true
}
trap close_masters EXIT

# run ALIAS CMD: an unrecorded preparation step that must succeed
run() { ssh -F "$CFG" "${CM[@]}" "$1" "$2"; }

MANIFEST=()
# rec NAME ALIAS CMD: record one command
rec() {
  local name=$1 alias=$2 cmd=$3 rc user=root
  [ "$alias" = zfsvm-operator ] && user=operator
  printf '%s\n' "$cmd" >"$OUT/$name.cmd"
  set +e
  ssh -F "$CFG" "${CM[@]}" "$alias" "$cmd" >"$OUT/$name.stdout" 2>"$OUT/$name.stderr"
  rc=$?
  set -e
  if [ "$rc" = 255 ]; then echo "ssh failed for $name: $(cat "$OUT/$name.stderr")" >&2; exit 1; fi
  echo "$rc" >"$OUT/$name.exit"
  MANIFEST+=("$name $alias $user")
  printf '%-44s exit %s\n' "$name" "$rc"
}

# Back to the state `vm.sh up` leaves: no holds, no bookmarks, backup holds only backup/off.
RESET='set -e
if [ -f /run/zfs-fleet-stalled.pgid ]; then
  kill -- -"$(cat /run/zfs-fleet-stalled.pgid)" 2>/dev/null || true
  rm -f /run/zfs-fleet-stalled.pgid
  for i in $(seq 1 50); do pgrep -f "zfs recv -u backup/off/stalled" >/dev/null || break; sleep 0.2; done
fi
if [ -f /run/zfs-fleet-busy.pid ]; then
  kill "$(cat /run/zfs-fleet-busy.pid)" 2>/dev/null || true
  rm -f /run/zfs-fleet-busy.pid
  sleep 0.5
fi
for s in $(zfs list -H -o name -t snapshot -r tank backup); do
  zfs holds -H "$s" | cut -f2 | while read -r tag; do zfs release "$tag" "$s"; done
done
zfs list -H -o name -t bookmark -r tank backup | while read -r b; do zfs destroy "$b"; done
zfs list -H -o name,receive_resume_token -t filesystem -r backup | awk -F"\t" "\$2 != \"-\" {print \$1}" \
  | while read -r d; do zfs recv -A "$d"; done
zfs list -H -o name -d 1 -t filesystem,volume backup | { grep -v "^backup$" || true; } \
  | while read -r d; do zfs destroy -R "$d"; done
zfs destroy -r tank/off@operator-test 2>/dev/null || true
zfs create backup/off'

LIST_COLS=name,type,creation,createtxg,guid,used,available,referenced,written,mountpoint,readonly,origin,clones,userrefs,encryption,receive_resume_token
S1=20230501-0000 S2=20230515-0000 S3=20230530-2330

echo "recording into $OUT"
find "$OUT" -maxdepth 1 -type f \( -name '*.cmd' -o -name '*.stdout' -o -name '*.stderr' -o -name '*.exit' \) -delete
run zfsvm "$RESET"

# --- versions, pools ----------------------------------------------------------------------
rec root_uname zfsvm 'uname -r'
rec root_zfs_version zfsvm 'zfs version'
rec root_zpool_list_hp zfsvm 'zpool list -H -p -o name,health,size,allocated,free'
rec root_zpool_list zfsvm 'zpool list'
rec root_zpool_list_json zfsvm 'zpool list -j'
rec root_zpool_list_json_int zfsvm 'zpool list -j --json-int'
rec root_zpool_list_json_p zfsvm 'zpool list -j -p'
rec root_zpool_status zfsvm 'zpool status tank backup'
rec root_zpool_status_json zfsvm 'zpool status -j'

# --- the source tree as `vm.sh up` leaves it ------------------------------------------------
rec root_zfs_list_tank_initial zfsvm "zfs list -H -p -t all -r -o $LIST_COLS tank"
rec root_zfs_list_snapshots_products zfsvm "zfs list -H -p -t snapshot -o name,guid,createtxg,creation -s createtxg -r tank/off/products"
rec root_zfs_list_human zfsvm 'zfs list -t all -r tank'
rec root_zfs_get_all_products zfsvm 'zfs get -H -p all tank/off/products'
rec root_zfs_get_all_products_json zfsvm 'zfs get -j -p all tank/off/products'
rec root_zfs_allow_tank zfsvm 'zfs allow tank'
rec root_zfs_allow_backup zfsvm 'zfs allow backup'

# --- holds and bookmarks ------------------------------------------------------------------
run zfsvm "zfs hold keep tank/off/products@$S1"
rec operator_zfs_hold zfsvm-operator "zfs hold operator-sync tank/off/products@$S2"
rec root_zfs_holds zfsvm "zfs holds -H tank/off/products@$S1"
rec root_zfs_holds_p_multi zfsvm "zfs holds -H -p tank/off/products@$S1 tank/off/products@$S2 tank/off/products@$S3"
rec root_zfs_holds_recursive zfsvm "zfs holds -r tank/off@$S1"
rec root_zfs_bookmark zfsvm "zfs bookmark tank/off/products@$S1 tank/off/products#$S1"
rec root_zfs_list_bookmark zfsvm 'zfs list -t bookmark'
rec root_zfs_list_bookmark_hp zfsvm 'zfs list -H -p -t bookmark -o name,type,guid,createtxg,creation -r tank'

# --- send size estimates and a replica on backup --------------------------------------------
rec root_send_nvP_full zfsvm "zfs send -nvP tank/off/products@$S1"
rec root_send_nvP_I zfsvm "zfs send -nvP -I tank/off/products@$S1 tank/off/products@$S3"
rec root_send_nv_I zfsvm "zfs send -nv -I tank/off/products@$S1 tank/off/products@$S3"
rec root_send_nvP_bookmark zfsvm "zfs send -nvP -i tank/off/products#$S1 tank/off/products@$S3"
rec root_send_v_full_recv zfsvm "zfs send -v tank/off/products@$S1 | zfs recv backup/off/products"
rec root_send_v_I_recv zfsvm "zfs send -v -I tank/off/products@$S1 tank/off/products@$S3 | zfs recv backup/off/products"
rec root_zfs_clone zfsvm "zfs clone -p backup/off/products@$S2 backup/clones/products"

# --- resumable receive --------------------------------------------------------------------
rec root_recv_interrupted zfsvm "zfs send tank/off/images@$S1 | head -c 200000 | zfs recv -s -u backup/off/images"
rec root_get_resume_token zfsvm 'zfs get -H -p receive_resume_token backup/off/images'
rec root_send_nvP_resume zfsvm 'zfs send -nvP -t "$(zfs get -H -o value receive_resume_token backup/off/images)"'

# --- listings with the replica, clone, bookmark, holds and a partial receive ------------------
rec root_zfs_list_tank zfsvm "zfs list -H -p -t all -r -o $LIST_COLS tank"
rec root_zfs_list_backup zfsvm "zfs list -H -p -t all -r -o $LIST_COLS backup"
rec root_zfs_list_tank_json zfsvm "zfs list -j -t all -r -o $LIST_COLS tank"
rec root_zfs_list_tank_json_int zfsvm "zfs list -j --json-int -t all -r -o $LIST_COLS tank"
rec root_zfs_list_tank_json_p zfsvm "zfs list -j -p -t all -r -o $LIST_COLS tank"
rec root_zfs_list_backup_json_p zfsvm "zfs list -j -p -t all -r -o $LIST_COLS backup"
rec root_zfs_list_backup_json zfsvm "zfs list -j -t all -r -o $LIST_COLS backup"
rec root_zfs_list_backup_json_int zfsvm "zfs list -j --json-int -t all -r -o $LIST_COLS backup"
rec root_zfs_list_json_default zfsvm 'zfs list -j'
rec root_zpool_list_hp_after zfsvm 'zpool list -H -p -o name,health,size,allocated,free'

# --- resume the interrupted receive -------------------------------------------------------
rec root_recv_resume zfsvm 'zfs send -v -t "$(zfs get -H -o value receive_resume_token backup/off/images)" | zfs recv -s -u backup/off/images'

# --- error texts --------------------------------------------------------------------------
rec root_err_not_exist zfsvm 'zfs list -H -p -o name,guid tank/off/nope'
rec root_err_snapshot_not_exist zfsvm 'zfs list -H -p -o name,guid tank/off/products@nope'
rec root_err_rollback_newer zfsvm "zfs rollback tank/off/users@$S1"
rec root_err_rollback_clones zfsvm "zfs rollback -r backup/off/products@$S1"
rec root_err_destroy_held zfsvm "zfs destroy tank/off/products@$S1"
rec root_err_destroy_has_clone zfsvm "zfs destroy backup/off/products@$S2"
run zfsvm "zfs send tank/off/users@$S1 | zfs recv -u backup/off/users"
rec root_err_recv_mismatch zfsvm "zfs send -i tank/off/users@$S2 tank/off/users@$S3 | zfs recv -u backup/off/users"
rec root_err_recv_exists zfsvm "zfs send tank/off/users@$S2 | zfs recv -u backup/off/users"
rec root_recv_incremental_already_received zfsvm "zfs send -i tank/off/products@$S1 tank/off/products@$S2 | zfs recv backup/off/products"
run zfsvm "zfs mount backup/off/users && touch /backup/off/users/modified-on-replica && sync"
rec root_err_recv_modified zfsvm "zfs send -i tank/off/users@$S1 tank/off/users@$S2 | zfs recv backup/off/users"

# --- a stalled receive holds the replica busy (seed 000) ------------------------------------
run zfsvm "zfs send tank/off/products@$S1 | zfs recv -u backup/off/stalled"
run zfsvm "setsid bash -c 'echo \$\$ >/run/zfs-fleet-stalled.pgid; ( zfs send -i tank/off/products@$S1 tank/off/products@$S2 | head -c 300000; sleep 900 ) | zfs recv -u backup/off/stalled' </dev/null >/dev/null 2>&1 &
for i in \$(seq 1 120); do zfs list -H -o name backup/off/stalled/%recv >/dev/null 2>&1 && exit 0; sleep 0.5; done; exit 1"
rec root_ps_stalled_recv zfsvm "ps -eo pid,etimes,args --no-headers | grep -E '[z]fs (send|recv|receive)'"
rec root_zfs_list_stalled zfsvm "zfs list -H -p -t all -r -o name,type,guid,createtxg,origin,clones,receive_resume_token backup/off/stalled"
rec root_err_recv_busy zfsvm "zfs send -i tank/off/products@$S1 tank/off/products@$S2 | zfs recv -u backup/off/stalled"
rec root_err_destroy_busy_recv zfsvm 'zfs destroy -r backup/off/stalled'
rec root_err_destroy_snapshot_recv_clone zfsvm "zfs destroy backup/off/stalled@$S1"
run zfsvm 'kill -- -"$(cat /run/zfs-fleet-stalled.pgid)"; rm -f /run/zfs-fleet-stalled.pgid
for i in $(seq 1 100); do zfs list -H -o name backup/off/stalled/%recv >/dev/null 2>&1 || exit 0; sleep 0.2; done; exit 1'
rec root_zfs_list_after_killed_recv zfsvm "zfs list -H -p -t all -r -o name,type,guid,createtxg,receive_resume_token backup/off/stalled"
rec root_recv_after_killed_recv zfsvm "zfs send -i tank/off/products@$S1 tank/off/products@$S2 | zfs recv -u backup/off/stalled"

# --- a busy mountpoint --------------------------------------------------------------------
run zfsvm "zfs create backup/off/busy
setsid bash -c 'echo \$\$ >/run/zfs-fleet-busy.pid; cd /backup/off/busy && exec sleep 900' </dev/null >/dev/null 2>&1 &
for i in \$(seq 1 50); do [ -s /run/zfs-fleet-busy.pid ] && exit 0; sleep 0.2; done; exit 1"
rec root_err_unmount_busy zfsvm 'zfs unmount backup/off/busy'
rec root_err_destroy_busy_mount zfsvm 'zfs destroy backup/off/busy'
run zfsvm 'kill "$(cat /run/zfs-fleet-busy.pid)"; rm -f /run/zfs-fleet-busy.pid
for i in $(seq 1 50); do zfs destroy backup/off/busy 2>/dev/null && exit 0; sleep 0.2; done; exit 1'

# --- the unprivileged operator ------------------------------------------------------------
rec operator_id zfsvm-operator 'id'
rec operator_zfs_allow_tank zfsvm-operator 'zfs allow tank'
rec operator_zfs_allow_backup zfsvm-operator 'zfs allow backup'
rec operator_zfs_list_tank zfsvm-operator "zfs list -H -p -t all -r -o $LIST_COLS tank"
rec operator_send_nvP_I zfsvm-operator "zfs send -nvP -I tank/off/users@$S1 tank/off/users@$S3"
rec operator_err_snapshot_denied zfsvm-operator 'zfs snapshot tank/off/products@operator-test'
rec operator_err_destroy_denied zfsvm-operator "zfs destroy tank/off/users@$S1"
rec operator_err_rollback_denied zfsvm-operator "zfs rollback tank/off/users@$S3"
rec operator_err_release_denied zfsvm-operator "zfs release operator-sync tank/off/products@$S2"
rec operator_err_recv_tank_denied zfsvm-operator "zfs send tank/off/users@$S1 | zfs recv -u tank/off/users-copy"
rec operator_err_create_mount zfsvm-operator 'zfs create backup/pull'
rec operator_create_u zfsvm-operator 'zfs create -u backup/pull2'
rec operator_recv_full_u zfsvm-operator "zfs send tank/off/users@$S1 | zfs recv -u backup/pull/users"
rec operator_recv_I_u zfsvm-operator "zfs send -I tank/off/users@$S1 tank/off/users@$S3 | zfs recv -u backup/pull/users"
rec operator_recv_full_no_u zfsvm-operator "zfs send tank/off/images@$S1 | zfs recv backup/pull/images"
rec operator_recv_resumable zfsvm-operator "zfs send tank/off/products@$S1 | head -c 200000 | zfs recv -s -u backup/pull/products"
rec operator_recv_resume zfsvm-operator 'zfs send -t "$(zfs get -H -o value receive_resume_token backup/pull/products)" | zfs recv -s -u backup/pull/products'
rec operator_err_mount_denied zfsvm-operator 'zfs mount backup/pull/users'
rec operator_hold_backup zfsvm-operator "zfs hold operator-sync backup/pull/users@$S3"
rec operator_release_backup zfsvm-operator "zfs release operator-sync backup/pull/users@$S3"
rec operator_rollback_backup zfsvm-operator "zfs rollback -r backup/pull/users@$S2"
rec operator_destroy_backup_snapshot zfsvm-operator "zfs destroy backup/pull/users@$S1"
rec operator_zfs_list_backup zfsvm-operator "zfs list -H -p -t all -r -o $LIST_COLS backup"

printf '%s\n' "${MANIFEST[@]}" | node -e '
const fs = require("fs"), path = require("path"), dir = process.argv[1];
const rows = fs.readFileSync(0, "utf8").trim().split("\n").map((l) => {
  const [name, alias, user] = l.split(" ");
  const read = (ext) => fs.readFileSync(path.join(dir, name + ext), "utf8");
  return { name, alias, user, cmd: read(".cmd").replace(/\n$/, ""), exit: Number(read(".exit")) };
});
fs.writeFileSync(path.join(dir, "manifest.json"), JSON.stringify(rows, null, 2) + "\n");
' "$OUT"

if [ "$KEEP" = 0 ]; then
  run zfsvm "$RESET"
  echo "VM reset to the state vm.sh up leaves"
fi
echo "recorded ${#MANIFEST[@]} fixtures into $OUT"
