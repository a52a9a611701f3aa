#!/usr/bin/env bash
# Fetches Debian's stock kernel (the linux-image-amd64 of this release) for
# the Linux guest tests and caches it outside the repository:
#   /var/cache/crossguard/vmlinuz  (a copy of /boot/vmlinuz-* from the .deb)
# Quiet when the cache is there. Nothing of it is committed.
set -euo pipefail
cache=${CG_KERNEL_CACHE:-/var/cache/crossguard}
[ -s "$cache/vmlinuz" ] && exit 0
mkdir -p "$cache"
pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | grep -o 'linux-image-[0-9][^ ]*' | head -1 || true)
if [ -z "$pkg" ]; then
  apt-get update -qq >/dev/null
  pkg=$(apt-cache depends linux-image-amd64 | grep -o 'linux-image-[0-9][^ ]*' | head -1)
fi
echo "setup: fetching $pkg for the Linux guest tests" >&2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download -qq "$pkg" >/dev/null)
dpkg-deb --fsys-tarfile "$tmp"/*.deb | tar -x --wildcards './boot/vmlinuz-*' -O > "$tmp/vmlinuz"
mv "$tmp/vmlinuz" "$cache/vmlinuz"
