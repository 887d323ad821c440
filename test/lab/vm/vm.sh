#!/usr/bin/env bash
# ZFS Fleet lab: an OpenZFS 2.3 virtual machine (Debian bookworm + bookworm-backports) under
# qemu (TCG), reachable over ssh on 127.0.0.1:2240. See README.md beside this file.
#
#   vm.sh build    build the cached image if missing (host packages installed as needed)
#   vm.sh up       build if needed, boot on a copy-on-write overlay, create pools/datasets/users
#   vm.sh down     stop the VM (by its pid)
#   vm.sh status   print the state
#   vm.sh ssh [-o|--operator] [CMD...]   ssh into the VM as root (or operator)
#   vm.sh key      print the image cache key
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE_ROOT=${ZFS_FLEET_CACHE:-/var/cache/zfs-fleet}
LAB=${ZFS_FLEET_LAB:-/tmp/zfs-fleet-lab}
STATE=$LAB/vm
PORT="${ZFS_FLEET_VM_PORT:-2240}"
[[ "$PORT" =~ ^[0-9]+$ ]] || { echo "[vm] ERROR: ZFS_FLEET_VM_PORT must be a number" >&2; exit 1; }
HOST_ALIAS=zfsvm
OPERATOR_ALIAS=zfsvm-operator
BOOT_TIMEOUT=${ZFS_FLEET_VM_BOOT_TIMEOUT:-900}
VM_MEM=${ZFS_FLEET_VM_MEM:-2048}
VM_SMP=${ZFS_FLEET_VM_SMP:-2}

log() { printf '[vm %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

image_key() { cat "$HERE/build-image.sh" "$HERE/packages.list" | sha256sum | cut -c1-16; }
KEY=$(image_key)
IMG=$CACHE_ROOT/vm-$KEY

need_root() { [ "$(id -u)" = 0 ] || die "must run as root"; }

host_packages() { # install the host packages that are missing (Debian main only)
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing host packages: ${missing[*]}"
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

image_complete() {
  [ -f "$IMG/complete" ] && [ -s "$IMG/root.img" ] && [ -s "$IMG/vmlinuz" ] && [ -s "$IMG/initrd.img" ] \
    && [ -s "$IMG/ssh_host_ed25519_key.pub" ]
}

cmd_build() {
  need_root
  local t0=$SECONDS
  host_packages qemu-system-x86 qemu-utils openssh-client
  if image_complete; then
    log "image $IMG is complete (key $KEY): nothing to build"
    return 0
  fi
  host_packages debootstrap e2fsprogs
  log "phase host-packages: $((SECONDS - t0))s"
  mkdir -p "$CACHE_ROOT"
  exec 8>"$CACHE_ROOT/.vm-$KEY.lock"
  flock -w 3600 8 || die "another build holds $CACHE_ROOT/.vm-$KEY.lock"
  if image_complete; then log "image built meanwhile by another run"; return 0; fi
  log "building image $IMG (key $KEY = sha256 of build-image.sh + packages.list)"
  bash "$HERE/build-image.sh" "$IMG" "$HERE/packages.list"
  log "build total: $((SECONDS - t0))s"
}

# ---------------------------------------------------------------------------------------------
client_key() {
  if [ -f "$LAB/id_ed25519" ]; then
    echo "$LAB/id_ed25519"
  else
    if [ ! -f "$STATE/id_ed25519" ]; then
      ssh-keygen -q -t ed25519 -N '' -C zfs-fleet-vm -f "$STATE/id_ed25519"
    fi
    echo "$STATE/id_ed25519"
  fi
}

write_ssh_files() { # write known_hosts + ssh_config for the identity $1
  local id=$1 f
  : >"$STATE/known_hosts.tmp"
  for f in "$IMG"/ssh_host_*_key.pub; do
    printf '[127.0.0.1]:%s %s\n' "$PORT" "$(cut -d' ' -f1,2 "$f")" >>"$STATE/known_hosts.tmp"
  done
  mv "$STATE/known_hosts.tmp" "$STATE/known_hosts"
  cat >"$STATE/ssh_config" <<EOF
# ZFS Fleet lab VM (OpenZFS 2.3): ssh -F $STATE/ssh_config $HOST_ALIAS
Host $HOST_ALIAS $OPERATOR_ALIAS
    HostName 127.0.0.1
    Port $PORT
    IdentityFile $id
    IdentitiesOnly yes
    UserKnownHostsFile $STATE/known_hosts
    StrictHostKeyChecking yes
    BatchMode yes
    ConnectTimeout 10
    LogLevel ERROR

Host $HOST_ALIAS
    User root

Host $OPERATOR_ALIAS
    User operator
EOF
}

vm_ssh() { ssh -F "$STATE/ssh_config" "$@"; }

qemu_pid() { # prints the pid of our running qemu, or fails
  local pid
  [ -f "$STATE/qemu.pid" ] || return 1
  pid=$(cat "$STATE/qemu.pid")
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "qemu-system-x86_64 .*$STATE/root.qcow2" || return 1
  echo "$pid"
}

ssh_ready() { vm_ssh -o ConnectTimeout=5 "$HOST_ALIAS" 'test -c /dev/zfs && zfs version >/dev/null' 2>/dev/null; }

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; }

boot_vm() {
  local id=$1 authkey
  authkey=$(base64 -w0 <"$id.pub")
  rm -f "$STATE/root.qcow2" "$STATE/disk1.img" "$STATE/disk2.img" "$STATE/qemu.pid"
  qemu-img create -q -f qcow2 -F raw -b "$IMG/root.img" "$STATE/root.qcow2"
  truncate -s 1G "$STATE/disk1.img"
  truncate -s 1G "$STATE/disk2.img"
  : >"$STATE/console.log"
  # Fixed PCI slots keep the probe order: vda = root (root=/dev/vda), vdb = tank, vdc = backup.
  qemu-system-x86_64 -name zfs-fleet-vm -machine pc -accel tcg,thread=multi -cpu max \
    -m "$VM_MEM" -smp "$VM_SMP" \
    -kernel "$IMG/vmlinuz" -initrd "$IMG/initrd.img" \
    -append "root=/dev/vda rw console=ttyS0 net.ifnames=0 mitigations=off zfsfleet.authkey=$authkey" \
    -drive "file=$STATE/root.qcow2,if=none,id=root,format=qcow2" \
    -device virtio-blk-pci,drive=root,serial=zfsfleet-root,addr=0x4 \
    -drive "file=$STATE/disk1.img,if=none,id=disk1,format=raw" \
    -device virtio-blk-pci,drive=disk1,serial=zfsfleet-tank,addr=0x5 \
    -drive "file=$STATE/disk2.img,if=none,id=disk2,format=raw" \
    -device virtio-blk-pci,drive=disk2,serial=zfsfleet-backup,addr=0x6 \
    -netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$PORT-:22" -device virtio-net-pci,netdev=n0,addr=0x3 \
    -display none -monitor none -serial "file:$STATE/console.log" \
    -daemonize -pidfile "$STATE/qemu.pid" 8>&- 9>&-
  echo "$id" >"$STATE/identity"
}

wait_ssh() {
  local t0=$1
  while ! ssh_ready; do
    qemu_pid >/dev/null || { tail -20 "$STATE/console.log" >&2; die "qemu exited during boot (see $STATE/console.log)"; }
    [ $((SECONDS - t0)) -lt "$BOOT_TIMEOUT" ] || die "no ssh after ${BOOT_TIMEOUT}s (see $STATE/console.log)"
    sleep 2
  done
}

setup_guest() {
  vm_ssh "$HOST_ALIAS" bash -s -- "$(date -u +%s)" <"$HERE/setup-guest.sh"
}

verify_guest() { # the pools are healthy, the dataset tree exists, the operator's delegations work
  local pools allow
  pools=$(vm_ssh "$HOST_ALIAS" 'zpool list -H -o name,health tank backup' 2>/dev/null | tr '\t\n' ': ') || return 1
  [ "$pools" = 'backup:ONLINE tank:ONLINE ' ] || return 1
  vm_ssh "$HOST_ALIAS" 'zfs list -H -o name tank/off/products@20230530-2330' >/dev/null 2>&1 || return 1
  allow=$(vm_ssh "$OPERATOR_ALIAS" 'zfs allow tank') || return 1
  case "$allow" in *'user operator hold,send'*) ;; *) return 1 ;; esac
}

write_vm_json() {
  local zver id=$1
  zver=$(vm_ssh "$HOST_ALIAS" 'zfs version' | tr '\n' ' ' | sed 's/ $//')
  cat >"$STATE/vm.json.tmp" <<EOF
{
  "kind": "openzfs-vm",
  "zfsVersion": "$zver",
  "imageKey": "$KEY",
  "imageDir": "$IMG",
  "stateDir": "$STATE",
  "pidFile": "$STATE/qemu.pid",
  "pid": $(cat "$STATE/qemu.pid"),
  "sshConfig": "$STATE/ssh_config",
  "knownHosts": "$STATE/known_hosts",
  "identityFile": "$id",
  "host": "127.0.0.1",
  "port": $PORT,
  "hosts": {
    "$HOST_ALIAS": { "user": "root", "host": "127.0.0.1", "port": $PORT },
    "$OPERATOR_ALIAS": { "user": "operator", "host": "127.0.0.1", "port": $PORT }
  },
  "pools": {
    "tank": { "role": "source", "vdev": "/dev/disk/by-id/virtio-zfsfleet-tank", "sizeBytes": 1073741824 },
    "backup": { "role": "target", "vdev": "/dev/disk/by-id/virtio-zfsfleet-backup", "sizeBytes": 1073741824 }
  },
  "datasets": ["tank", "tank/off", "tank/off/products", "tank/off/images", "tank/off/users", "backup", "backup/off"],
  "snapshots": {
    "recursiveFrom": "tank/off",
    "names": ["20230501-0000", "20230515-0000", "20230530-2330"],
    "note": "tank/off/products has data written after 20230530-2330 (written > 0)"
  },
  "users": {
    "root": { "alias": "$HOST_ALIAS" },
    "operator": {
      "alias": "$OPERATOR_ALIAS",
      "delegations": {
        "tank": "hold,send",
        "backup": "create,mount,receive,hold,release,rollback,destroy,compression,mountpoint"
      },
      "minimalReceiveSet": "create,mount,receive",
      "notes": "receive as operator needs zfs recv -u (non-root cannot mount on Linux; without -u the data is received, the mount fails, exit 0)"
    }
  }
}
EOF
  mv "$STATE/vm.json.tmp" "$STATE/vm.json"
}

cmd_up() {
  need_root
  mkdir -p "$STATE"
  exec 9>"$STATE/.lock"
  flock -w 1800 9 || die "another vm.sh up holds $STATE/.lock"
  local id t0
  if qemu_pid >/dev/null; then
    id=$(client_key)
    local booted
    booted=$(cat "$STATE/identity" 2>/dev/null || echo "$id")
    write_ssh_files "$booted"
    wait_ssh "$SECONDS"
    if [ "$booted" != "$id" ]; then
      # The lab key appeared after this VM booted with its own key: authorize it too.
      log "authorizing $id.pub in the running VM (booted with $booted)"
      vm_ssh "$HOST_ALIAS" "for h in /root /home/operator; do printf '%s\\n' '$(cut -d' ' -f1,2 "$id.pub")' >>\$h/.ssh/authorized_keys; done"
      echo "$id" >"$STATE/identity"
      write_ssh_files "$id"
    fi
    t0=$SECONDS
    wait_ssh "$t0"
    if ! verify_guest; then
      log "VM running but not set up: running guest setup"
      setup_guest
      verify_guest || die "guest verification failed"
    fi
    write_vm_json "$id"
    log "already up (pid $(qemu_pid)): ssh -F $STATE/ssh_config $HOST_ALIAS"
    return 0
  fi
  cmd_build
  port_in_use && die "127.0.0.1:$PORT is already in use by another process"
  id=$(client_key)
  write_ssh_files "$id"
  t0=$SECONDS
  boot_vm "$id"
  log "qemu started (pid $(cat "$STATE/qemu.pid")), waiting for ssh on 127.0.0.1:$PORT"
  wait_ssh "$t0"
  local t_ssh=$((SECONDS - t0))
  log "phase boot-to-ssh-ready: ${t_ssh}s"
  local t1=$SECONDS
  setup_guest
  verify_guest || die "guest verification failed"
  log "phase guest-setup: $((SECONDS - t1))s"
  write_vm_json "$id"
  log "up in $((SECONDS - t0))s: ssh -F $STATE/ssh_config $HOST_ALIAS | $OPERATOR_ALIAS"
}

cmd_down() {
  local pid
  if ! pid=$(qemu_pid); then
    log "not running"
    rm -f "$STATE/qemu.pid"
    return 0
  fi
  kill -TERM "$pid"
  for _ in $(seq 1 150); do
    [ -d "/proc/$pid" ] || break
    sleep 0.2
  done
  if [ -d "/proc/$pid" ]; then kill -KILL "$pid"; fi
  rm -f "$STATE/qemu.pid" "$STATE/root.qcow2" "$STATE/disk1.img" "$STATE/disk2.img" "$STATE/vm.json"
  log "stopped (pid $pid)"
}

cmd_status() {
  local pid
  echo "image key:   $KEY"
  echo "image dir:   $IMG ($(image_complete && echo complete || echo missing))"
  echo "state dir:   $STATE"
  if pid=$(qemu_pid); then
    echo "qemu:        running, pid $pid, ssh 127.0.0.1:$PORT"
    if ssh_ready; then
      echo "ssh:         ready (ssh -F $STATE/ssh_config $HOST_ALIAS | $OPERATOR_ALIAS)"
      vm_ssh "$HOST_ALIAS" 'zfs version | head -1; zpool list -H -o name,health,size,allocated' | sed 's/^/guest:       /'
    else
      echo "ssh:         not ready"
      return 1
    fi
  else
    echo "qemu:        not running"
    return 3
  fi
}

cmd_ssh() {
  local alias=$HOST_ALIAS
  if [ "${1:-}" = -o ] || [ "${1:-}" = --operator ]; then alias=$OPERATOR_ALIAS; shift; fi
  exec ssh -F "$STATE/ssh_config" "$alias" "$@"
}

case "${1:-}" in
  build) cmd_build ;;
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  ssh) shift; cmd_ssh "$@" ;;
  key) echo "$KEY" ;;
  *) sed -n '2,10p' "$0" >&2; exit 2 ;;
esac
