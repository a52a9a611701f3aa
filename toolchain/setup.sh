#!/usr/bin/env bash
# Installs what crossguard needs on Debian 12 and is silent when all of it is
# already there: the emulators, assembler, GRUB image tools, the fuzzer (apt) and the
# npm dependencies (npm ci). Run by `make demo`, `make test` and `make bench`.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  bochs bochsbios vgabios bochs-term   # Bochs with VMX: the VT-x test bed here
  qemu-system-x86 ipxe-qemu ovmf       # QEMU TCG (boot paths), KVM where nested VMX exists
  nasm gcc make binutils               # the monitor
  grub-common grub-pc-bin grub-efi-amd64-bin xorriso mtools  # the ISO; GRUB netboot (grub-mknetdir)
  ipxe                                 # undionly.kpxe, ipxe.efi, snponly.efi for netboot trees
  dnsmasq-base iproute2                # run --boot pxe: DHCP/TFTP in a network namespace (no service started)
  wabt                                 # wasm2c for scheduler policies
  cpio                                 # the Linux guests' initramfs (make-initramfs.sh)
  acpica-tools                         # iasl: disassembles the guest DSDT in the unit tests
  openssh-server openssh-client        # the console client's SSH transport test
  ipmitool openipmi                    # power, flash, console ipmi-sol://; ipmi_sim is the test BMC
  clang libclang-rt-dev                # libFuzzer (-fsanitize=fuzzer): make fuzz, fuzz-smoke
  lava-dispatcher tftpd-hpa            # lab run: LAVA's lava-run, and the TFTP directory it deploys to (no service started)
  valgrind                             # make pick-bench: the policy decision in instructions (callgrind)
)

sudo=""
if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  if [ -n "$sudo" ]; then
    command -v sudo >/dev/null || { echo "setup: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  fi
  echo "setup: installing ${missing[*]}" >&2
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# LAVA's device-type templates (base.jinja2 and the rest) from Debian's lava-server package,
# unpacked only: the server itself (PostgreSQL, Django) is not needed here, and the tests
# render crossguard's device-type template with LAVA's own base.jinja2
# (test/toolchain/lava-template.test.ts).
LAVA_DEVICE_TYPES=/var/cache/crossguard/lava-server-device-types
if [ ! -f /usr/share/lava-server/device-types/base.jinja2 ] && [ ! -f "$LAVA_DEVICE_TYPES/base.jinja2" ]; then
  echo "setup: unpacking lava-server's device-type templates into $LAVA_DEVICE_TYPES" >&2
  tmp=$(mktemp -d)
  fetch() { (cd "$tmp" && $sudo apt-get download -qq lava-server >/dev/null 2>&1); }
  if { fetch || { $sudo apt-get update -qq >/dev/null 2>&1 && fetch; }; } &&
    dpkg-deb --fsys-tarfile "$tmp"/lava-server_*.deb | tar -x -C "$tmp" ./usr/share/lava-server/device-types; then
    $sudo mkdir -p "$LAVA_DEVICE_TYPES"
    $sudo cp "$tmp"/usr/share/lava-server/device-types/*.jinja2 "$LAVA_DEVICE_TYPES"/
  else
    # Not fatal: the template test then says why it cannot render.
    echo "setup: could not fetch lava-server's device-type templates (apt-get download lava-server)" >&2
  fi
  rm -rf "$tmp"
fi

command -v node >/dev/null || { echo "setup: Node.js 20 or newer is required (apt-get install nodejs npm)" >&2; exit 1; }
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "setup: Node.js $node_major is too old; crossguard needs 20 or newer" >&2
  exit 1
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
fi
bash "$(dirname "$0")/fetch-kernel.sh"
