#!/usr/bin/env bash
# Recipe of the OpenZFS 2.3 lab VM image (Debian bookworm, kernel + zfs-dkms from
# bookworm-backports). The text of this file and of packages.list form the image cache key
# (see vm.sh): change either and the next `vm.sh build` builds a new image.
#
# Usage: build-image.sh OUT_DIR PACKAGES_LIST       (run as root; called by vm.sh build)
# Produces in OUT_DIR: root.img (raw ext4), vmlinuz, initrd.img, ssh_host_*_key.pub,
# image.json and, last, the marker file `complete`.
set -euo pipefail

OUT=${1:?usage: build-image.sh OUT_DIR PACKAGES_LIST}
PKGLIST=${2:?usage: build-image.sh OUT_DIR PACKAGES_LIST}
MIRROR=${ZFS_FLEET_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${ZFS_FLEET_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
ROOT=$OUT/rootfs
T_START=$SECONDS
TIMINGS=()

log() { printf '[build %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
phase() { # phase NAME CMD...: run one phase and print its duration
  local name=$1 t0=$SECONDS
  shift
  log "phase $name: start"
  "$@"
  log "phase $name: $((SECONDS - t0))s"
  TIMINGS+=("\"$name\": $((SECONDS - t0))")
}
pkgs() { awk -v s="$1" '$1 == s { for (i = 3; i <= NF; i++) printf "%s ", $i }' "$PKGLIST"; }
suite() { awk -v s="$1" '$1 == s { print $2 }' "$PKGLIST"; }

in_chroot() {
  chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive "$@"
}

mounts_under_root() { findmnt -rn -o TARGET | awk -v r="$ROOT" 'index($0, r "/") == 1' | sort -r; }
mount_chroot() {
  mount -t proc proc "$ROOT/proc"
  mount -t sysfs sysfs "$ROOT/sys"
  mount --bind /dev "$ROOT/dev"
  mount --bind /dev/pts "$ROOT/dev/pts"
}
umount_chroot() {
  local m
  for m in $(mounts_under_root); do umount "$m" 2>/dev/null || umount -l "$m"; done
}
remove_rootfs() {
  [ -d "$ROOT" ] || return 0
  umount_chroot
  if [ -n "$(mounts_under_root)" ]; then
    echo "refusing to delete $ROOT: still mounted: $(mounts_under_root)" >&2
    return 1
  fi
  rm -rf --one-file-system "$ROOT"
}
trap 'umount_chroot' EXIT

# ---------------------------------------------------------------------------------------------
do_debootstrap() {
  remove_rootfs
  mkdir -p "$ROOT"
  local include
  include=$(pkgs debootstrap | tr -s ' ' ',' | sed 's/,$//')
  debootstrap --variant=minbase --include="$include" "$(suite debootstrap)" "$ROOT" "$MIRROR" \
    >"$OUT/debootstrap.log" 2>&1 || { tail -30 "$OUT/debootstrap.log" >&2; return 1; }
}

do_apt_setup() {
  # The lab's own apt sources (contrib + backports) live inside the image only.
  rm -f "$ROOT/etc/apt/sources.list"
  cat >"$ROOT/etc/apt/sources.list.d/zfs-fleet-lab.sources" <<EOF
# ZFS Fleet lab VM: OpenZFS comes from contrib in bookworm-backports.
Types: deb
URIs: $MIRROR
Suites: bookworm bookworm-updates bookworm-backports
Components: main contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECURITY_MIRROR
Suites: bookworm-security
Components: main contrib
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  # No documentation, man pages or translations in the image.
  cat >"$ROOT/etc/dpkg/dpkg.cfg.d/01-zfs-fleet-nodoc" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
  # Services must not start inside the chroot.
  printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
  chmod 755 "$ROOT/usr/sbin/policy-rc.d"
  cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
  mount_chroot
  in_chroot apt-get update -q >"$OUT/apt-update.log" 2>&1 || { tail -30 "$OUT/apt-update.log" >&2; return 1; }
}

apt_install() { # apt_install STAGE
  local stage=$1
  # shellcheck disable=SC2046
  in_chroot apt-get install -y -q --no-install-recommends -t "$(suite "$stage")" $(pkgs "$stage") \
    >>"$OUT/apt-$stage.log" 2>&1 || { tail -40 "$OUT/apt-$stage.log" >&2; return 1; }
}

kernel_version() { find "$ROOT/lib/modules" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -1; }

do_zfs() {
  apt_install zfs
  local kver
  kver=$(kernel_version)
  if ! find "$ROOT/lib/modules/$kver" -name 'zfs.ko*' | grep -q .; then
    log "zfs.ko not built by the package hook for $kver: running dkms autoinstall"
    in_chroot dkms autoinstall -k "$kver" >>"$OUT/apt-zfs.log" 2>&1
  fi
  find "$ROOT/lib/modules/$kver" -name 'zfs.ko*' | grep -q . || { echo "no zfs.ko for $kver" >&2; return 1; }
  in_chroot depmod -a "$kver"
}

do_configure() {
  echo zfsvm >"$ROOT/etc/hostname"
  printf '127.0.0.1\tlocalhost\n127.0.1.1\tzfsvm\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$ROOT/etc/hosts"
  printf 'nameserver 10.0.2.3\n' >"$ROOT/etc/resolv.conf"
  printf '/dev/vda\t/\text4\trw,errors=remount-ro\t0\t0\n' >"$ROOT/etc/fstab"
  # qemu user networking: static address (no DHCP wait at boot); net.ifnames=0 gives eth0.
  cat >"$ROOT/etc/network/interfaces" <<'EOF'
auto lo
iface lo inet loopback

auto eth0
iface eth0 inet static
    address 10.0.2.15/24
    gateway 10.0.2.2
EOF
  echo zfs >"$ROOT/etc/modules-load.d/zfs.conf"

  # Unprivileged operator user (seed 001). Debian already has a group named operator (gid 37).
  if ! in_chroot getent passwd operator >/dev/null; then
    if in_chroot getent group operator >/dev/null; then
      in_chroot useradd -m -s /bin/bash -g operator operator
    else
      in_chroot useradd -m -s /bin/bash -U operator
    fi
  fi

  # The client public key is not baked into the image: it comes on the kernel command line
  # (zfsfleet.authkey=<base64 of authorized_keys lines>) and is installed before sshd starts.
  cat >"$ROOT/usr/local/sbin/zfs-fleet-authkeys" <<'EOF'
#!/bin/sh
set -eu
arg=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^zfsfleet\.authkey=//p' | tail -1)
[ -n "$arg" ] || exit 0
keys=$(printf '%s' "$arg" | base64 -d)
for u in root operator; do
  home=$(getent passwd "$u" | cut -d: -f6)
  [ -n "$home" ] || continue
  install -d -m 700 -o "$u" -g "$(id -gn "$u")" "$home/.ssh"
  printf '%s\n' "$keys" >"$home/.ssh/authorized_keys"
  chown "$u:$(id -gn "$u")" "$home/.ssh/authorized_keys"
  chmod 600 "$home/.ssh/authorized_keys"
done
EOF
  chmod 755 "$ROOT/usr/local/sbin/zfs-fleet-authkeys"
  cat >"$ROOT/etc/systemd/system/zfs-fleet-authkeys.service" <<'EOF'
[Unit]
Description=ZFS Fleet lab: authorized_keys from the kernel command line
Before=ssh.service
After=local-fs.target

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/zfs-fleet-authkeys
RemainAfterExit=yes

[Install]
WantedBy=multi-user.target
EOF
  in_chroot systemctl enable zfs-fleet-authkeys.service
  # sshd only once the zfs module is loaded, so `zfs`/`zpool` work as soon as ssh answers.
  mkdir -p "$ROOT/etc/systemd/system/ssh.service.d"
  cat >"$ROOT/etc/systemd/system/ssh.service.d/zfs-fleet.conf" <<'EOF'
[Unit]
Wants=systemd-modules-load.service zfs-fleet-authkeys.service
After=systemd-modules-load.service zfs-fleet-authkeys.service zfs-import.target

[Service]
ExecStartPre=/sbin/modprobe zfs
EOF
  cat >"$ROOT/etc/ssh/sshd_config.d/zfs-fleet.conf" <<'EOF'
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UseDNS no
MaxSessions 64
MaxStartups 64:30:128
EOF
  # Nothing periodic that competes for the emulated CPUs.
  local u
  for u in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer; do
    in_chroot systemctl mask "$u" >/dev/null 2>&1 || true
  done
  in_chroot systemctl set-default multi-user.target >/dev/null
  echo 'root:*' | in_chroot chpasswd -e
}

do_slim() {
  # Headers and the compiler inputs are only needed for the dkms build; zfs.ko stays.
  rm -rf "$ROOT"/usr/src/linux-headers-* "$ROOT"/usr/src/linux-kbuild-*
  rm -rf "$ROOT"/var/lib/dkms/zfs/*/build "$ROOT"/var/lib/dkms/zfs/*/*/*/log
  in_chroot apt-get clean
  rm -rf "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/cache/apt/*.bin "$ROOT"/var/log/*.log \
    "$ROOT"/var/log/apt/* "$ROOT"/tmp/* "$ROOT"/var/tmp/*
  rm -f "$ROOT/usr/sbin/policy-rc.d"
  : >"$ROOT/etc/machine-id"
}

do_export() {
  local kver size_mb
  kver=$(kernel_version)
  cp "$ROOT/boot/vmlinuz-$kver" "$OUT/vmlinuz"
  cp "$ROOT/boot/initrd.img-$kver" "$OUT/initrd.img"
  cp "$ROOT"/etc/ssh/ssh_host_*_key.pub "$OUT/"
  ZFS_PKG_VERSION=$(in_chroot dpkg-query -W -f='${Version}' zfsutils-linux)
  KVER=$kver
  umount_chroot
  size_mb=$(du -sm --one-file-system "$ROOT" | cut -f1)
  size_mb=$((size_mb * 13 / 10 + 512))
  rm -f "$OUT/root.img"
  mkfs.ext4 -q -L zfsvm-root -d "$ROOT" -F "$OUT/root.img" "${size_mb}M"
  ROOT_MB=$size_mb
  remove_rootfs
}

mkdir -p "$OUT"
rm -f "$OUT/complete"
phase debootstrap do_debootstrap
phase apt-setup do_apt_setup
phase kernel apt_install kernel
phase zfs-dkms do_zfs
phase extra-packages apt_install extra
phase configure do_configure
phase slim do_slim
phase export-image do_export
TOTAL=$((SECONDS - T_START))
cat >"$OUT/image.json" <<EOF
{
  "kernel": "$KVER",
  "zfsutils": "$ZFS_PKG_VERSION",
  "rootImageMiB": $ROOT_MB,
  "builtAt": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "buildSeconds": {$(IFS=,; echo "${TIMINGS[*]}"), "total": $TOTAL}
}
EOF
touch "$OUT/complete"
log "image complete in ${TOTAL}s: $OUT (kernel $KVER, zfsutils $ZFS_PKG_VERSION, root ${ROOT_MB} MiB)"
