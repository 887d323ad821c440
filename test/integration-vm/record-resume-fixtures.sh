#!/usr/bin/env bash
# Records what resumable receives look like on OpenZFS 2.3 (the lab VM, test/lab/vm/vm.sh up) into
# test/fixtures/openzfs-2.3/ with the layout of test/lab/vm/record-fixtures.sh (NAME.cmd / .stdout /
# .stderr / .exit) and appends them to its manifest.json. Run it AFTER record-fixtures.sh, which
# deletes every fixture before recording.
#
# Under scratch datasets tank/it5-rec, tank/it5-rec2, backup/it5-rec, backup/it5-rec2 (a few MiB,
# destroyed at the end and on failure):
# - an incremental receive cut after 1,000,000 bytes: its token, what `zfs send -nvP -t` prints for it
#   (the decoded token contents), the listings of both sides;
# - the snapshot being sent destroyed on the source: `zfs send -nvP -t` refuses ("no longer exists"),
#   the source's listing then, `zfs recv -A` of the partial state, the target's listing after;
# - a first (full) receive cut the same way, its snapshot destroyed and re-created with the same name:
#   `zfs send -nvP -t` says it is "no longer the same snapshot"; `zfs recv -A` destroys the dataset.
# Usage: record-resume-fixtures.sh [OUT_DIR]
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${1:-$(cd "$HERE/../fixtures" && pwd)/openzfs-2.3}
STATE=${ZFS_FLEET_LAB:-/tmp/zfs-fleet-lab}/vm
CFG=$STATE/ssh_config
[ -f "$CFG" ] || { echo "no $CFG: run test/lab/vm/vm.sh up first" >&2; exit 1; }
mkdir -p "$OUT"

CM=(-o ControlMaster=auto -o "ControlPath=$STATE/cm-resume-%r" -o ControlPersist=60)
SCRATCH='for d in backup/it5-rec backup/it5-rec2 tank/it5-rec tank/it5-rec2; do zfs destroy -r "$d" 2>/dev/null; done; true'
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
  # 255 is also what ssh returns when it fails (and what `zfs send -t` returns when it refuses).
  if [ "$rc" = 255 ] && ! ssh -F "$CFG" "${CM[@]}" "$alias" true; then echo "ssh failed for $name: $(cat "$OUT/$name.stderr")" >&2; exit 1; fi
  echo "$rc" >"$OUT/$name.exit"
  NAMES+=("$name $alias")
  printf '%-44s exit %s\n' "$name" "$rc"
}

LIST_COLS=name,type,creation,createtxg,guid,used,available,referenced,written,mountpoint,readonly,origin,clones,userrefs,encryption,receive_resume_token
TOKEN='"$(zfs get -H -o value receive_resume_token backup/it5-rec)"'
TOKEN2='"$(zfs get -H -o value receive_resume_token backup/it5-rec2)"'

echo "recording resumable receives into $OUT"
run zfsvm "$SCRATCH"
run zfsvm 'set -e
zfs create tank/it5-rec
head -c 4M /dev/urandom >/tank/it5-rec/a.bin && sync
zfs snapshot tank/it5-rec@s1
zfs send tank/it5-rec@s1 | zfs recv -u backup/it5-rec
head -c 4M /dev/urandom >/tank/it5-rec/b.bin && sync
zfs snapshot tank/it5-rec@s2
zfs create tank/it5-rec2
head -c 4M /dev/urandom >/tank/it5-rec2/a.bin && sync
zfs snapshot tank/it5-rec2@f1'

# --- an incremental receive cut mid-stream ---------------------------------------------------
rec root_resume_recv_i_interrupted zfsvm 'zfs send -i tank/it5-rec@s1 tank/it5-rec@s2 | head -c 1000000 | zfs recv -s -u backup/it5-rec'
rec root_resume_token_i zfsvm 'zfs get -H -p -o value receive_resume_token backup/it5-rec'
rec root_resume_send_nvP_t_i zfsvm "zfs send -nvP -t $TOKEN"
rec root_resume_list_tank zfsvm "zfs list -H -p -t all -r -o $LIST_COLS tank/it5-rec"
rec root_resume_list_backup zfsvm "zfs list -H -p -t all -r -o $LIST_COLS backup/it5-rec"
rec root_resume_list_recv_clone zfsvm 'zfs list -H -p -o name,type,guid,origin backup/it5-rec/%recv'

# --- the snapshot being sent destroyed on the source: the token is stale --------------------
run zfsvm 'zfs destroy tank/it5-rec@s2'
rec root_resume_send_nvP_t_i_stale zfsvm "zfs send -nvP -t $TOKEN"
rec root_resume_list_tank_stale zfsvm "zfs list -H -p -t all -r -o $LIST_COLS tank/it5-rec"
rec root_resume_recv_A_i zfsvm 'zfs recv -A backup/it5-rec'
rec root_resume_list_backup_aborted zfsvm "zfs list -H -p -t all -r -o $LIST_COLS backup/it5-rec"

# --- a first (full) receive cut mid-stream; its snapshot re-created with the same name ---------
rec root_resume_recv_full_interrupted zfsvm 'zfs send tank/it5-rec2@f1 | head -c 1000000 | zfs recv -s -u backup/it5-rec2'
rec root_resume_list_backup2 zfsvm "zfs list -H -p -t all -r -o $LIST_COLS backup/it5-rec2"
rec root_resume_send_nvP_t_full zfsvm "zfs send -nvP -t $TOKEN2"
run zfsvm 'zfs destroy tank/it5-rec2@f1 && zfs snapshot tank/it5-rec2@f1'
rec root_resume_send_nvP_t_full_recreated zfsvm "zfs send -nvP -t $TOKEN2"
rec root_resume_list_tank2_recreated zfsvm "zfs list -H -p -t all -r -o $LIST_COLS tank/it5-rec2"
rec root_resume_recv_A_full zfsvm 'zfs recv -A backup/it5-rec2'
rec root_resume_list_backup2_aborted zfsvm 'zfs list -H -p -t all -r -o name backup/it5-rec2'

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
