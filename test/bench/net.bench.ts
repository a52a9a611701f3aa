// What guest networking costs, for `make bench`: two Debian VMs (1 vCPU,
// 128 MiB each) on one network, the test initramfs' TCP transfer (busybox
// nc, 8 MiB of random data from net1 to net2, checked by sha256 on both
// ends). Bochs with `clock: sync=none` runs guest time at `ips`
// instructions a second, so guest seconds are instructions.
//   net_exits_per_packet      exits the virtio-net data path cost per frame,
//                             both VMs over their whole life: MMIO exits on
//                             the NICs' BARs (notifications and the rest)
//                             plus interrupts sent (each ends in an EOI),
//                             over frames sent and received (goal <= 0.25)
//   net_notifies_per_packet   the notifications alone
//   net_{tx,rx}_notifies_per_packet, net_{tx,rx}_interrupts_per_packet,
//   net_other_mmio_per_packet the same exits by kind (the other MMIO:
//                             device setup, configuration and MSI-X table
//                             accesses); they add up to the first
//   net_ping_rtt_us           the mean ping round trip (guest time) of the
//                             two VMs' pings of each other before the
//                             transfer, one a second: what batching adds
//                             to a lone frame (nothing, by design)
//   net_bytes_per_minstr      payload bytes over the sender's guest time
//                             from connecting to the receiver's checksum
//                             coming back (net-send-time), in millions of
//                             instructions at `ips`
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { boot, explain, markersOf, ROOT } from '../boot/pool.js';
import { baseImage } from '../boot/vblk.js';

const KERNEL = process.env.CG_LINUX_KERNEL ?? '/var/cache/crossguard/vmlinuz';
const INITRD = join(ROOT, 'build', 'linux', 'initramfs.cpio.gz');
const IPS = 50_000_000;
// CG_NET_BENCH_MIB: a shorter transfer on a loaded machine (per-packet
// figures hold; the default is what the reference figures used).
const MIB = Number(process.env.CG_NET_BENCH_MIB ?? 8);

function bench(name: string, value: number | string, unit: string): void {
  console.log(`BENCH ${name} ${value} ${unit}`);
}

if (!existsSync(KERNEL) || !existsSync(INITRD)) {
  console.error(`bench: ${!existsSync(KERNEL) ? KERNEL : INITRD} is missing: run make (toolchain/fetch-kernel.sh, make-initramfs.sh)`);
  process.exit(1);
}

const tmp = mkdtempSync(join(tmpdir(), 'cg-net-bench-'));
try {
  const disk = join(tmp, 'disk.img');
  writeFileSync(disk, baseImage(2048));
  const vm = (name: string, net: string) => ({
    name,
    memory_mib: 128,
    vcpus: 1,
    kernel: KERNEL,
    initrd: INITRD,
    cmdline: `console=ttyS0 cg.action=poweroff cg.write=0 ${net}`,
    disks: [{ image: 'disk', mode: 'ro' }],
    nics: [{ network: 'lab0' }],
  });
  const o = await boot({
    emulator: 'bochs',
    image: {
      kind: 'iso-variant',
      vms: {
        images: { disk },
        networks: [{ name: 'lab0' }],
        vms: [
          vm('net1', `cg.ip=10.0.0.1 cg.ping=10.0.0.2 cg.send=10.0.0.2:5001 cg.sendmib=${MIB}`),
          vm('net2', 'cg.ip=10.0.0.2 cg.ping=10.0.0.1 cg.serve=5001 cg.ackto=10.0.0.1'),
        ],
      },
    },
    cpus: 2,
    memMiB: 512,
    ips: IPS,
    until: /^@cg vms-done /,
    timeoutMs: Number(process.env.CG_NET_BENCH_TIMEOUT_MS ?? 2_400_000),
  });
  const cg = (vm: string) => o.lines.filter((l) => l.startsWith(`[${vm}] CG-LINUX `)).map((l) => l.slice(vm.length + 12));
  const sent = cg('net1').map((l) => /^net-send-data bytes=(\d+) sha256=(\w+)$/.exec(l)).find(Boolean);
  const time = cg('net1').map((l) => /^net-send-time seconds=([\d.]+)$/.exec(l)).find(Boolean);
  if (o.status !== 'matched' || !sent || !time || !cg('net2').includes(`net-recv bytes=${sent[1]} sha256=${sent[2]}`)) {
    console.error(explain(o, 'bench: the transfer did not complete intact'));
    process.exit(1);
  }
  let exits = 0, notifies = 0, packets = 0, rxNotifies = 0, irqs = 0, rxIrqs = 0, mmio = 0;
  for (const name of ['net1', 'net2']) {
    const s = markersOf(o, 'vm-stats').find((m) => m.fields.name === name)?.fields ?? {};
    const n = (key: string) => Number(s[key] ?? 0);
    // The counts behind the figures, for reading them (not figures).
    console.log(`${name}: frames tx ${n('net-tx')} rx ${n('net-rx')}; MMIO exits ${n('dev-virtio-net')}, notifies ${n('net-notifies')} (rx ${n('net-rx-notifies')}), interrupts ${n('net-interrupts')} (rx ${n('net-rx-interrupts')})`);
    exits += n('dev-virtio-net') + n('net-interrupts');
    mmio += n('dev-virtio-net');
    notifies += n('net-notifies');
    rxNotifies += n('net-rx-notifies');
    irqs += n('net-interrupts');
    rxIrqs += n('net-rx-interrupts');
    packets += n('net-tx') + n('net-rx');
  }
  if (!packets) {
    console.error(explain(o, 'bench: no frames counted in the vm-stats markers'));
    process.exit(1);
  }
  bench('net_exits_per_packet', (exits / packets).toFixed(3), 'exits');
  bench('net_notifies_per_packet', (notifies / packets).toFixed(3), 'exits');
  // Where the exits went, per frame: they add up to net_exits_per_packet.
  const per = (x: number) => (x / packets).toFixed(3);
  bench('net_tx_notifies_per_packet', per(notifies - rxNotifies), 'exits');
  bench('net_rx_notifies_per_packet', per(rxNotifies), 'exits');
  bench('net_tx_interrupts_per_packet', per(irqs - rxIrqs), 'exits');
  bench('net_rx_interrupts_per_packet', per(rxIrqs), 'exits');
  bench('net_other_mmio_per_packet', per(mmio - notifies), 'exits');
  // The pings before the transfer (each VM pings the other, one a
  // second): a lone frame must wait for no batching.
  const rtts = ['net1', 'net2'].flatMap((vm) => cg(vm).map((l) => /^net-ping-rtt \S+ avg_ms=([\d.]+)$/.exec(l)).filter(Boolean).map((m) => Number(m![1])));
  if (rtts.length) bench('net_ping_rtt_us', Math.round((rtts.reduce((a, b) => a + b, 0) / rtts.length) * 1000), 'us');
  bench('net_bytes_per_minstr', Math.round(Number(sent[1]) / ((Number(time[1]) * IPS) / 1e6)), 'bytes');
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
