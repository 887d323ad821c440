#!/usr/bin/env bash
# Runs as root INSIDE the lab VM (vm.sh up pipes it over ssh). Idempotent.
# Creates the pools `tank` (source) and `backup` (target), the production-like dataset tree
# with three recursive snapshots, and the delegations of the unprivileged user `operator`.
# Usage: setup-guest.sh HOST_EPOCH   (the host's clock, restored after the dated snapshots)
set -euo pipefail
HOST_EPOCH=${1:?host epoch}
export PATH=/usr/sbin:/usr/bin:/sbin:/bin

restore_clock() { date -u -s "@$HOST_EPOCH" >/dev/null; }
trap restore_clock EXIT
# The snapshots carry the creation times their names say: the clock is set before each.
at() { date -u -s "$1" >/dev/null; }
# Random (incompressible) bytes: the pools use lz4, and stream sizes stay predictable.
rnd() { head -c "$2" /dev/urandom >"$1"; }

modprobe zfs
udevadm settle
SNAPS=(20230501-0000 20230515-0000 20230530-2330)

if ! zpool list -H -o name tank >/dev/null 2>&1; then
  at '2023-04-30 09:00:00'
  zpool create -f -o ashift=12 -O compression=lz4 -O atime=off -O xattr=sa \
    tank /dev/disk/by-id/virtio-zfsfleet-tank
fi
if ! zpool list -H -o name backup >/dev/null 2>&1; then
  at '2023-04-30 09:05:00'
  zpool create -f -o ashift=12 -O compression=lz4 -O atime=off -O xattr=sa \
    backup /dev/disk/by-id/virtio-zfsfleet-backup
fi

if ! zfs list -H -o name "tank/off/products@${SNAPS[2]}" >/dev/null 2>&1; then
  # Start over from an empty tree if a previous setup stopped half-way.
  if zfs list -H -o name tank/off >/dev/null 2>&1; then zfs destroy -r tank/off; fi
  at '2023-04-30 10:00:00'
  zfs create tank/off
  zfs create tank/off/products
  zfs create -o recordsize=1M tank/off/images
  zfs create tank/off/users
  P=/tank/off/products I=/tank/off/images U=/tank/off/users

  at '2023-04-30 12:00:00'
  mkdir -p "$P/data" "$I/products/300" "$U/sessions"
  for i in $(seq -w 1 40); do
    printf '{"code":"30000000000%s","product_name":"Product %s","nutriments":{"energy":%d}}\n' "$i" "$i" "$((10#$i * 17))" >"$P/data/30000000000$i.json"
  done
  rnd "$P/products.mongodump" 1048576
  rnd "$I/products/300/000000000001.jpg" 1572864
  rnd "$I/products/300/000000000002.jpg" 786432
  for u in alice bob carol; do printf '{"userid":"%s"}\n' "$u" >"$U/$u.json"; done
  rnd "$U/sessions/s1" 65536
  sync
  at '2023-05-01 00:00:00'
  zfs snapshot -r "tank/off@${SNAPS[0]}"

  at '2023-05-10 08:30:00'
  rnd "$P/products.mongodump" 1310720
  for i in $(seq 41 60); do
    printf '{"code":"3000000000%s","product_name":"Product %s"}\n' "$i" "$i" >"$P/data/3000000000$i.json"
  done
  rnd "$I/products/300/000000000003.jpg" 1048576
  printf '{"userid":"dave"}\n' >"$U/dave.json"
  sync
  at '2023-05-15 00:00:00'
  zfs snapshot -r "tank/off@${SNAPS[1]}"

  at '2023-05-29 17:45:00'
  rnd "$P/delta-20230529.bin" 262144
  rm -f "$P/data/3000000000041.json"
  rnd "$I/products/300/000000000004.jpg" 524288
  printf '{"userid":"alice","lang":"fr"}\n' >"$U/alice.json"
  sync
  at '2023-05-30 23:30:00'
  zfs snapshot -r "tank/off@${SNAPS[2]}"

  # Bytes written after the last snapshot (zfs list -o written > 0 on products).
  at '2023-05-31 06:00:00'
  rnd "$P/delta-20230531.bin" 131072
  sync
fi

restore_clock
# Replication target parent on backup (replicas land under backup/off).
zfs list -H -o name backup/off >/dev/null 2>&1 || zfs create backup/off

# Unprivileged operator (seed 001): pull replication with `zfs allow hold,send` on the source,
# and what an unprivileged `zfs receive -u` needs on the target.
zfs allow -u operator hold,send tank
zfs allow -u operator compression,mountpoint,create,mount,receive,rollback,destroy,hold,release backup

trap - EXIT
zpool list -H -o name,health,size,allocated,free
