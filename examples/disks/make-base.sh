#!/usr/bin/env bash
# Writes the example disk image (default examples/disks/base.img, or $1): a
# small raw image, 1 MiB = 2048 sectors, generated rather than committed.
# Every 512-byte sector is "cg-base sector NNNNNN" padded with dots to 31
# characters plus a newline, 16 times, so any sector names itself in a hex
# dump and the whole image is the same bytes on every machine.
set -euo pipefail
out=${1:-$(dirname "$0")/base.img}
sectors=${CG_BASE_SECTORS:-2048}
awk -v n="$sectors" 'BEGIN {
  for (s = 0; s < n; s++) {
    line = sprintf("cg-base sector %06d", s)
    while (length(line) < 31) line = line "."
    for (i = 0; i < 16; i++) printf "%s\n", line
  }
}' > "$out.tmp"
mv "$out.tmp" "$out"
