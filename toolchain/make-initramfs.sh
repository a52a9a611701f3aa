#!/usr/bin/env bash
# Builds the Linux guests' test initramfs, build/linux/initramfs.cpio.gz (or
# $1): Debian's static busybox, the virtio-blk and virtio-net modules of the
# cached Debian kernel (uncompressed .ko files in 6.1) in dependency order, and
# toolchain/initramfs-init.sh as /init, which prints the CG-LINUX lines the
# tests read. Everything comes from the .debs toolchain/fetch-kernel.sh
# caches in /var/cache/crossguard; nothing is installed. The archive is
# newc (Linux's initramfs format), made by Debian's cpio, and reproducible:
# the same inputs give the same bytes (sorted names, mtime 0, owner 0:0,
# gzip -n).
set -euo pipefail
cd "$(dirname "$0")/.."
cache=${CG_KERNEL_CACHE:-/var/cache/crossguard}
out=${1:-build/linux/initramfs.cpio.gz}
# What /init loads for virtio-blk and virtio-net over PCI (virtio_net needs
# net_failover, which needs failover); the load order is worked out below
# from each module's own `depends=`.
modules=(virtio virtio_ring virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk failover net_failover virtio_net)

die() {
  echo "make-initramfs: $*" >&2
  exit 1
}
command -v cpio >/dev/null || die "cpio is missing: apt-get install cpio (toolchain/setup.sh installs it)"
newest() { ls "$cache"/$1 2>/dev/null | LC_ALL=C sort | tail -1; }
if [ -z "$(newest 'linux-image-*.deb')" ] || [ -z "$(newest 'busybox-static_*.deb')" ]; then
  bash toolchain/fetch-kernel.sh
fi
kdeb=$(newest 'linux-image-*.deb')
bdeb=$(newest 'busybox-static_*.deb')
[ -n "$kdeb" ] || die "no linux-image .deb in $cache; run toolchain/fetch-kernel.sh"
[ -n "$bdeb" ] || die "no busybox-static .deb in $cache; run toolchain/fetch-kernel.sh"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
mkdir -p "$root"/{bin,dev,proc,sys,tmp,etc,lib/modules}

dpkg-deb --fsys-tarfile "$bdeb" | tar -x -C "$tmp" ./bin/busybox
install -m 755 "$tmp/bin/busybox" "$root/bin/busybox"
# /init's interpreter; /init links the other applets itself (busybox --install).
ln -s busybox "$root/bin/sh"

dpkg-deb --fsys-tarfile "$kdeb" | tar -x -C "$tmp" --wildcards './lib/modules/*/kernel/drivers/virtio/*.ko' './lib/modules/*/kernel/drivers/block/virtio_blk.ko' \
  './lib/modules/*/kernel/drivers/net/virtio_net.ko' './lib/modules/*/kernel/drivers/net/net_failover.ko' \
  './lib/modules/*/kernel/net/core/failover.ko'
kver=$(basename "$(ls -d "$tmp"/lib/modules/*/ | head -1)")
[ -n "$kver" ] || die "$kdeb has no lib/modules/<version>"
declare -A path deps
for m in "${modules[@]}"; do
  f=$(find "$tmp/lib/modules/$kver" -name "$m.ko" | head -1)
  [ -n "$f" ] || die "$kdeb has no $m.ko (compressed modules? this expects Debian 12's uncompressed .ko files)"
  path[$m]=$f
  deps[$m]=$(grep -a -o 'depends=[a-z0-9_,-]*' "$f" | head -1 | sed 's/^depends=//; s/,/ /g')
done
# Dependency order: repeatedly take the modules whose dependencies are all placed.
order=()
placed=" "
while [ ${#order[@]} -lt ${#modules[@]} ]; do
  progress=0
  for m in "${modules[@]}"; do
    case "$placed" in *" $m "*) continue ;; esac
    ready=1
    for d in ${deps[$m]}; do
      case " ${modules[*]} " in *" $d "*) ;; *) die "$m.ko depends on $d, which is not in the list; add it to modules= in $0" ;; esac
      case "$placed" in *" $d "*) ;; *) ready=0 ;; esac
    done
    if [ $ready = 1 ]; then
      order+=("$m")
      placed="$placed$m "
      progress=1
    fi
  done
  [ $progress = 1 ] || die "the virtio modules' dependencies form a cycle: ${deps[*]}"
done
for m in "${order[@]}"; do
  install -m 644 "${path[$m]}" "$root/lib/modules/$m.ko"
done
printf '%s\n' "${order[@]}" > "$root/etc/cg-modules"
echo "$kver" > "$root/etc/cg-kernel"
install -m 755 toolchain/initramfs-init.sh "$root/init"

mkdir -p "$(dirname "$out")"
find "$root" -exec touch -h -d @0 {} +
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 --reproducible) | gzip -9 -n > "$out.tmp"
mv "$out.tmp" "$out"
echo "make-initramfs: $out ($(stat -c %s "$out") bytes; kernel $kver; modules ${order[*]})" >&2
