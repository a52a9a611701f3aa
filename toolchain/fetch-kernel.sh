#!/usr/bin/env bash
# Fetches what the Linux guest tests need from Debian and caches it outside
# the repository (nothing of it is committed, nothing is installed):
#   /var/cache/crossguard/vmlinuz                 /boot/vmlinuz-* of linux-image-amd64's kernel
#   /var/cache/crossguard/linux-image-*.deb       that package, kept for its virtio modules
#   /var/cache/crossguard/busybox-static_*.deb    the initramfs' userland
# (toolchain/make-initramfs.sh builds the initramfs from the two .debs.)
# Quiet when the cache is complete. CG_KERNEL_CACHE moves the cache.
set -euo pipefail
cache=${CG_KERNEL_CACHE:-/var/cache/crossguard}
have() { compgen -G "$cache/$1" >/dev/null; }
if [ -s "$cache/vmlinuz" ] && have 'linux-image-*.deb' && have 'busybox-static_*.deb'; then
  exit 0
fi
mkdir -p "$cache"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# apt-get download writes into the current directory as the _apt user when it can.
chmod 755 "$tmp"

# download PACKAGE: the .deb into $tmp; its output only when it fails.
download() {
  local log
  if ! log=$(cd "$tmp" && apt-get download -qq "$1" 2>&1); then
    printf '%s\n' "$log" >&2
    echo "setup: apt-get download $1 failed (is there a Debian mirror in /etc/apt/sources.list?)" >&2
    exit 1
  fi
}

if ! { [ -s "$cache/vmlinuz" ] && have 'linux-image-*.deb'; }; then
  pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | grep -o 'linux-image-[0-9][^ ]*' | head -1 || true)
  if [ -z "$pkg" ]; then
    apt-get update -qq >/dev/null
    pkg=$(apt-cache depends linux-image-amd64 | grep -o 'linux-image-[0-9][^ ]*' | head -1)
  fi
  echo "setup: fetching $pkg for the Linux guest tests" >&2
  download "$pkg"
  deb=$(ls "$tmp"/linux-image-*.deb)
  # vmlinuz and its modules must come from the same package: replace both.
  dpkg-deb --fsys-tarfile "$deb" | tar -x --wildcards './boot/vmlinuz-*' -O > "$tmp/vmlinuz"
  rm -f "$cache"/linux-image-*.deb
  mv "$deb" "$cache/"
  mv "$tmp/vmlinuz" "$cache/vmlinuz"
fi

if ! have 'busybox-static_*.deb'; then
  echo "setup: fetching busybox-static for the Linux guest initramfs" >&2
  download busybox-static
  mv "$tmp"/busybox-static_*.deb "$cache/"
fi
