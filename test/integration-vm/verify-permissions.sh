#!/usr/bin/env bash
# Verifies, on the lab VM (test/lab/vm/vm.sh up), which delegated permissions each step of a sync
# needs on OpenZFS 2.3.2: the facts src/core/fleet/permissions.ts is built on. Each line runs one
# command as an unprivileged user holding ONLY the listed delegation, and compares the exit code
# with the expected one (OK / MISMATCH). Exit 1 if any line mismatches.
#
# Users: `operator` (it also inherits `hold,send` from tank, Local+Descendent, as in seed 001) and
# uid 4242 (no account, no inherited grant: `setpriv --reuid=4242`), for the Local/Descendent rules.
# Everything happens under the scratch dataset tank/zfs-fleet-permlab, destroyed at the end and on
# failure; the VM's own delegations are not touched. Takes ~5 minutes under emulation.
set -uo pipefail
STATE=${ZFS_FLEET_LAB:-/tmp/zfs-fleet-lab}/vm
CFG=$STATE/ssh_config
[ -f "$CFG" ] || { echo "no $CFG: run test/lab/vm/vm.sh up first" >&2; exit 1; }

exec ssh -F "$CFG" zfsvm 'bash -s' <<'GUEST'
set -u
S1=20230501-0000 S2=20230515-0000 S3=20230530-2330
L=tank/zfs-fleet-permlab
BAD=0
op() { runuser -u operator -- "$@"; }
u42() { setpriv --reuid=4242 --regid=4242 --clear-groups -- "$@"; }
# check EXPECTED_RC LABEL CMD...
check() {
  local want=$1 label=$2; shift 2
  local out rc
  out=$("$@" 2>&1); rc=$?
  local verdict=OK
  if [ "$want" = 0 ] && [ "$rc" != 0 ]; then verdict=MISMATCH; fi
  if [ "$want" != 0 ] && [ "$rc" = 0 ]; then verdict=MISMATCH; fi
  [ "$verdict" = OK ] || BAD=1
  printf '%-8s %-66s rc=%-3s %s\n' "$verdict" "$label" "$rc" "$(echo "$out" | tr '\n' ' ' | cut -c1-110)"
}
release_all() {
  for s in $(zfs list -H -o name -t snapshot -r $L 2>/dev/null); do
    zfs holds -H "$s" | cut -f2 | while read -r t; do zfs release "$t" "$s"; done
  done
}
reset() { release_all; zfs destroy -r $L 2>/dev/null; zfs create -u $L; }
cleanup() { release_all; zfs destroy -r $L 2>/dev/null; true; }
trap cleanup EXIT
seed_a() { zfs send tank/off/users@$S1 | zfs recv -u $L/a; }
as_op_recv() { local flags=$1 target=$2; shift 2; bash -c "$* | runuser -u operator -- zfs recv $flags $target"; }
FULL="zfs send tank/off/users@$S1"
INCR="zfs send -i tank/off/users@$S1 tank/off/users@$S2"

echo "## zfs recv: the minimal set (delegated Local+Descendent on the parent $L)"
for case in "1 receive" "1 receive,create" "1 receive,mount" "1 create,mount" "0 receive,create,mount" "0 receive:append,create,mount" "1 receive:append"; do
  want=${case%% *}; set=${case#* }
  reset; zfs allow -u operator "$set" $L
  check "$want" "full recv -u, [$set]" as_op_recv -u $L/a "$FULL"
  zfs list $L/a >/dev/null 2>&1 || seed_a
  check "$want" "incremental recv -u, [$set]" as_op_recv -u $L/a "$INCR"
done

echo "## zfs recv: where it is checked"
reset; zfs allow -l -u operator receive,create,mount $L
check 0 "full recv of a new child, Local-only grant on the parent" as_op_recv -u $L/a "$FULL"
check 1 "next incremental into that child (Local does not reach it)" as_op_recv -u $L/a "$INCR"
reset; zfs allow -d -u operator receive,create,mount $L
check 1 "full recv of a new child, Descendent-only grant on the parent" as_op_recv -u $L/a "$FULL"
seed_a
check 0 "incremental into an existing child, Descendent-only on the parent" as_op_recv -u $L/a "$INCR"
reset; zfs allow -l -u operator receive,create,mount $L; zfs allow -c receive,create,mount $L
check 0 "full recv of a new child, Local on parent + create-time" as_op_recv -u $L/a "$FULL"
check 0 "next incremental (create-time permissions went to the creator)" as_op_recv -u $L/a "$INCR"
zfs allow $L/a | sed -n '1,3p'
reset; seed_a; zfs allow -l -u 4242 receive,create,mount $L/a
check 0 "incremental, Local grant on the target itself (uid 4242)" bash -c "zfs send -i tank/off/users@$S1 tank/off/users@$S2 | setpriv --reuid=4242 --regid=4242 --clear-groups -- zfs recv -u $L/a"

echo "## zfs recv -F, -s, resume, -A"
for case in "0 receive,create,mount" "1 receive:append,create,mount"; do
  want=${case%% *}; set=${case#* }
  reset; zfs allow -u operator "$set" $L; seed_a; zfs snapshot $L/a@newer
  check "$want" "recv -F over a newer snapshot, [$set]" as_op_recv "-u -F" $L/a "$INCR"
done
reset; zfs allow -u operator receive,create,mount $L
check 1 "recv -s of a cut stream (partial kept)" bash -c "zfs send tank/off/products@$S1 | head -c 200000 | runuser -u operator -- zfs recv -s -u $L/p"
check 0 "resume with send -t, [receive,create,mount]" bash -c "zfs send -t \$(zfs get -H -o value receive_resume_token $L/p) | runuser -u operator -- zfs recv -s -u $L/p"
zfs send -i tank/off/products@$S1 tank/off/products@$S2 | head -c 100000 | op zfs recv -s -u $L/p >/dev/null 2>&1
check 1 "recv -A of a partial incremental, [receive,create,mount]" op zfs recv -A $L/p
zfs allow -u operator destroy $L
check 0 "recv -A, + destroy" op zfs recv -A $L/p

echo "## properties in the stream (send -p) as operator with receive,create,mount"
reset; zfs create -u -o compression=gzip -o recordsize=64K -o mountpoint=/srv/zfs-fleet-permlab -o org.example:tag=x $L/src; zfs snapshot $L/src@p1
propcheck() {
  local set=$1 expect_denied=$2; zfs destroy -r $L/dst 2>/dev/null
  zfs unallow -u operator $L 2>/dev/null; zfs allow -u operator "$set" $L
  local out; out=$(zfs send -p $L/src@p1 | runuser -u operator -- zfs recv -u $L/dst 2>&1); local rc=$?
  local denied; denied=$(echo "$out" | grep -o 'cannot receive [^ ]* property' | awk '{print $3}' | sort | tr '\n' ',' | sed 's/,$//')
  local verdict=OK; { [ "$rc" = 0 ] && [ "$denied" = "$expect_denied" ]; } || { verdict=MISMATCH; BAD=1; }
  printf '%-8s %-66s rc=%-3s denied=[%s]\n' "$verdict" "send -p | recv -u, [$set]" "$rc" "$denied"
}
propcheck receive,create,mount "compression,mountpoint,org.example:tag,recordsize"
propcheck receive,create,mount,compression "mountpoint,org.example:tag,recordsize"
propcheck receive,create,mount,compression,recordsize,mountpoint "org.example:tag"
propcheck receive,create,mount,compression,recordsize,mountpoint,userprop ""
zfs destroy -r $L/dst; zfs unallow -u operator $L; zfs allow -u operator receive,create,mount $L
out=$(zfs send -p $L/src@p1 | op zfs recv -u -x compression $L/dst 2>&1); rc=$?
printf '%-8s %-66s rc=%-3s %s\n' "$([ $rc = 0 ] && echo "$out" | grep -q 'cannot receive compression' && echo OK || echo MISMATCH)" "recv -x compression still reports it (exit 0, not set)" "$rc" "$(zfs get -H -o value,source compression $L/dst | tr '\t' ' ')"
zfs destroy -r $L/dst
check 0 "plain send (no -p) needs no property permission" as_op_recv -u $L/dst "zfs send $L/src@p1"

echo "## snapshot, rollback, destroy, hold, release on an existing dataset (operator; it also has hold from tank)"
for case in "snapshot|0 1 1 1 1" "rollback|1 0 1 1 1" "rollback,destroy|1 0 1 1 1" "rollback,mount|1 0 1 1 1" "rollback,destroy,mount|1 0 0 1 0" "destroy|1 1 1 1 1" "destroy,mount|1 1 0 1 1" "release|1 1 1 0 1"; do
  set=${case%%|*}; read -r w_snap w_rb w_destroy w_release w_rbr <<<"${case#*|}"
  reset; seed_a; zfs snapshot $L/a@s2; zfs snapshot $L/a@s3; zfs hold root-tag $L/a@s2
  zfs allow -u operator "$set" $L
  check "$w_snap" "[$set] zfs snapshot" op zfs snapshot $L/a@op; zfs destroy $L/a@op 2>/dev/null
  check "$w_rb" "[$set] zfs rollback to the newest snapshot" op zfs rollback $L/a@s3
  check "$w_destroy" "[$set] zfs destroy of a snapshot" op zfs destroy $L/a@s3
  check "$w_release" "[$set] zfs release of a hold root placed" op zfs release root-tag $L/a@s2
  zfs release root-tag $L/a@s2 2>/dev/null
  check "$w_rbr" "[$set] zfs rollback -r to an older snapshot" op zfs rollback -r $L/a@$S1
done

echo "## Local vs Descendent for uid 4242 (no inherited grants)"
reset; seed_a; zfs snapshot $L/a@s2; zfs snapshot $L/a@s3
for case in "1 send" "0 hold" "0 release" "0 bookmark" "0 snapshot" "1 destroy,mount"; do
  want=${case%% *}; set=${case#* }
  zfs allow -l -u 4242 "$set" $L/a
  case $set in
    send) check "$want" "Local-only [send] on the fs: zfs send of its snapshot" bash -c "setpriv --reuid=4242 --regid=4242 --clear-groups -- zfs send $L/a@s3 >/dev/null"
          check 0 "Local-only [send]: zfs send -nP (estimate) needs nothing" u42 zfs send -nP $L/a@s3 ;;
    hold) check "$want" "Local-only [hold]: zfs hold" u42 zfs hold t42 $L/a@s3; zfs release t42 $L/a@s3 2>/dev/null ;;
    release) zfs hold t43 $L/a@s3; check "$want" "Local-only [release]: zfs release" u42 zfs release t43 $L/a@s3; zfs release t43 $L/a@s3 2>/dev/null ;;
    bookmark) check "$want" "Local-only [bookmark]: zfs bookmark" u42 zfs bookmark $L/a@s3 $L/a#b3 ;;
    snapshot) check "$want" "Local-only [snapshot]: zfs snapshot" u42 zfs snapshot $L/a@n1 ;;
    destroy,mount) zfs snapshot $L/a@d1; check "$want" "Local-only [destroy,mount] on the fs: zfs destroy of its snapshot" u42 zfs destroy $L/a@d1 ;;
  esac
  zfs unallow -l -u 4242 "$set" $L/a
  zfs allow -d -u 4242 "$set" $L
  case $set in
    send) check 0 "Descendent [send] on the parent: zfs send" bash -c "setpriv --reuid=4242 --regid=4242 --clear-groups -- zfs send $L/a@s3 >/dev/null" ;;
    destroy,mount) zfs snapshot $L/a@d2; check 0 "Descendent [destroy,mount] on the parent: zfs destroy of a snapshot" u42 zfs destroy $L/a@d2 ;;
  esac
  zfs unallow -d -u 4242 "$set" $L
done

echo "## groups, everyone, permission sets"
for grant in "-g operator receive,create,mount" "-e receive,create,mount" "-u operator @recv"; do
  reset
  zfs allow -s @recv receive,create,mount $L
  zfs allow $grant $L
  check 0 "full recv, grant: zfs allow $grant" as_op_recv -u $L/a "$FULL"
done
reset; zfs allow -s @recv2 receive,create,mount tank; zfs allow -u operator @recv2 $L
check 0 "full recv, @set granted on $L, defined on tank" as_op_recv -u $L/a "$FULL"
zfs unallow -s @recv2 tank

echo
if [ "$BAD" = 0 ]; then echo "all as expected"; else echo "MISMATCHES above"; fi
exit $BAD
GUEST
