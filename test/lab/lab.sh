#!/usr/bin/env bash
# ZFS Fleet test lab: three ZFS hosts (zfs-fuse) reachable over real SSH on loopback.
#
#   lab.sh up | down | status | env | reset [--keys] | verify | many-snapshots HOST DATASET N [--flat]
#
# Each lab host runs in its own private mount namespace (unshare -m --propagation private) with
# host-private directories bind-mounted over /var/run/zfs, /var/lock/zfs, /var/lib/zfs and
# /etc/zfs, its own `zfs-fuse --no-daemon`, its own file-backed pool(s) and its own sshd.
# State lives in ${ZFS_FLEET_LAB:-/tmp/zfs-fleet-lab} (the `vm/` folder in it belongs to the
# OpenZFS VM lab and is never touched here). See test/lab/README.md.
set -euo pipefail

LAB="${ZFS_FLEET_LAB:-/tmp/zfs-fleet-lab}"
SELF="$(readlink -f "${BASH_SOURCE[0]}")"

# --- host table --------------------------------------------------------------------------------
HOSTS=(off1 ovh3 off2)
# Ports: base+1..3 (default 2231-2233) and base+9 for "unreachable". A second, private lab (as
# record-fixtures.sh uses) needs its own ZFS_FLEET_LAB and ZFS_FLEET_LAB_PORT_BASE.
PORT_BASE="${ZFS_FLEET_LAB_PORT_BASE:-2230}"
[[ "$PORT_BASE" =~ ^[0-9]+$ ]] || { echo "[lab] ERROR: ZFS_FLEET_LAB_PORT_BASE must be a number" >&2; exit 1; }
declare -A PORT=([off1]=$((PORT_BASE + 1)) [ovh3]=$((PORT_BASE + 2)) [off2]=$((PORT_BASE + 3)))
declare -A POOLS=([off1]="zfs-hdd" [ovh3]="rpool" [off2]="zfs-nvme")
declare -A ROLE=([off1]=production [ovh3]=backup [off2]=production)
UNREACHABLE_PORT=$((PORT_BASE + 9))
POOL_SIZE=1G                      # sparse image files: they only use what is written
APT_PACKAGES=(zfs-fuse openssh-server openssh-client util-linux iproute2 fish tcsh mbuffer pv)
# Root's twins with other login shells (uid 0, home /root): remote commands must not depend on sh's rules.
declare -A SHELL_USERS=([zfs-fleet-fish]=/usr/bin/fish [zfs-fleet-tcsh]=/usr/bin/tcsh)
SBIN_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# --- small helpers -----------------------------------------------------------------------------
log() { printf '[lab] %s\n' "$*" >&2; }
warn() { printf '[lab] WARNING: %s\n' "$*" >&2; }
die() { printf '[lab] ERROR: %s\n' "$*" >&2; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

hdir() { printf '%s/hosts/%s' "$LAB" "$1"; }

# alive PID: true if PID exists and is not a zombie
alive() {
  local pid="${1:-}" state
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  state="$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)" || return 1
  [[ -n "$state" && "$state" != Z && "$state" != X ]]
}
dead() { ! alive "$1"; }
readpid() { local f="$1"; [[ -s "$f" ]] && cat "$f" || true; }

# wait_until TIMEOUT_SECONDS DESCRIPTION COMMAND...: poll COMMAND every 50 ms
wait_until() {
  local timeout="$1" what="$2"; shift 2
  local deadline=$(( $(date +%s%N) + timeout * 1000000000 ))
  until "$@" >/dev/null 2>&1; do
    (( $(date +%s%N) < deadline )) || { warn "timed out after ${timeout}s waiting for $what"; return 1; }
    sleep 0.05
  done
}

zfs_pid() { readpid "$(hdir "$1")/zfs-fuse.pid"; }
sshd_pid() { readpid "$(hdir "$1")/sshd.pid"; }

# in_ns HOST CMD...: run CMD inside HOST's mount namespace
in_ns() {
  local host="$1" pid; shift
  pid="$(zfs_pid "$host")"
  alive "$pid" || die "lab host $host is not running (no zfs-fuse); run: $SELF up"
  nsenter --mount="/proc/$pid/ns/mnt" -- env PATH="$SBIN_PATH" "$@"
}

zfs_responds() { timeout 10 nsenter --mount="/proc/$(zfs_pid "$1")/ns/mnt" -- /usr/sbin/zpool list -H -o name >/dev/null 2>&1; }

ssh_lab() { local host="$1"; shift; ssh -F "$LAB/ssh_config" -o BatchMode=yes -o ConnectTimeout=5 "$host" "$@"; }

# pids whose mount namespace is NSID (an "mnt:[...]" string)
ns_pids() {
  local nsid="$1" p
  for p in /proc/[0-9]*; do
    [[ "$(readlink "$p/ns/mnt" 2>/dev/null)" == "$nsid" ]] && alive "${p#/proc/}" && printf '%s\n' "${p#/proc/}"
  done
  return 0
}

# kill_pids SIGNAL_TIMEOUT PID...: TERM, wait up to TIMEOUT s, then KILL
kill_pids() {
  local timeout="$1" pid left; shift
  (( $# )) || return 0
  kill -TERM "$@" 2>/dev/null || true
  local deadline=$(( $(date +%s%N) + timeout * 1000000000 ))
  while :; do
    left=()
    for pid in "$@"; do alive "$pid" && left+=("$pid"); done
    (( ${#left[@]} )) || return 0
    (( $(date +%s%N) < deadline )) || break
    sleep 0.05
  done
  warn "sending KILL to ${left[*]}"
  kill -KILL "${left[@]}" 2>/dev/null || true
  for pid in "${left[@]}"; do wait_until 5 "pid $pid to exit" dead "$pid" || true; done
}

check_dir() {
  [[ "$LAB" = /* ]] || die "ZFS_FLEET_LAB must be an absolute path (got '$LAB')"
  [[ "$LAB" != *[[:space:]]* ]] || die "ZFS_FLEET_LAB must not contain spaces (sshd_config paths): '$LAB'"
}

# --- packages ----------------------------------------------------------------------------------
ensure_packages() {
  local missing=() p
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  (( ${#missing[@]} )) || return 0
  [[ $EUID -eq 0 ]] || die "missing packages ${missing[*]} and not root"
  log "installing ${missing[*]} (apt-get)"
  # Keep the packages' own services (system zfs-fuse, sshd on :22) from starting: the lab runs its own.
  local policy=/usr/sbin/policy-rc.d created_policy=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod 755 "$policy"; created_policy=1
  fi
  local rc=0
  { DEBIAN_FRONTEND=noninteractive apt-get update -q &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"; } >&2 || rc=$?
  (( created_policy )) && rm -f "$policy"
  (( rc == 0 )) || die "apt-get failed ($rc)"
}

ensure_shell_users() {
  local u
  for u in "${!SHELL_USERS[@]}"; do
    getent passwd "$u" >/dev/null || useradd -o -u 0 -g 0 -M -d /root -s "${SHELL_USERS[$u]}" "$u" 2>/dev/null ||
      die "cannot add the lab user $u"
    # password "*": none, but not locked ("!", useradd's default), which sshd refuses even for key logins
    usermod -p '*' -s "${SHELL_USERS[$u]}" "$u" || die "cannot set up the lab user $u"
  done
}

preflight() {
  [[ $EUID -eq 0 ]] || die "the lab needs root (mount namespaces, zfs-fuse)"
  check_dir
  ensure_packages
  ensure_shell_users
  [[ -c /dev/fuse ]] || die "/dev/fuse is missing (zfs-fuse needs FUSE)"
  local c
  for c in zfs-fuse zfs zpool unshare nsenter ssh ssh-keygen /usr/sbin/sshd; do
    command -v "$c" >/dev/null || [[ -x "$c" ]] || die "missing command $c"
  done
  # mount points for the per-host bind mounts (empty dirs on the real root)
  mkdir -p /run/zfs /run/lock/zfs /var/lib/zfs /etc/zfs /run/sshd
  chmod 755 /run/sshd
  mkdir -p "$LAB/hosts"
}

# --- keys and client configuration ---------------------------------------------------------
ensure_keys() {
  if [[ ! -s "$LAB/id_ed25519" || ! -s "$LAB/id_ed25519.pub" ]]; then
    rm -f "$LAB/id_ed25519" "$LAB/id_ed25519.pub"
    ssh-keygen -q -t ed25519 -N '' -C "zfs-fleet-lab-client" -f "$LAB/id_ed25519"
  fi
  chmod 600 "$LAB/id_ed25519"
  local h d
  for h in "${HOSTS[@]}"; do
    d="$(hdir "$h")"; mkdir -p "$d"
    if [[ ! -s "$d/ssh_host_ed25519_key" || ! -s "$d/ssh_host_ed25519_key.pub" ]]; then
      rm -f "$d/ssh_host_ed25519_key" "$d/ssh_host_ed25519_key.pub"
      ssh-keygen -q -t ed25519 -N '' -C "zfs-fleet-lab-$h" -f "$d/ssh_host_ed25519_key"
    fi
    cp "$LAB/id_ed25519.pub" "$d/authorized_keys"
  done
}

write_client_files() {
  local h d tmp u
  tmp="$(mktemp "$LAB/.ssh_config.XXXXXX")"
  {
    echo "# ZFS Fleet lab (generated by test/lab/lab.sh; do not edit)"
    for h in "${HOSTS[@]}"; do
      cat <<EOF

Host $h
  HostName 127.0.0.1
  Port ${PORT[$h]}
  User root
  IdentityFile $LAB/id_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile $LAB/known_hosts
  StrictHostKeyChecking yes
EOF
    done
    for u in "${!SHELL_USERS[@]}"; do
      cat <<EOF

# off1 through a login shell other than sh ($u's shell is ${SHELL_USERS[$u]})
Host off1-${u#zfs-fleet-}
  HostName 127.0.0.1
  Port ${PORT[off1]}
  User $u
  IdentityFile $LAB/id_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile $LAB/known_hosts
  StrictHostKeyChecking yes
EOF
    done
    cat <<EOF

# nothing listens here: connection refused
Host unreachable
  HostName 127.0.0.1
  Port $UNREACHABLE_PORT
  User root
  IdentityFile $LAB/id_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile $LAB/known_hosts
  StrictHostKeyChecking yes
EOF
  } >"$tmp"
  chmod 644 "$tmp"; mv -f "$tmp" "$LAB/ssh_config"

  tmp="$(mktemp "$LAB/.known_hosts.XXXXXX")"
  for h in "${HOSTS[@]}"; do
    d="$(hdir "$h")"
    printf '[127.0.0.1]:%s %s\n' "${PORT[$h]}" "$(cut -d' ' -f1,2 "$d/ssh_host_ed25519_key.pub")"
  done >"$tmp"
  chmod 644 "$tmp"; mv -f "$tmp" "$LAB/known_hosts"

  for h in "${HOSTS[@]}"; do
    d="$(hdir "$h")"
    local tool
    for tool in zfs zpool; do
      cat >"$d/$tool.tmp" <<EOF
#!/bin/sh
# Runs $tool inside lab host $h's mount namespace (generated by test/lab/lab.sh).
pid=\$(cat '$d/zfs-fuse.pid' 2>/dev/null) && [ -e "/proc/\$pid/ns/mnt" ] || {
  echo "zfs-fleet lab host $h is down (run test/lab/lab.sh up)" >&2; exit 255; }
exec nsenter --mount="/proc/\$pid/ns/mnt" -- /usr/sbin/$tool "\$@"
EOF
      chmod 755 "$d/$tool.tmp"; mv -f "$d/$tool.tmp" "$d/$tool"
    done
  done

  tmp="$(mktemp "$LAB/.lab.json.XXXXXX")"
  {
    printf '{\n  "dir": "%s",\n  "sshConfig": "%s/ssh_config",\n  "knownHosts": "%s/known_hosts",\n' "$LAB" "$LAB" "$LAB"
    printf '  "identity": "%s/id_ed25519",\n  "identityPub": "%s/id_ed25519.pub",\n  "hosts": [\n' "$LAB" "$LAB"
    local i=0 n=${#HOSTS[@]} pools p first
    for h in "${HOSTS[@]}"; do
      d="$(hdir "$h")"; i=$((i + 1))
      pools=""; first=1
      for p in ${POOLS[$h]}; do (( first )) || pools+=", "; pools+="\"$p\""; first=0; done
      printf '    { "name": "%s", "hostName": "127.0.0.1", "port": %s, "user": "root", "role": "%s", "pools": [%s],\n' \
        "$h" "${PORT[$h]}" "${ROLE[$h]}" "$pools"
      printf '      "zfs": "%s/zfs", "zpool": "%s/zpool", "hostKey": "%s" }%s\n' \
        "$d" "$d" "$(cut -d' ' -f1,2 "$d/ssh_host_ed25519_key.pub")" "$([[ $i -lt $n ]] && echo , || true)"
    done
    printf '  ],\n  "unreachable": { "name": "unreachable", "hostName": "127.0.0.1", "port": %s }\n}\n' "$UNREACHABLE_PORT"
  } >"$tmp"
  chmod 644 "$tmp"; mv -f "$tmp" "$LAB/lab.json"
}

write_sshd_config() {
  local h="$1" d
  d="$(hdir "$h")"
  cat >"$d/sshd_config" <<EOF
# sshd for ZFS Fleet lab host $h (generated by test/lab/lab.sh)
Port ${PORT[$h]}
ListenAddress 127.0.0.1
HostKey $d/ssh_host_ed25519_key
PidFile $d/sshd.pid
AuthorizedKeysFile $d/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
MaxSessions 20
MaxStartups 64:30:128
PrintMotd no
PrintLastLog no
UseDNS no
LogLevel INFO
# zfs/zpool live in /usr/sbin: make sure non-interactive commands find them
SetEnv PATH=$SBIN_PATH
Subsystem sftp internal-sftp
EOF
}

# --- per-host lifecycle ----------------------------------------------------------------------
# Runs inside the fresh namespace (via unshare) and stays there as a small supervisor: bind
# mounts, start zfs-fuse, wait for it (so it is reaped, and its exit status is logged).
ns_init() {
  local h="$1" d
  d="$(hdir "$h")"
  cd /
  mount --bind "$d/ns/run" /var/run/zfs
  mount --bind "$d/ns/lock" /var/lock/zfs
  mount --bind "$d/ns/lib" /var/lib/zfs
  mount --bind "$d/ns/etc" /etc/zfs
  # The host's own ssh client (push and pull routes run `ssh OTHER` here) knows the other lab hosts
  # by address only, as in a real fleet: the operator's aliases (off1, ovh3, off2) mean nothing here.
  if [ -f /etc/ssh/ssh_config ]; then
    printf '%s\n' "# ssh client config of lab host $h (generated by test/lab/lab.sh; bind-mounted on /etc/ssh/ssh_config)" \
      'Host 127.0.0.1' "  IdentityFile $LAB/id_ed25519" '  IdentitiesOnly yes' "  UserKnownHostsFile $LAB/known_hosts" \
      '  StrictHostKeyChecking yes' >"$d/ns/ssh_config"
    mount --bind "$d/ns/ssh_config" /etc/ssh/ssh_config
  fi
  # A fresh empty tmpfs under each pool's mount point: zfs refuses to mount over a non-empty
  # directory, and the real /<pool> is shared by every lab (and gets stray directories whenever
  # a dataset is created while its pool is not mounted).
  local p
  for p in ${POOLS[$h]}; do
    mkdir -p "/$p"
    mount -t tmpfs -o mode=755,size=1m "zfs-fleet-lab-$h" "/$p"
  done
  rm -f "$d/ns/run/zfs_socket"
  readlink /proc/self/ns/mnt >"$d/ns.id"
  echo $$ >"$d/holder.pid"
  # exec: the supervisor must not keep reading this file (bash reads scripts lazily; an edit of
  # lab.sh while the lab is up would otherwise be executed from a stale offset when it exits)
  exec bash -c '
    zfs-fuse --no-daemon </dev/null &
    zp=$!
    echo "$zp" >"$1"
    echo "[lab] $(date -u +%FT%TZ) zfs-fuse started, pid $zp"
    rc=0; wait "$zp" || rc=$?
    echo "[lab] $(date -u +%FT%TZ) zfs-fuse pid $zp exited with status $rc"
  ' "zfs-fleet-lab-$h" "$d/zfs-fuse.pid"
}

start_zfs() {
  local h="$1" d pid
  d="$(hdir "$h")"
  pid="$(zfs_pid "$h")"
  if alive "$pid" && zfs_responds "$h"; then return 0; fi
  if alive "$pid"; then
    warn "$h: zfs-fuse (pid $pid) does not answer; restarting the host"
  elif [[ -n "$pid" ]]; then
    log "$h: zfs-fuse (pid $pid) is gone; restarting the host"
  fi
  stop_host "$h"   # clears stale pids, sshd and leftovers of a previous run
  mkdir -p "$d/ns/run" "$d/ns/lock" "$d/ns/lib" "$d/ns/etc" "$d/pools"
  cat >"$d/ns/etc/zfsrc" <<'EOF'
# zfs-fuse settings of a ZFS Fleet lab host (Debian defaults, smaller ARC)
vdev-cache-size = 10
max-arc-size = 64
zfs-prefetch-disable
fuse-attr-timeout = 3600
fuse-entry-timeout = 3600
fuse-mount-options = default_permissions
EOF
  rm -f "$d/zfs-fuse.pid" "$d/holder.pid" "$d/ns.id"
  setsid unshare -m --propagation private "$SELF" __ns-init "$h" </dev/null >>"$d/zfs-fuse.log" 2>&1 &
  local holder=$!
  wait_until 10 "$h zfs-fuse to start" test -s "$d/zfs-fuse.pid" ||
    die "$h: namespace/zfs-fuse did not start (see $d/zfs-fuse.log)"
  pid="$(zfs_pid "$h")"
  alive "$pid" || die "$h: zfs-fuse exited at once (see $d/zfs-fuse.log)"
  alive "$holder" || true
  wait_until 20 "$h zfs-fuse socket" zfs_responds "$h" || die "$h: zfs-fuse does not answer (see $d/zfs-fuse.log)"
}

# import (or, for a fresh lab, create) the host's pools and mount everything
ensure_pools() {
  local h="$1" create="$2" d p img
  d="$(hdir "$h")"
  for p in ${POOLS[$h]}; do
    img="$d/pools/$p.img"
    if in_ns "$h" zpool list -H -o name "$p" >/dev/null 2>&1; then
      :
    elif [[ "$create" == 1 ]]; then
      rm -f "$img"; truncate -s "$POOL_SIZE" "$img"
      in_ns "$h" zpool create -f "$p" "$img" 2>&1 | grep -v '^Defaulting to 4K blocksize' >&2 || true
      in_ns "$h" zpool list -H -o name "$p" >/dev/null 2>&1 || die "$h: zpool create $p failed"
    else
      [[ -f "$img" ]] || die "$h: pool image $img is missing; run: $SELF reset"
      in_ns "$h" zpool import -d "$d/pools" "$p" || die "$h: zpool import $p failed"
    fi
  done
  in_ns "$h" zfs mount -a || warn "$h: zfs mount -a reported errors"
  local unmounted
  unmounted="$(in_ns "$h" zfs list -H -t filesystem -o name,mounted,canmount,mountpoint |
    awk -F'\t' '$2 == "no" && $3 == "on" && $4 ~ /^\// { print $1 }')"
  [[ -z "$unmounted" ]] || warn "$h: not mounted: $(paste -sd' ' <<<"$unmounted")"
}

start_sshd() {
  local h="$1" d pid
  d="$(hdir "$h")"
  pid="$(sshd_pid "$h")"
  if alive "$pid" && [[ "$(readlink "/proc/$pid/ns/mnt")" == "$(cat "$d/ns.id")" ]]; then return 0; fi
  alive "$pid" && kill_pids 5 "$pid"
  rm -f "$d/sshd.pid"
  write_sshd_config "$h"
  /usr/sbin/sshd -t -f "$d/sshd_config" || die "$h: invalid sshd config $d/sshd_config"
  in_ns "$h" /usr/sbin/sshd -f "$d/sshd_config" -E "$d/sshd.log" ||
    die "$h: sshd failed to start on port ${PORT[$h]} (see $d/sshd.log; is the port taken?)"
  wait_until 10 "$h sshd pid file" test -s "$d/sshd.pid" || die "$h: sshd wrote no pid file (see $d/sshd.log)"
}

stop_all() {   # zfs-fuse takes ~3 s to exit on TERM: stop the hosts in parallel
  local h p pids=() rc=0
  for h in "${HOSTS[@]}"; do stop_host "$h" & pids+=($!); done
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  (( rc == 0 )) || die "some lab hosts did not stop cleanly"
}

holder_pid() { readpid "$(hdir "$1")/holder.pid"; }

stop_host() {
  local h="$1" d zpid spid hpid nsid="" p pool others=()
  d="$(hdir "$h")"
  [[ -d "$d" ]] || return 0
  zpid="$(zfs_pid "$h")"; spid="$(sshd_pid "$h")"; hpid="$(holder_pid "$h")"
  for p in "$hpid" "$zpid" "$spid"; do
    if alive "$p"; then nsid="$(readlink "/proc/$p/ns/mnt" 2>/dev/null || true)"; break; fi
  done
  if [[ -n "$nsid" && -s "$d/ns.id" && "$nsid" != "$(cat "$d/ns.id")" ]]; then
    warn "$h: recorded pids are not in the recorded namespace; not sweeping it"
    nsid=""
  fi
  # 1. sshd (no new sessions), 2. every other process of the namespace (sessions, stalled recv)
  alive "$spid" && kill_pids 5 "$spid"
  if [[ -n "$nsid" ]]; then
    for p in $(ns_pids "$nsid"); do [[ "$p" != "$zpid" && "$p" != "$hpid" && "$p" != "$$" ]] && others+=("$p"); done
    if (( ${#others[@]} )); then
      log "$h: stopping ${#others[@]} process(es) still in the host: $(ps -o pid=,comm= -p "$(IFS=,; echo "${others[*]}")" 2>/dev/null | awk '{ printf "%s%s(%s)", sep, $1, $2; sep=" " }')"
      kill_pids 5 "${others[@]}"
    fi
  fi
  # 3. export the pools (their state is then complete on disk), 4. zfs-fuse (its supervisor exits with it)
  if alive "$zpid"; then
    for pool in $(timeout 10 nsenter --mount="/proc/$zpid/ns/mnt" -- /usr/sbin/zpool list -H -o name 2>/dev/null || true); do
      timeout 60 nsenter --mount="/proc/$zpid/ns/mnt" -- /usr/sbin/zpool export "$pool" 2>/dev/null ||
        timeout 60 nsenter --mount="/proc/$zpid/ns/mnt" -- /usr/sbin/zpool export -f "$pool" ||
        warn "$h: could not export $pool (it will be re-opened from the cache)"
    done
    kill_pids 20 "$zpid"
  fi
  alive "$hpid" && { wait_until 5 "$h supervisor to exit" dead "$hpid" || kill_pids 2 "$hpid"; }
  # 5. anything still in the namespace
  if [[ -n "$nsid" ]]; then
    mapfile -t others < <(ns_pids "$nsid")
    if (( ${#others[@]} )); then warn "$h: killing remaining ${others[*]}"; kill_pids 2 "${others[@]}"; fi
  fi
  rm -f "$d/zfs-fuse.pid" "$d/holder.pid" "$d/sshd.pid" "$d/ns.id" "$d/ns/run/zfs_socket"
  return 0
}

# --- seed data -------------------------------------------------------------------------------
# Scripts below run inside a host's namespace (bash -s); they write small files and snapshot.
SEED_HELPERS='
set -euo pipefail
blob() { head -c "$(( $2 * 1024 ))" /dev/urandom >"$1"; }                 # PATH KB (binary)
text() { local f="$1" kb="$2"; shift 2                                    # PATH KB LINE...
  { printf "%s\n" "$@"; head -c "$(( kb * 1024 ))" < <(yes "lorem ipsum dolor sit amet, consectetur adipiscing elit $RANDOM"); } >"$f"; }
product() { local root="$1" code="$2" dir                                 # OFF-like layout
  dir="$root/${code:0:3}/${code:3:3}/${code:6:3}/${code:9}"; mkdir -p "$dir"
  text "$dir/product.sto" "$3" "{\"code\":\"$code\",\"product_name\":\"Product $code\",\"rev\":$4}"; }
'

seed_off1() {
  in_ns off1 bash -s <<EOF
$SEED_HELPERS
zfs create zfs-hdd/off
for d in products images users "my data"; do zfs create "zfs-hdd/off/\$d"; done
R=/zfs-hdd/off
# 2023-05-01
for c in 3017620422003 3274080005003 5449000000996 7622210449283 8000500310427; do product \$R/products \$c 4 1; done
blob \$R/images/3017620422003.1.jpg 120; blob \$R/images/3274080005003.1.jpg 200; blob \$R/images/5449000000996.1.jpg 80
for u in alice bob carol; do text "\$R/users/\$u.sto" 2 "user \$u"; done
text "\$R/my data/notes 2023.txt" 3 "notes with a space in the dataset and file name"
text "\$R/my data/report.csv" 8 "date,products,images"
zfs snapshot -r zfs-hdd/off@20230501-0000
# 2023-05-15
for c in 3017620422003 0737628064502 4008400402222; do product \$R/products \$c 6 2; done
blob \$R/images/0737628064502.1.jpg 150
text \$R/users/bob.sto 3 "user bob (edited)"
zfs snapshot -r zfs-hdd/off@20230515-0000
# 2023-05-30 23:30
for c in 3245412718649 5000112548167 8711000530085; do product \$R/products \$c 5 1; done
blob \$R/images/3245412718649.1.jpg 300; rm -f \$R/images/5449000000996.1.jpg
text \$R/users/dave.sto 2 "user dave"
zfs snapshot -r zfs-hdd/off@20230530-2330
# 2023-06-08 11:30
for c in 3017620422003 7613035833289 3560070894222; do product \$R/products \$c 7 3; done
blob \$R/images/7613035833289.1.jpg 90
text "\$R/my data/notes 2023.txt" 4 "notes, June edition"
zfs snapshot -r zfs-hdd/off@20230608-1130
EOF
}

seed_ovh3() {
  local z1 z3 ds
  z1="$(hdir off1)/zfs"; z3="$(hdir ovh3)/zfs"
  "$z3" create rpool/off || return 1
  for ds in products images users; do
    "$z1" send "zfs-hdd/off/$ds@20230501-0000" | "$z3" recv "rpool/off/$ds" || return 1
    "$z1" send -I @20230501-0000 "zfs-hdd/off/$ds@20230530-2330" | "$z3" recv -F "rpool/off/$ds" || return 1
  done
  "$z3" create rpool/off/clones || return 1
  "$z3" clone rpool/off/products@20230515-0000 rpool/off/clones/products
}

seed_off2() {
  in_ns off2 bash -s <<EOF
$SEED_HELPERS
zfs create -p zfs-nvme/off/products
zfs create zfs-nvme/obf
for c in 3017620422003 5449000000996 8000500310427; do product /zfs-nvme/off/products \$c 4 1; done
text /zfs-nvme/obf/cosmetics.sto 6 "obf data"
zfs snapshot zfs-nvme/off/products@autosnap_2024-03-01_00:00:01_daily
for c in 3017620422003 7622210449283; do product /zfs-nvme/off/products \$c 6 2; done
zfs snapshot zfs-nvme/off/products@autosnap_2024-03-02_00:00:01_daily
zfs snapshot zfs-nvme/obf@autosnap_2024-03-02_00:00:01_daily
EOF
}

# Seed 000's incident on its own datasets (npm start shows it): off1:zfs-hdd/incident/products
# replicated to ovh3:rpool/incident/products up to @20230530-2330; a staging clone of the replica's
# @20230515-0000; a file written into the replica; then the source took @20230608-1130 and pruned
# @20230515-0000 and @20230530-2330. A sync now needs the replica rolled back to @20230501-0000, which
# the clone blocks: Diagnose says so and offers the fix. Idempotent: an existing incident is kept.
cmd_incident() {
  local z1 z3
  z1="$(hdir off1)/zfs"; z3="$(hdir ovh3)/zfs"
  if "$z3" list -H -o name rpool/incident/products >/dev/null 2>&1; then log "incident already there"; return 0; fi
  in_ns off1 bash -s <<EOF
$SEED_HELPERS
zfs list zfs-hdd/incident >/dev/null 2>&1 && zfs destroy -r zfs-hdd/incident
zfs create -p zfs-hdd/incident/products
R=/zfs-hdd/incident/products
for c in 3017620422003 3274080005003 5449000000996; do product \$R \$c 4 1; done
zfs snapshot zfs-hdd/incident/products@20230501-0000
for c in 3017620422003 0737628064502; do product \$R \$c 6 2; done
zfs snapshot zfs-hdd/incident/products@20230515-0000
for c in 3245412718649 5000112548167; do product \$R \$c 5 1; done
zfs snapshot zfs-hdd/incident/products@20230530-2330
EOF
  "$z3" create -p rpool/incident || return 1
  "$z1" send zfs-hdd/incident/products@20230501-0000 | "$z3" recv rpool/incident/products || return 1
  "$z1" send -I @20230501-0000 zfs-hdd/incident/products@20230530-2330 | "$z3" recv -F rpool/incident/products || return 1
  "$z3" clone rpool/incident/products@20230515-0000 rpool/incident/staging || return 1
  in_ns ovh3 bash -s <<EOF
$SEED_HELPERS
text /rpool/incident/products/edited-on-the-replica.txt 2 "written on the replica by mistake"
text /rpool/incident/staging/staging-only.txt 2 "the staging clone's own data"
EOF
  in_ns off1 bash -s <<EOF
$SEED_HELPERS
for c in 3017620422003 7613035833289; do product /zfs-hdd/incident/products \$c 7 3; done
zfs snapshot zfs-hdd/incident/products@20230608-1130
zfs destroy zfs-hdd/incident/products@20230515-0000
zfs destroy zfs-hdd/incident/products@20230530-2330
EOF
  log "incident seeded: off1:zfs-hdd/incident/products -> ovh3:rpool/incident/products (pruned base, modified replica, staging clone)"
}

# --- commands --------------------------------------------------------------------------------
host_ok_ssh() { timeout 20 ssh -F "$LAB/ssh_config" -o BatchMode=yes -o ConnectTimeout=5 "$1" zfs list -H -o name >/dev/null 2>&1; }

all_ok() {
  [[ -f "$LAB/ssh_config" && -f "$LAB/seeded" ]] || return 1
  local h
  for h in "${HOSTS[@]}"; do
    alive "$(zfs_pid "$h")" && alive "$(sshd_pid "$h")" && host_ok_ssh "$h" || return 1
  done
}

cmd_up() {
  local t0 h fresh=0
  t0="$(now)"
  preflight
  if all_ok; then
    write_client_files
    log "lab already up in $LAB (all hosts answer over ssh); verified in $(elapsed "$t0") s"
    return 0
  fi
  ensure_keys
  write_client_files
  if [[ ! -f "$LAB/seeded" ]]; then
    fresh=1
    log "creating a fresh lab in $LAB"
    stop_all
    for h in "${HOSTS[@]}"; do rm -rf "$(hdir "$h")/ns" "$(hdir "$h")/pools"; done
  fi
  for h in "${HOSTS[@]}"; do
    start_zfs "$h"
    ensure_pools "$h" "$fresh"
  done
  if (( fresh )); then
    local ts; ts="$(now)"
    seed_off1 || die "seeding off1 failed"
    seed_ovh3 || die "seeding ovh3 (send/recv from off1) failed"
    seed_off2 || die "seeding off2 failed"
    date -u +%Y-%m-%dT%H:%M:%SZ >"$LAB/seeded"
    log "seed data created in $(elapsed "$ts") s"
  fi
  for h in "${HOSTS[@]}"; do start_sshd "$h"; done
  for h in "${HOSTS[@]}"; do
    wait_until 15 "$h to answer zfs list over ssh" host_ok_ssh "$h" || die "$h does not answer over ssh (see $(hdir "$h")/sshd.log)"
  done
  log "lab up in $(elapsed "$t0") s ($([[ $fresh == 1 ]] && echo "fresh, seeded" || echo "existing pools re-imported")): ${HOSTS[*]} -> ssh -F $LAB/ssh_config off1 zfs list"
}

cmd_down() {
  check_dir
  local t0 h; t0="$(now)"
  [[ -d "$LAB/hosts" ]] || { log "nothing to stop in $LAB"; return 0; }
  stop_all
  log "lab down in $(elapsed "$t0") s"
}

cmd_status() {
  check_dir
  local h rc=0 zp sp line
  printf '%-6s %-5s %-10s %-10s %-8s %s\n' HOST PORT ZFS-FUSE SSHD SSH POOLS
  for h in "${HOSTS[@]}"; do
    zp="$(zfs_pid "$h")"; sp="$(sshd_pid "$h")"
    local zs=down ss=down s=fail pools=-
    alive "$zp" && zs="pid:$zp"
    alive "$sp" && ss="pid:$sp"
    if [[ -f "$LAB/ssh_config" ]] && line="$(timeout 20 ssh -F "$LAB/ssh_config" -o BatchMode=yes -o ConnectTimeout=5 "$h" zpool list -H -o name 2>/dev/null)" &&
      host_ok_ssh "$h"; then
      s=ok; pools="$(paste -sd' ' <<<"$line")"
    else
      rc=1
    fi
    printf '%-6s %-5s %-10s %-10s %-8s %s\n' "$h" "${PORT[$h]}" "$zs" "$ss" "$s" "$pools"
  done
  if (( rc == 0 )); then echo "lab is up: $LAB"; else echo "lab is NOT (fully) up: $LAB"; fi
  return $rc
}

cmd_env() {
  check_dir
  cat <<EOF
export ZFS_FLEET_LAB=$LAB
export ZFS_FLEET_LAB_SSH_CONFIG=$LAB/ssh_config
export ZFS_FLEET_LAB_KNOWN_HOSTS=$LAB/known_hosts
export ZFS_FLEET_LAB_IDENTITY=$LAB/id_ed25519
export ZFS_FLEET_LAB_JSON=$LAB/lab.json
EOF
  [[ "$PORT_BASE" == 2230 ]] || echo "export ZFS_FLEET_LAB_PORT_BASE=$PORT_BASE"
}

cmd_reset() {
  check_dir
  local keys=0
  [[ "${1:-}" == "--keys" ]] && keys=1
  cmd_down
  local h
  for h in "${HOSTS[@]}"; do
    if (( keys )); then rm -rf "$(hdir "$h")"
    else rm -rf "$(hdir "$h")/ns" "$(hdir "$h")/pools" "$(hdir "$h")"/*.log; fi
  done
  rm -f "$LAB/seeded" "$LAB/lab.json" "$LAB/ssh_config" "$LAB/known_hosts"
  (( keys )) && rm -f "$LAB/id_ed25519" "$LAB/id_ed25519.pub"
  log "wiped lab state$([[ $keys == 1 ]] && echo ' (keys too)' || true)"
  cmd_up
}

# The seed, as `zfs list -H -t all -o name` would show it (sorted); `verify` compares the lab to it.
expected_seed() {
  local s d
  case "$1" in
    off1)
      echo zfs-hdd
      for d in "" /images "/my data" /products /users; do
        echo "zfs-hdd/off$d"
        for s in 20230501-0000 20230515-0000 20230530-2330 20230608-1130; do echo "zfs-hdd/off$d@$s"; done
      done ;;
    ovh3)
      printf '%s\n' rpool rpool/off rpool/off/clones rpool/off/clones/products
      for d in images products users; do
        echo "rpool/off/$d"
        for s in 20230501-0000 20230515-0000 20230530-2330; do echo "rpool/off/$d@$s"; done
      done ;;
    off2)
      printf '%s\n' zfs-nvme zfs-nvme/obf zfs-nvme/obf@autosnap_2024-03-02_00:00:01_daily zfs-nvme/off \
        zfs-nvme/off/products zfs-nvme/off/products@autosnap_2024-03-01_00:00:01_daily \
        zfs-nvme/off/products@autosnap_2024-03-02_00:00:01_daily ;;
  esac | LC_ALL=C sort
}

cmd_verify() {
  check_dir
  local h rc=0 diffs
  for h in "${HOSTS[@]}"; do
    if ! alive "$(zfs_pid "$h")"; then echo "$h: down"; rc=1; continue; fi
    if diffs="$(diff <(expected_seed "$h") <(in_ns "$h" zfs list -H -t all -o name | LC_ALL=C sort))"; then
      echo "$h: datasets and snapshots as seeded"
    else
      echo "$h: differs from the seed (< missing, > extra; first 20 lines of $(grep -c '^[<>]' <<<"$diffs")):"
      awk '/^[<>]/ && n++ < 20 { print "  " $0 }' <<<"$diffs"; rc=1
    fi
  done
  if alive "$(zfs_pid ovh3)"; then
    local origin; origin="$(in_ns ovh3 zfs get -H -o value origin rpool/off/clones/products 2>/dev/null || true)"
    [[ "$origin" == "rpool/off/products@20230515-0000" ]] || { echo "ovh3: rpool/off/clones/products origin is '$origin'"; rc=1; }
  fi
  (( rc == 0 )) && echo "lab matches the base seed" || echo "lab differs from the base seed (lab.sh reset restores it)"
  return $rc
}

# many-snapshots HOST DATASET N [--flat]
# Default: the fastest way zfs-fuse allows: spread over ~sqrt(N) filesystems (DATASET plus
# DATASET/many-NNN children) and `zfs snapshot -r` rounds, until DATASET's subtree holds >= N
# snapshots. --flat: >= N snapshots of DATASET itself (one `zfs snapshot` each; slower).
cmd_many_snapshots() {
  (( $# >= 3 )) || die "usage: lab.sh many-snapshots HOST DATASET N [--flat]"
  local h="$1" ds="$2" n="$3" mode="${4:-spread}"
  [[ -n "${PORT[$h]:-}" ]] || die "unknown lab host '$h' (${HOSTS[*]})"
  [[ "$n" =~ ^[0-9]+$ ]] || die "N must be a number"
  [[ "$mode" == spread || "$mode" == --flat ]] || die "unknown option $mode"
  check_dir
  local t0; t0="$(now)"
  in_ns "$h" bash -s -- "$ds" "$n" "$mode" <<'EOF'
set -euo pipefail
ds="$1" n="$2" mode="$3"
base=1577836800   # 2020-01-01T00:00:00Z
zfs list -H -o name "$ds" >/dev/null 2>&1 || zfs create -p "$ds"
if [[ "$mode" == --flat ]]; then
  have=$(zfs list -H -t snapshot -o name -r "$ds" | grep -c -F "$ds@" || true)
else
  have=$(zfs list -H -t snapshot -o name -r "$ds" | wc -l)
fi
if (( have >= n )); then echo "$ds already has $have snapshots (>= $n): nothing to do"; exit 0; fi
# next free time slot after the newest autosnap of DATASET itself
last=$(zfs list -H -t snapshot -o name -r -d 1 "$ds" 2>/dev/null | grep -F "$ds@autosnap_" | sed 's/.*@autosnap_//' | sort | tail -n 1 || true)
if [[ -n "$last" ]]; then
  d=${last:0:10}; t=${last:11:8}
  start=$(( ( $(date -u -d "$d $t" +%s) - base ) / 900 + 1 ))
else
  start=0
fi
if [[ "$mode" == --flat ]]; then
  need=$(( n - have ))
  seq "$start" $(( start + need - 1 )) | awk -v b="$base" '{ print "@" (b + $1 * 900) }' |
    date -u -f - +"autosnap_%Y-%m-%d_%H:%M:%S_frequently" | sed "s|^|$ds@|" |
    xargs -d '\n' -n 1 -P 4 zfs snapshot     # 4 in parallel: ~2x faster than one by one
else
  want=$(awk -v n="$n" 'BEGIN { k = int(sqrt(n)); if (k * k < n) k++; if (k < 1) k = 1; print k }')
  fs=$(zfs list -H -t filesystem -o name -r "$ds" | wc -l)
  i=1
  while (( fs < want )); do
    c=$(printf '%s/many-%03d' "$ds" "$i"); i=$((i + 1))
    zfs list -H -o name "$c" >/dev/null 2>&1 && continue
    zfs create "$c"; fs=$((fs + 1))       # serial on purpose: parallel creates can hang zfs-fuse
  done
  rounds=$(( (n - have + fs - 1) / fs ))
  seq "$start" $(( start + rounds - 1 )) | awk -v b="$base" '{ print "@" (b + $1 * 900) }' |
    date -u -f - +"autosnap_%Y-%m-%d_%H:%M:%S_frequently" |
    while IFS= read -r s; do zfs snapshot -r "$ds@$s"; done
fi
if [[ "$mode" == --flat ]]; then
  total=$(zfs list -H -t snapshot -o name -r "$ds" | grep -c -F "$ds@")
  echo "$ds now has $total snapshots of its own"
else
  total=$(zfs list -H -t snapshot -o name -r "$ds" | wc -l)
  echo "$ds now has $total snapshots in its subtree ($(zfs list -H -t filesystem -o name -r "$ds" | wc -l) filesystems)"
fi
EOF
  log "many-snapshots $h $ds $n ${4:-}: $(elapsed "$t0") s"
}

usage() {
  cat <<EOF
usage: $(basename "$0") COMMAND
  up                              start (and on first use seed) the lab; idempotent
  down                            stop every lab process (by recorded pid), export pools
  packages                        install the lab's apt packages (zfs-fuse, sshd, fish, tcsh) if missing
  status                          show hosts; exit 0 only if all answer 'zfs list' over ssh
  env                             print export lines (eval "\$($(basename "$0") env)")
  reset [--keys]                  down, wipe pools/state (and keys with --keys), up with fresh seed
  verify                          exit 0 only if every host holds exactly the base seed datasets/snapshots
  incident                        seed 000's incident on datasets of its own (zfs-hdd/incident,
                                  rpool/incident): pruned base, modified replica, staging clone
  many-snapshots HOST DATASET N [--flat]
                                  give DATASET (subtree; with --flat: itself) at least N snapshots
State dir: \$ZFS_FLEET_LAB (default /tmp/zfs-fleet-lab); now: $LAB
Ports: \$ZFS_FLEET_LAB_PORT_BASE + 1..3 (off1, ovh3, off2) and + 9 (unreachable); now: $PORT_BASE
EOF
}

main() {
  local cmd="${1:-}"; shift || true
  case "$cmd" in
    up) cmd_up ;;
    packages) ensure_packages ;;
    down) cmd_down ;;
    status) cmd_status ;;
    env) cmd_env ;;
    reset) cmd_reset "$@" ;;
    verify) cmd_verify ;;
    many-snapshots) cmd_many_snapshots "$@" ;;
    incident) cmd_incident ;;
    __ns-init) ns_init "$@" ;;
    -h|--help|help) usage ;;
    *) usage >&2; exit 2 ;;
  esac
}
main "$@"; exit $?   # on one line: bash must not read on after main returns
