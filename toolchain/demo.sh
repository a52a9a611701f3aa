#!/usr/bin/env bash
# make demo: the monitor in the best emulator here, with the VMs of
# examples/demo.json, its serial line served on TCP and the console client
# attached to it on this terminal. Ctrl-A x quits the client (and the demo).
set -euo pipefail
cd "$(dirname "$0")/.."
cg="node build/js/crossguard.mjs"
port=${CG_DEMO_PORT:-4555}
$cg image --vms examples/demo.json --out build/demo.iso
$cg run --no-build --image build/demo.iso --console "tcp:127.0.0.1:$port" --cpus 2 &
run=$!
trap 'kill $run 2>/dev/null; wait $run 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  kill -0 $run 2>/dev/null || exit 1
  sleep 0.2
done
echo "crossguard demo: try 'help', 'vms', 'stats', 'sched', 'console echo' (Ctrl-] detaches)" >&2
$cg console --connect "tcp:127.0.0.1:$port"
