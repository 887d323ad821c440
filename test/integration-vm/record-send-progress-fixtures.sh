#!/usr/bin/env bash
# Records what `zfs send -v -P` prints while it streams on OpenZFS 2.3 (the lab VM, test/lab/vm/vm.sh up)
# into test/fixtures/openzfs-2.3/ with the layout of test/lab/vm/record-fixtures.sh (NAME.cmd / .stdout /
# .stderr / .exit) and appends them to its manifest.json. Run it AFTER record-fixtures.sh, which
# deletes every fixture before recording. The push and pull routes read their progress from it
# (src/core/replication/sendProgress.ts).
#
# Under scratch datasets tank/it5-prog and backup/it5-prog (about 128 MiB, destroyed at the end and on
# failure). The route is a push as the product plans it: the VM sends to itself through ssh
# (root@127.0.0.1 with a key made for this script and removed after; host-key checking on), which is
# slow enough under emulation for many progress lines:
# - a full send (64 MiB) received;
# - an incremental -I over two snapshots (2 x 32 MiB): each stream counted from 0;
# - a send into a target that refuses it (exists, no -F): the header lines, then the receive's error;
# - a send of a snapshot that does not exist.
# Usage: record-send-progress-fixtures.sh [OUT_DIR]
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${1:-$(cd "$HERE/../fixtures" && pwd)/openzfs-2.3}
STATE=${ZFS_FLEET_LAB:-/tmp/zfs-fleet-lab}/vm
CFG=$STATE/ssh_config
[ -f "$CFG" ] || { echo "no $CFG: run test/lab/vm/vm.sh up first" >&2; exit 1; }
mkdir -p "$OUT"

CM=(-o ControlMaster=auto -o "ControlPath=$STATE/cm-progress-%r" -o ControlPersist=60)
KEY=/root/.ssh/zfs-fleet-progress
SCRATCH="for d in backup/it5-prog backup/it5-prog-x tank/it5-prog; do zfs destroy -r \"\$d\" 2>/dev/null; done; rm -f $KEY $KEY.pub $KEY.known; sed -i '/ zfs-fleet-progress\$/d' /root/.ssh/authorized_keys 2>/dev/null; true"
PUSH="ssh -i $KEY -o IdentitiesOnly=yes -o BatchMode=yes -o UserKnownHostsFile=$KEY.known -o StrictHostKeyChecking=yes root@127.0.0.1"
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

echo "recording zfs send -v -P progress into $OUT"
run zfsvm "$SCRATCH"
run zfsvm 'set -e
zfs create tank/it5-prog
head -c 64M /dev/urandom >/tank/it5-prog/a.bin && sync
zfs snapshot tank/it5-prog@p1
head -c 32M /dev/urandom >/tank/it5-prog/b.bin && sync
zfs snapshot tank/it5-prog@p2
head -c 32M /dev/urandom >/tank/it5-prog/c.bin && sync
zfs snapshot tank/it5-prog@p3
zfs create backup/it5-prog-x'
run zfsvm "set -e
mkdir -p /root/.ssh
ssh-keygen -q -t ed25519 -N '' -C zfs-fleet-progress -f $KEY
cat $KEY.pub >>/root/.ssh/authorized_keys
printf '127.0.0.1 %s\\n' \"\$(cut -d' ' -f1,2 /etc/ssh/ssh_host_ed25519_key.pub)\" >$KEY.known"

rec root_send_vP_full zfsvm "zfs send -v -P tank/it5-prog@p1 | $PUSH 'zfs recv -u backup/it5-prog'"
rec root_send_vP_incremental_I zfsvm "zfs send -v -P -I tank/it5-prog@p1 tank/it5-prog@p3 | $PUSH 'zfs recv -u backup/it5-prog'"
rec root_send_vP_recv_refuses zfsvm "zfs send -v -P tank/it5-prog@p1 | $PUSH 'zfs recv -u backup/it5-prog-x'"
rec root_send_vP_missing zfsvm "zfs send -v -P tank/it5-prog@nope | $PUSH 'zfs recv -u backup/it5-prog-x'"

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
