#!/usr/bin/env bash
# Record real zfs-fuse answers (stdout, stderr, exit code) from the lab hosts as test fixtures.
#
#   test/lab/record-fixtures.sh [--shared] [--keep]
#
# Default: records on a PRIVATE lab (ZFS_FLEET_LAB=/tmp/zfs-fleet-lab-fixtures, ports 2331-2333,
# 2339) that is reset to the fresh seed first and stopped afterwards (--keep leaves it up), so
# the shared lab that others use is never touched.
# --shared: record on the shared lab ($ZFS_FLEET_LAB, default /tmp/zfs-fleet-lab) instead; it
# must match the base seed (`lab.sh verify`), and it is checked again at the end.
#
# For every fixture NAME it writes, under test/fixtures/zfs-fuse/:
#   NAME.cmd     the command line as run on the host (over ssh: the remote command)
#   NAME.stdout  exact stdout      NAME.stderr  exact stderr      NAME.exit  exit code
#   (pipes SRC | DST also: NAME.send.stderr, NAME.send.exit for the sending side)
# plus index.tsv (name, host, exit, command). To add a fixture, add a line to TABLE below
# (or a `record`/`record_pipe` call in the scenario section for ones that need set-up).
set -euo pipefail

HERE="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
LABSH="$HERE/lab.sh"
OUT="$(cd "$HERE/../fixtures" && pwd)/zfs-fuse"

MODE=private KEEP=0
for a in "$@"; do
  case "$a" in
    --shared) MODE=shared ;;
    --keep) KEEP=1 ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option $a (see --help)" >&2; exit 2 ;;
  esac
done

if [[ $MODE == private ]]; then
  export ZFS_FLEET_LAB=/tmp/zfs-fleet-lab-fixtures ZFS_FLEET_LAB_PORT_BASE=2330
else
  export ZFS_FLEET_LAB="${ZFS_FLEET_LAB:-/tmp/zfs-fleet-lab}"
fi
LAB="$ZFS_FLEET_LAB"
TMP="$LAB/fixtures-tmp"

log() { printf '[fixtures] %s\n' "$*" >&2; }
trim() { local s="$1"; s="${s#"${s%%[![:space:]]*}"}"; printf '%s' "${s%"${s##*[![:space:]]}"}"; }
die() { printf '[fixtures] ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------
# TABLE: NAME | HOST | COMMAND
#   HOST off1/ovh3/off2: COMMAND runs there as root over ssh (ssh -F $ZFS_FLEET_LAB/ssh_config HOST COMMAND)
#   HOST local:          COMMAND runs here under bash (for ssh-level failures), $ZFS_FLEET_LAB set
# Everything here must leave the lab unchanged (errors, reads). Blank lines and # comments are ignored.
read -r -d '' TABLE <<'TABLE_END' || true
# --- zfs get: the way to read exact numbers on zfs-fuse (does -r include snapshots? yes)
get-r-zfs-hdd                 | off1  | zfs get -H -p -r -o name,property,value type,creation,used,available,referenced,mountpoint,readonly,origin,guid,userrefs zfs-hdd
get-r-rpool                   | ovh3  | zfs get -H -p -r -o name,property,value type,creation,used,available,referenced,mountpoint,readonly,origin,guid,userrefs rpool
get-r-t-filesystem-rpool      | ovh3  | zfs get -H -p -r -t filesystem -o name,property,value type,creation,used,available,referenced,mountpoint,readonly,origin,guid,userrefs rpool
get-r-t-snapshot-rpool        | ovh3  | zfs get -H -p -r -t snapshot -o name,property,value type,guid rpool
get-d1-products               | ovh3  | zfs get -H -p -d 1 -o name,property,value type,guid rpool/off/products
get-no-p                      | ovh3  | zfs get -H -o name,property,value guid,used,available,referenced,creation rpool/off/products
get-default-columns           | ovh3  | zfs get guid,used,origin rpool/off/clones/products
get-space-name                | off1  | zfs get -H -p -o name,property,value type,guid,used,mountpoint 'zfs-hdd/off/my data'
df-inodes                     | off1  | df -P -i -- /zfs-hdd/off '/zfs-hdd/off/my data' /zfs-hdd/off/users /zfs-hdd/off/nonexistent /
get-createtxg                 | off1  | zfs get -H -p -o name,property,value createtxg zfs-hdd
get-createtxg-r               | ovh3  | zfs get -H -p -r -o name,property,value createtxg rpool/off/products
get-written                   | off1  | zfs get -H -p -o name,property,value written zfs-hdd
get-encryption                | off1  | zfs get -H -p -o name,property,value encryption zfs-hdd
get-receive-resume-token      | off1  | zfs get -H -p -o name,property,value receive_resume_token zfs-hdd
get-clones                    | ovh3  | zfs get -H -p -o name,property,value clones rpool/off/products@20230515-0000
get-mixed-supported-unsupported | off1 | zfs get -H -p -o name,property,value guid,written zfs-hdd
get-all-filesystem            | ovh3  | zfs get -H -p -o name,property,value,source all rpool/off/products
get-all-snapshot              | ovh3  | zfs get -H -p -o name,property,value,source all rpool/off/products@20230515-0000
get-all-clone                 | ovh3  | zfs get -H -p -o name,property,value,source all rpool/off/clones/products
get-s-local                   | ovh3  | zfs get -H -p -r -s local -o name,property,value all rpool
# --- zfs list
list-all-r-rpool              | ovh3  | zfs list -H -o name,used,avail,refer,mountpoint -t all -r rpool
list-all-r-zfs-hdd            | off1  | zfs list -H -o name,used,avail,refer,mountpoint -t all -r zfs-hdd
list-all-r-zfs-nvme           | off2  | zfs list -H -o name,used,avail,refer,mountpoint -t all -r zfs-nvme
list-p                        | ovh3  | zfs list -H -p -o name,used,avail,refer,mountpoint -t all -r rpool
list-default                  | ovh3  | zfs list
list-t-snapshot               | ovh3  | zfs list -t snapshot
list-t-snapshot-sorted        | ovh3  | zfs list -H -t snapshot -o name,creation,used,refer -s creation -r rpool/off/products
list-t-snapshot-d1            | off1  | zfs list -H -t snapshot -o name -d 1 zfs-hdd/off
list-t-bookmark               | ovh3  | zfs list -t bookmark
list-t-all-bookmark           | ovh3  | zfs list -H -t filesystem,volume,snapshot,bookmark -o name rpool
list-j                        | ovh3  | zfs list -j
list-origin                   | ovh3  | zfs list -H -o name,origin -r rpool/off
list-nonexistent              | ovh3  | zfs list nonexistent/ds
# --- zpool
zpool-list-H                  | ovh3  | zpool list -H -o name,health,size,allocated,free
zpool-list-Hp                 | ovh3  | zpool list -H -p -o name,health,size,allocated,free
zpool-list                    | ovh3  | zpool list
zpool-get-Hp                  | ovh3  | zpool get -H -p version,size,allocated,free,health rpool
zpool-get                     | ovh3  | zpool get version,size,allocated,free,health rpool
zpool-get-all                 | ovh3  | zpool get all rpool
zpool-status                  | ovh3  | zpool status
zpool-status-x                | ovh3  | zpool status -x
zpool-status-nonexistent      | ovh3  | zpool status nopool
# --- what is this ZFS? (zfs-fuse has no `zfs version`)
zfs-version                   | ovh3  | zfs version
zfs-dash-dash-version         | ovh3  | zfs --version
zfs-V                         | ovh3  | zfs -V
zfs-no-args                   | ovh3  | zfs
zpool-upgrade-v-head          | ovh3  | zpool upgrade -v | head
zpool-upgrade-v               | ovh3  | zpool upgrade -v
zpool-upgrade                 | ovh3  | zpool upgrade
zfs-upgrade-v                 | ovh3  | zfs upgrade -v
zfs-upgrade                   | ovh3  | zfs upgrade
zfs-fuse-version              | ovh3  | zfs-fuse --version
sys-module-zfs-version        | ovh3  | cat /sys/module/zfs/version
dpkg-zfs-fuse                 | ovh3  | dpkg-query -W zfs-fuse
# --- features that need pyzfs or a newer ZFS
zfs-holds                     | ovh3  | zfs holds rpool/off/products@20230515-0000
zfs-allow                     | ovh3  | zfs allow rpool
zfs-bookmark                  | off1  | zfs bookmark zfs-hdd/off/products@20230608-1130 zfs-hdd/off/products#20230608-1130
send-nv                       | off1  | zfs send -nv -I @20230501-0000 zfs-hdd/off/products@20230608-1130
send-t-token                  | off1  | zfs send -t 1-abc
recv-s                        | ovh3  | zfs recv -s rpool/off/products
destroy-nv                    | ovh3  | zfs destroy -nv rpool/off/products@20230501-0000
# --- errors that change nothing
get-bad-name                  | ovh3  | zfs get guid 'bad name!'
rollback-more-recent          | ovh3  | zfs rollback rpool/off/products@20230501-0000
rollback-r-clones             | ovh3  | zfs rollback -r rpool/off/products@20230501-0000
destroy-snapshot-with-clones  | ovh3  | zfs destroy rpool/off/products@20230515-0000
destroy-filesystem-children   | ovh3  | zfs destroy rpool/off
destroy-filesystem-snapshots  | ovh3  | zfs destroy rpool/off/users
destroy-nonexistent           | ovh3  | zfs destroy rpool/off/nope
create-exists                 | ovh3  | zfs create rpool/off
create-no-parent              | ovh3  | zfs create rpool/nope/child
snapshot-exists               | ovh3  | zfs snapshot rpool/off/products@20230530-2330
snapshot-nonexistent          | ovh3  | zfs snapshot rpool/nope@x
command-not-found             | ovh3  | zfsx list
# --- ssh-level failures (client side)
ssh-ok                        | local | ssh -F "$ZFS_FLEET_LAB/ssh_config" off1 zfs list -H -o name zfs-hdd
ssh-unreachable               | local | ssh -F "$ZFS_FLEET_LAB/ssh_config" unreachable zfs list
ssh-unknown-host-key          | local | ssh -F "$ZFS_FLEET_LAB/ssh_config" -o UserKnownHostsFile=/dev/null off1 zfs list
ssh-changed-host-key          | local | ssh -F "$ZFS_FLEET_LAB/ssh_config" -o UserKnownHostsFile="$ZFS_FLEET_LAB/fixtures-tmp/wrong_known_hosts" off1 zfs list
ssh-auth-denied               | local | ssh -F none -o BatchMode=yes -o IdentitiesOnly=yes -i "$ZFS_FLEET_LAB/fixtures-tmp/other_key" -o UserKnownHostsFile="$ZFS_FLEET_LAB/known_hosts" -o StrictHostKeyChecking=yes -p "$(( ${ZFS_FLEET_LAB_PORT_BASE:-2230} + 1 ))" root@127.0.0.1 zfs list
TABLE_END

# Fixtures whose output must contain a pattern (checked at the end; a miss is reported).
read -r -d '' EXPECT <<'EXPECT_END' || true
get-written                   | invalid property 'written'
get-r-zfs-hdd                 | @20230501-0000
rollback-r-clones             | clones of previous snapshots exist
destroy-snapshot-with-clones  | snapshot has dependent clones
recv-incremental-mismatch     | match incremental source
recv-destination-modified     | has been modified
recv-busy                     | dataset is busy
destroy-held-snapshot         | dataset is busy
destroy-busy-mountpoint       | busy
permission-denied-list        | Permission denied
zfs-holds                     | pyzfs.py not found
ssh-unreachable               | Connection refused
ssh-unknown-host-key          | Host key verification failed
ssh-changed-host-key          | Host key verification failed
ssh-auth-denied               | Permission denied
EXPECT_END

# ---------------------------------------------------------------------------------------------
declare -A SEEN=()
COUNT=0

ssh_host() { local h="$1"; shift; timeout 120 ssh -F "$LAB/ssh_config" -o BatchMode=yes "$h" "$@"; }

note() {  # NAME HOST RC CMD
  printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$OUT/index.tsv"
  printf '  %-34s %-10s exit %-3s %s\n' "$1" "$2" "$3" "$(head -c 90 <<<"$4" | head -n 1)" >&2
  COUNT=$((COUNT + 1))
}

check_name() {
  [[ "$1" =~ ^[a-z0-9][a-zA-Z0-9._-]*$ ]] || die "bad fixture name '$1'"
  [[ -z "${SEEN[$1]:-}" ]] || die "duplicate fixture name '$1'"
  SEEN[$1]=1
}

# record NAME HOST COMMAND
record() {
  local name="$1" host="$2" cmd="$3" rc=0
  check_name "$name"
  printf '%s\n' "$cmd" >"$OUT/$name.cmd"
  if [[ "$host" == local ]]; then
    timeout 120 bash -c "$cmd" </dev/null >"$OUT/$name.stdout" 2>"$OUT/$name.stderr" || rc=$?
  else
    ssh_host "$host" "$cmd" </dev/null >"$OUT/$name.stdout" 2>"$OUT/$name.stderr" || rc=$?
  fi
  echo "$rc" >"$OUT/$name.exit"
  note "$name" "$host" "$rc" "$cmd"
}

# record_pipe NAME SRC_HOST SRC_COMMAND DST_HOST DST_COMMAND: `SRC | DST` across two hosts (over ssh)
record_pipe() {
  local name="$1" src="$2" scmd="$3" dst="$4" dcmd="$5" st
  check_name "$name"
  printf '%s | %s\n' "$scmd" "$dcmd" >"$OUT/$name.cmd"
  set +e
  ssh_host "$src" "$scmd" </dev/null 2>"$OUT/$name.send.stderr" |
    ssh_host "$dst" "$dcmd" >"$OUT/$name.stdout" 2>"$OUT/$name.stderr"
  st=("${PIPESTATUS[@]}")
  set -e
  echo "${st[0]}" >"$OUT/$name.send.exit"
  echo "${st[1]}" >"$OUT/$name.exit"
  note "$name" "$src->$dst" "${st[1]}" "$scmd | $dcmd"
}

run_table() {
  local line name rest host cmd
  while IFS= read -r line; do
    [[ "$line" =~ ^[[:space:]]*(#|$) ]] && continue
    name="${line%%|*}"; rest="${line#*|}"
    host="${rest%%|*}"; cmd="${rest#*|}"
    name="$(trim "$name")"; host="$(trim "$host")"; cmd="$(trim "$cmd")"
    record "$name" "$host" "$cmd"
  done <<<"$TABLE"
}

# --- scenarios that need set-up: on a throwaway pool `scratch` on ovh3 -------------------------
SCRATCH_IMG="$LAB/hosts/ovh3/scratch.img"
FIFO="$TMP/stalled-recv.fifo"
STALL_FD=""
STALL_PID=""

z1() { "$LAB/hosts/off1/zfs" "$@"; }
z3() { "$LAB/hosts/ovh3/zfs" "$@"; }
zp3() { "$LAB/hosts/ovh3/zpool" "$@"; }

scratch_up() {
  log "scratch: pool 'scratch' on ovh3 with a replica of off1's products (like rpool/off/products)"
  rm -f "$SCRATCH_IMG"; truncate -s 256M "$SCRATCH_IMG"
  zp3 create -f scratch "$SCRATCH_IMG" 2>&1 | { grep -v '^Defaulting to 4K blocksize' || true; } >&2
  zp3 list -H -o name scratch >/dev/null || die "could not create the scratch pool"
  z1 send zfs-hdd/off/products@20230501-0000 | z3 recv scratch/products
  z1 send -I @20230501-0000 zfs-hdd/off/products@20230530-2330 | z3 recv -F scratch/products
  z3 create scratch/clones
  z3 clone scratch/products@20230515-0000 scratch/clones/products
}

cleanup() {
  local rc=$?
  set +e
  if [[ -n "$STALL_FD" ]]; then eval "exec $STALL_FD>&-"; fi
  if [[ -n "$STALL_PID" ]] && kill -0 "$STALL_PID" 2>/dev/null; then kill "$STALL_PID"; wait "$STALL_PID"; fi
  if [[ -x "$LAB/hosts/ovh3/zpool" ]] && zp3 list -H -o name scratch >/dev/null 2>&1; then
    zp3 destroy -f scratch || log "could not destroy the scratch pool on ovh3"
  fi
  rm -f "$SCRATCH_IMG"; rm -rf "$TMP"
  if [[ $MODE == private && $KEEP == 0 ]]; then "$LABSH" down || true; fi
  exit $rc
}

scenarios() {
  scratch_up
  local inc="zfs send -i @20230530-2330 zfs-hdd/off/products@20230608-1130"

  # the seed-000 symptom: the replica's newest snapshot is not the incremental source
  record_pipe recv-incremental-mismatch off1 "zfs send -i @20230515-0000 zfs-hdd/off/products@20230608-1130" ovh3 "zfs recv scratch/products"
  record_pipe recv-incremental-mismatch-F off1 "zfs send -i @20230515-0000 zfs-hdd/off/products@20230608-1130" ovh3 "zfs recv -F scratch/products"
  record_pipe recv-full-exists off1 "zfs send zfs-hdd/off/products@20230501-0000" ovh3 "zfs recv scratch/products"
  # bytes written to the replica since its last snapshot (seed 000: `written 783K`)
  record ovh3-write-to-replica ovh3 "echo stray > /scratch/products/stray.txt"
  record_pipe recv-destination-modified off1 "$inc" ovh3 "zfs recv scratch/products"
  record rollback-newest ovh3 "zfs rollback scratch/products@20230530-2330"
  # unmount refused while a process has its cwd inside the mount point
  record destroy-busy-mountpoint ovh3 "cd /scratch/clones/products && zfs destroy scratch/clones/products"
  # user holds
  record zfs-hold ovh3 "zfs hold keep scratch/products@20230501-0000"
  record get-userrefs-held ovh3 "zfs get -H -p -o name,property,value userrefs scratch/products@20230501-0000"
  record destroy-held-snapshot ovh3 "zfs destroy scratch/products@20230501-0000"
  record zfs-release ovh3 "zfs release keep scratch/products@20230501-0000"
  # non-root: zfs-fuse's socket is root-only (there is no `zfs allow` without pyzfs)
  record permission-denied-list ovh3 "setpriv --reuid=65534 --regid=65534 --clear-groups zfs list"
  record permission-denied-snapshot ovh3 "setpriv --reuid=65534 --regid=65534 --clear-groups zfs snapshot scratch/products@nobody"

  # a stalled receive (its stream stops arriving) and a second receive into the same dataset
  log "scratch: stalling a zfs recv on a fifo"
  mkdir -p "$TMP"; rm -f "$FIFO"; mkfifo "$FIFO"
  z1 send -i @20230530-2330 zfs-hdd/off/products@20230608-1130 >"$TMP/inc.stream"
  z3 recv scratch/products <"$FIFO" >"$TMP/stalled.stdout" 2>"$TMP/stalled.stderr" &
  STALL_PID=$!
  exec {STALL_FD}>"$FIFO"
  head -c 2000 "$TMP/inc.stream" >&"$STALL_FD"
  # ready once ovh3's zfs-fuse holds the fifo (the receive ioctl has the stream)
  local zp i ready=0
  zp="$(cat "$LAB/hosts/ovh3/zfs-fuse.pid")"
  for ((i = 0; i < 200; i++)); do
    if find "/proc/$zp/fd" -lname "$FIFO" 2>/dev/null | grep -q .; then ready=1; break; fi
    sleep 0.05
  done
  (( ready )) || die "the stalled recv never reached zfs-fuse"
  record_pipe recv-busy off1 "$inc" ovh3 "zfs recv scratch/products"
  record destroy-snapshot-during-recv ovh3 "zfs destroy scratch/products@20230530-2330"
  eval "exec $STALL_FD>&-"; STALL_FD=""
  local rc=0; wait "$STALL_PID" || rc=$?; STALL_PID=""
  check_name recv-stalled-then-truncated
  echo "zfs recv scratch/products" >"$OUT/recv-stalled-then-truncated.cmd"
  cp "$TMP/stalled.stdout" "$OUT/recv-stalled-then-truncated.stdout"
  cp "$TMP/stalled.stderr" "$OUT/recv-stalled-then-truncated.stderr"
  echo "$rc" >"$OUT/recv-stalled-then-truncated.exit"
  note recv-stalled-then-truncated "ovh3(local)" "$rc" "zfs recv scratch/products  # stream cut after 2000 bytes"

  # the normal case, for contrast
  record_pipe recv-incremental-ok-v off1 "$inc" ovh3 "zfs recv -v scratch/products"
  record list-scratch-after ovh3 "zfs list -H -t all -o name,origin -r scratch"

  # a tree with properties set at several levels (zfs-fleet set and rename previews: what inherits, what moves)
  z3 create scratch/tree
  z3 create scratch/tree/a
  z3 create scratch/tree/a/deep
  z3 create -o compression=gzip scratch/tree/b
  z3 create scratch/tree/b/under
  z3 set mountpoint=/scratch/elsewhere/b scratch/tree/b
  z3 set sharesmb=on scratch/tree/b 2>/dev/null || true  # set, then 'smb add share failed' (no smbd): exit 1
  z3 snapshot -r scratch/tree@one
  record get-r-props-tree ovh3 "zfs get -H -p -r -o name,property,value,source mountpoint,sharenfs,sharesmb,compression,readonly scratch/tree"
  record list-props-tree ovh3 "zfs get -H -p -r -o name,property,value type,creation,guid,used,available,referenced,mountpoint,readonly,origin,createtxg,userrefs,mounted scratch/tree"
  record set-bad-value ovh3 "zfs set compression=bogus scratch/tree/a"
  record set-unknown-property ovh3 "zfs get -H -p -r -o name,property,value,source nosuchprop scratch/tree/a"
  record rename-exists ovh3 "zfs rename scratch/tree/a scratch/tree/b"
  record promote-not-clone ovh3 "zfs promote scratch/tree/a"
  # user properties (zfs-fleet roles): unset they read '-'; set, 'local'
  record get-role-props-unset ovh3 "zfs get -H -p -o name,property,value,source zfs-fleet:role,zfs-fleet:group,zfs-fleet:primary,readonly scratch/tree/a"
  z3 set zfs-fleet:role=replica scratch/tree/b
  z3 set zfs-fleet:group=data scratch/tree/b
  z3 set readonly=on scratch/tree/b
  record get-role-props-set ovh3 "zfs get -H -p -o name,property,value,source zfs-fleet:role,zfs-fleet:group,zfs-fleet:primary,readonly scratch/tree/b"
  record hold-tag-exists ovh3 "zfs hold keep scratch/tree@one && zfs hold keep scratch/tree@one; rc=\$?; zfs release keep scratch/tree@one; exit \$rc"

  # a pool that is not ONLINE (zfs-fleet check): a mirror on off2 with one side offline reads DEGRADED
  local m1="$LAB/hosts/off2/mirror1.img" m2="$LAB/hosts/off2/mirror2.img"
  truncate -s 128M "$m1" "$m2"
  "$LAB/hosts/off2/zpool" create -f zfs-mirror mirror "$m1" "$m2" 2>&1 | { grep -v '^Defaulting to 4K blocksize' || true; } >&2
  "$LAB/hosts/off2/zpool" offline zfs-mirror "$m2"
  record zpool-list-H-degraded off2 "zpool list -H -o name,health,size,allocated,free"
  record zpool-status-degraded off2 "env TZ=UTC LC_ALL=C zpool status zfs-mirror"
  "$LAB/hosts/off2/zpool" destroy -f zfs-mirror; rm -f "$m1" "$m2"

  # scrubs as zpool status reports them (src/core/zfs/poolStatus.ts): never, and clean. (A vdev
  # overwritten while exported does not import again on zfs-fuse, "I/O error": scrub errors are
  # recorded on OpenZFS, test/integration-vm/record-pool-status-fixtures.sh.)
  record_scrubs
}

record_scrubs() {
  local img="$LAB/hosts/off2/scrub.img" zp="$LAB/hosts/off2/zpool"
  truncate -s 128M "$img"
  "$zp" create -f zfs-scrub "$img" 2>&1 | { grep -v '^Defaulting to 4K blocksize' || true; } >&2
  record zpool-status-never-scrubbed off2 "env TZ=UTC LC_ALL=C zpool status zfs-scrub"
  "$LAB/hosts/off2/zfs" set compression=off zfs-scrub
  ssh_host off2 "head -c 48M /dev/urandom > \"\$(zfs get -H -o value mountpoint zfs-scrub)/a.bin\" && sync"
  "$zp" scrub zfs-scrub
  for _ in $(seq 1 120); do "$zp" status zfs-scrub | grep -q 'in progress' || break; sleep 0.5; done
  record zpool-status-scrubbed off2 "env TZ=UTC LC_ALL=C zpool status zfs-scrub"
  "$zp" destroy -f zfs-scrub; rm -f "$img"
}

# ---------------------------------------------------------------------------------------------
main() {
  [[ $EUID -eq 0 ]] || die "run as root (the lab needs it)"
  [[ -d "$OUT" ]] || mkdir -p "$OUT"
  local t0; t0=$(date +%s)
  if [[ $MODE == private ]]; then
    log "private lab in $LAB (ports $((ZFS_FLEET_LAB_PORT_BASE + 1))-$((ZFS_FLEET_LAB_PORT_BASE + 3))): reset to the fresh seed"
    "$LABSH" reset >&2
  else
    "$LABSH" status >/dev/null || die "the shared lab in $LAB is not up (test/lab/lab.sh up)"
  fi
  "$LABSH" verify >&2 || die "lab $LAB is not in its base seed state; fixtures must be recorded on the seed (lab.sh reset, or omit --shared)"
  trap cleanup EXIT

  find "$OUT" -maxdepth 1 -type f \( -name '*.stdout' -o -name '*.stderr' -o -name '*.exit' -o -name '*.cmd' -o -name index.tsv \) -delete
  printf 'name\thost\texit\tcommand\n' >"$OUT/index.tsv"

  mkdir -p "$TMP"
  ssh-keygen -q -t ed25519 -N '' -C other -f "$TMP/other_key"
  ssh-keygen -q -t ed25519 -N '' -C wrong -f "$TMP/wrong_host_key"
  awk -v k="$(cut -d' ' -f1,2 "$TMP/wrong_host_key.pub")" '{ print $1, k }' "$LAB/known_hosts" >"$TMP/wrong_known_hosts"

  log "recording the table on $LAB"
  run_table
  log "recording scenarios (scratch pool on ovh3)"
  scenarios

  local line name pat miss=0
  while IFS= read -r line; do
    [[ -z "$line" ]] && continue
    name="$(trim "${line%%|*}")"; pat="$(trim "${line#*|}")"
    if ! cat "$OUT/$name.stdout" "$OUT/$name.stderr" 2>/dev/null | grep -Eq -- "$pat"; then
      log "NOTE: $name does not show /$pat/ (see $OUT/$name.stderr)"; miss=1
    fi
  done <<<"$EXPECT"

  zp3 destroy -f scratch; rm -f "$SCRATCH_IMG"
  "$LABSH" verify >&2 || die "the lab no longer matches its seed after recording (a fixture changed it)"
  log "$COUNT fixtures in $OUT in $(( $(date +%s) - t0 )) s$([[ $miss == 1 ]] && echo ' (some expectations not met, see above)' || true)"
}
main
