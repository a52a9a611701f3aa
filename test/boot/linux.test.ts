// Stock Linux under crossguard, the slow tier: two Debian kernels
// (linux-image-amd64, fetched and cached by set-up) with the test initramfs
// (toolchain/make-initramfs.sh: busybox-static and the package's own
// virtio modules) run side by side in Bochs on one shared base image, as
// examples/two-linux.json does. Each is entered at its 64-bit entry by the
// boot protocol, takes its TSC rate from CPUID, its clock events from the
// TSC-deadline timer and its console interrupts from the IOAPIC, finds
// its vCPUs in the MADT and its disk on the PCI bus, reads the base,
// writes a marker into its own copy-on-write overlay and reads it back,
// and powers off through ACPI S5. Neither sees the other's marker. The
// second one stops at a busybox shell: the operator attaches to its
// console through the monitor's shell, types a command (received through
// the UART's receive interrupt), reads the answer and powers it off;
// before that the operator presses its NMI button (`vm nmi`), which
// Linux takes on LINT1 of its BSP.
//
// Networking rides on the same boot (a Linux boot under Bochs takes
// minutes, so no boot of its own): deb1 and deb2 have a virtio-net NIC on
// network lab0; a third VM, iso (the vblk test guest, halted after one
// disk read: a third Linux would add minutes), has one on lab1. Debian's
// stock virtio_net binds, deb1 and deb2 ping each other and move 4 MiB of
// random data over TCP (busybox nc) whose sha256 both sides print; neither
// gets an answer from 10.0.0.3 (another network), and not one of their
// frames (ARP broadcasts included) reaches iso's port: its vm-stats marker
// counts no frame received or dropped. The monitor's `net` command, typed
// while deb2 still runs, lists the NICs with their MACs (deb1's given,
// the others derived) and counters; then `vm stop iso` ends the halted VM.
//
// The uplink rides along too: Bochs gets an e1000 on its slirp network
// (restricted: only slirp's own DHCP and TFTP answer), which the monitor
// finds on host PCI and drives itself as nic0; network wan is bridged to
// it. deb1's second NIC is on wan: it gets an address from slirp's DHCP
// server through the bridge and fetches a random file over TFTP, whose
// sha256 must be the file's. iso's second NIC is on a network whose uplink
// (nic1) does not exist: one clear line and a `net-uplink ... state=missing`
// marker, and every other network works on.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { boot, explain, markersOf, ROOT } from './pool.js';
import { baseImage, hex16, SECTOR } from './vblk.js';

const KERNEL = process.env.CG_LINUX_KERNEL ?? '/var/cache/crossguard/vmlinuz';
const INITRD = join(ROOT, 'build', 'linux', 'initramfs.cpio.gz');
const MARK = 100;

const dir = mkdtempSync(join(tmpdir(), 'cg-linux-'));
const image = baseImage(2048);
const basePath = join(dir, 'base.img');
writeFileSync(basePath, image);
const DEB1_MAC = '02:00:00:00:0c:01';
// The machine's own NIC (Bochs' e1000): derived guest MACs take its last two bytes as prefix.
const HOST_MAC = '52:54:00:12:0a:01';
const DERIVED = /^02:0a:01:/;
const tftpRoot = join(dir, 'tftp');
mkdirSync(tftpRoot);
const fetched = randomBytes(65536);
writeFileSync(join(tftpRoot, 'blob.bin'), fetched);
const debian = (name: string, vcpus: number, action: 'poweroff' | 'shell', net: string, ...nics: Record<string, unknown>[]) => ({
  name,
  memory_mib: 128,
  vcpus,
  kernel: KERNEL,
  initrd: INITRD,
  cmdline: `console=ttyS0 cg.tag=${name} cg.sector=${MARK} cg.action=${action} ${net}`,
  disks: [{ image: 'base', mode: 'rw', overlay: 'discard' }],
  nics,
});
const vmSet = [
  debian('deb1', 2, 'poweroff', 'cg.ip=10.0.0.1 cg.ping=10.0.0.2 cg.noreach=10.0.0.3 cg.send=10.0.0.2:5001 cg.fetch=eth1:blob.bin', { network: 'lab0', mac: DEB1_MAC }, { network: 'wan' }),
  debian('deb2', 1, 'shell', 'cg.ip=10.0.0.2 cg.ping=10.0.0.1 cg.noreach=10.0.0.3 cg.serve=5001 cg.ackto=10.0.0.1', { network: 'lab0' }),
  {
    name: 'iso',
    memory_mib: 16,
    kernel: join(ROOT, 'build', 'guests', 'vblk.elf'),
    cmdline: 'mode=read-base sectors=1 linger=1',
    disks: [{ image: 'base', mode: 'ro' }],
    nics: [{ network: 'lab1' }, { network: 'gone' }],
  },
];
const missing = [KERNEL, INITRD, vmSet[2]!.kernel].find((f) => !existsSync(f));

const run = missing
  ? null
  : boot({
      emulator: 'bochs',
      image: {
        kind: 'iso-variant',
        vms: { images: { base: basePath }, networks: [{ name: 'lab0' }, { name: 'lab1' }, { name: 'wan', uplink: 'nic0' }, { name: 'gone', uplink: 'nic1' }], vms: vmSet },
      },
      uplink: { mac: HOST_MAC, tftpRoot },
      cpus: 2,
      memMiB: 512,
      ips: 50_000_000,
      until: /^\[deb2\] CG-LINUX shell/,
      // Under load (other emulators on the same cores) a boot takes longer.
      timeoutMs: Number(process.env.CG_LINUX_TIMEOUT_MS ?? 1_500_000),
      interact: async (m, waitFor) => {
        const done = waitFor(/^@cg vms-done /, 900_000);
        done.catch(() => {});
        // The NMI button: Linux programs LINT1 as NMI on its BSP, and an
        // NMI no device claims is reported as of unknown reason.
        const nmi = waitFor(/^\[deb2\] .*NMI received for unknown reason [0-9a-f]+ on CPU 0/, 120_000);
        m.serial.write('vm nmi deb2\r');
        await nmi;
        // The monitor's view of the networks while deb2 still runs.
        const net = waitFor(/^iso:\r?$/, 60_000);
        m.serial.write('net\r');
        await net;
        await waitFor(/^\s+throttled \d+ frames .*\r?$/, 60_000);
        const stopped = waitFor(/^@cg vm-stats name=iso /, 60_000);
        m.serial.write('vm stop iso\r');
        await stopped;
        const attached = waitFor(/attached to deb2/, 60_000);
        m.serial.write('console deb2\r');
        await attached;
        // The shell's prompt may still be on its way; a newline gets a fresh one.
        const answer = waitFor(/^hi-42\r?$/, 120_000);
        m.serial.write('\r');
        m.serial.write('echo hi-$((6*7))\r');
        await answer;
        m.serial.write('poweroff -f\r');
        await done;
      },
    });
run?.catch(() => {});

function guestLines(lines: string[], vm: string): string[] {
  const p = `[${vm}] `;
  return lines.filter((l) => l.startsWith(p)).map((l) => l.slice(p.length));
}

test('two Debian guests and a third VM: boot, vCPUs, TSC clock, UART interrupts, virtio disk, private overlays, virtio-net on two isolated networks with a checked TCP transfer, a shell on the console, ACPI power-off', async () => {
  assert.ok(!missing, `${missing} is missing: make test fetches the kernel (toolchain/fetch-kernel.sh) and builds the initramfs`);
  const o = await run!;
  assert.is(o.status, 'matched', explain(o, 'both VMs should end'));
  for (const [vm, cpus, last] of [['deb1', 2, 'poweroff'], ['deb2', 1, 'shell']] as const) {
    const log = guestLines(o.lines, vm);
    const has = (re: RegExp, what: string) => assert.ok(log.some((l) => re.test(l)), explain(o, `${vm}: ${what}`));
    has(/Linux version \d+\.\d+/, 'banner');
    has(/BIOS-e820: \[mem 0x0000000000100000-0x0000000007ffffff\] usable/, 'our e820 map: 1 MiB to 128 MiB usable');
    has(/ACPI: RSDP 0x00000000000E0000 .*CRSGRD/, 'our ACPI tables at 0xE0000');
    has(/IOAPIC\[0\]: apic_id \d+, version 17, address 0xfec00000, GSI 0-23/, 'the IOAPIC from the MADT');
    // The rate the monitor measured against Bochs' PIT at boot (ips=50M).
    // Linux prints "… MHz TSC" only when it differs from the CPU rate it
    // took from CPUID 0x16 (whole MHz); a measured rate of exactly 50 MHz
    // gives only "… MHz processor".
    const tsc =
      log.map((l) => /tsc: Detected (\d+\.\d+) MHz TSC/.exec(l)).find(Boolean) ??
      log.map((l) => /tsc: Detected (\d+\.\d+) MHz processor/.exec(l)).find(Boolean);
    const mhz = Number(tsc?.[1] ?? NaN);
    assert.ok(mhz > 45 && mhz < 55, explain(o, `${vm}: the TSC rate from CPUID 0x15 near Bochs' 50 MHz (${tsc?.[0] ?? 'no "tsc: Detected … MHz" line'})`));
    has(/clocksource: Switched to clocksource tsc$/, 'the TSC kept as clocksource');
    assert.not.ok(log.some((l) => /Marking TSC unstable|TSC.*unstable/.test(l)), explain(o, `${vm}: the TSC is never marked unstable`));
    has(/ttyS0 at I\/O 0x3f8 \(irq = \d+, base_baud = 115200\) is a 16550A/, "the UART with an IRQ (ACPI gives GSI 4)");
    has(new RegExp(`smp: Brought up 1 node, ${cpus} CPUs?`), `${cpus} CPU(s) up`);
    has(/virtio_blk virtio\d+: \[vda\]/, 'the virtio-blk disk found on PCI');
    const cg = log.filter((l) => l.startsWith('CG-LINUX ')).map((l) => l.slice(9));
    assert.equal(cg.slice(0, 3), ['init', `cpus=${cpus}`, 'modules ok'], explain(o, `${vm}: /init, its CPUs, the virtio modules`));
    const up = cg.map((l) => /^net-up eth0 mac=([0-9a-f:]{17}) ip=10\.0\.0\.(\d) mtu=(\d+)$/.exec(l)).find(Boolean);
    assert.ok(up, explain(o, `${vm}: eth0 configured; its CG-LINUX lines: ${JSON.stringify(cg)}`));
    assert.is(up![3], '1500', explain(o, `${vm}: MTU 1500 from the device`));
    if (vm === 'deb1') assert.is(up![1], DEB1_MAC, explain(o, 'deb1: the MAC its description gives'));
    else assert.match(up![1], DERIVED, explain(o, `${vm}: a derived MAC: locally administered, the machine's prefix (its NIC's last two bytes)`));
    assert.ok(cg.includes('net-unreachable 10.0.0.3'), explain(o, `${vm}: 10.0.0.3 is on another network and must not answer`));
    assert.ok(cg.includes(`net-ping 10.0.0.${vm === 'deb1' ? 2 : 1} ok`), explain(o, `${vm}: pings its neighbour on lab0`));
    assert.ok(cg.includes(`disk-size sectors=${image.length / SECTOR}`), explain(o, `${vm}: the disk has the image's size`));
    assert.ok(cg.some((l) => l.startsWith(`disk-read ${hex16(image)} `)), explain(o, `${vm}: sector 0 reads as the base image`));
    assert.ok(cg.includes(`disk-before sector=${MARK} ${hex16(image, MARK * SECTOR)}`), explain(o, `${vm}: sees the base, not the other VM's marker`));
    assert.ok(cg.includes(`disk-write ok sector=${MARK}`), explain(o, `${vm}: its marker reads back from the device`));
    assert.ok(cg.includes('done errors=0') && cg.at(-1) === last, explain(o, `${vm}: no errors, then ${last}; its CG-LINUX lines: ${JSON.stringify(cg)}`));
    const exit = markersOf(o, 'vm-exit').find((m) => m.fields.name === vm);
    assert.equal(exit?.fields, { name: vm, status: '0', reason: 'poweroff' }, explain(o, `${vm}: ended by ACPI S5`));
  }
  assert.ok(guestLines(o.lines, 'deb2').some((l) => /Uhhuh\. NMI received for unknown reason [0-9a-f]+ on CPU 0/.test(l)), explain(o, 'deb2: the NMI button reached Linux through LINT1'));
  // 4 MiB of random data, the same sha256 on both sides and back.
  const cg = (vm: string) => guestLines(o.lines, vm).filter((l) => l.startsWith('CG-LINUX ')).map((l) => l.slice(9));
  const sent = cg('deb1').map((l) => /^net-send-data bytes=4194304 sha256=([0-9a-f]{64})$/.exec(l)).find(Boolean)?.[1];
  assert.ok(sent, explain(o, `deb1: 4 MiB to send; ${JSON.stringify(cg('deb1'))}`));
  assert.ok(cg('deb2').includes(`net-recv bytes=4194304 sha256=${sent}`), explain(o, `deb2 received deb1's 4 MiB intact; ${JSON.stringify(cg('deb2'))}`));
  assert.ok(cg('deb1').includes(`net-ack sha256=${sent}`), explain(o, "deb1 got deb2's checksum back"));
  const stats = (vm: string) => markersOf(o, 'vm-stats').find((m) => m.fields.name === vm)?.fields ?? {};
  assert.ok(Number(stats('deb1')['net-rx']) > 100 && Number(stats('deb2')['net-rx']) > 2000, explain(o, `deb1 and deb2 received frames: ${JSON.stringify([stats('deb1'), stats('deb2')])}`));
  const iso = stats('iso');
  assert.ok(iso['net-rx'] === '0' && iso['net-dropped'] === '0', explain(o, `iso on lab1: not one frame reached its port: ${JSON.stringify(iso)}`));
  assert.ok(guestLines(o.lines, 'iso').some((l) => l.startsWith('VBLK read-base sectors=1 ')), explain(o, 'iso ran'));
  assert.ok(Number(stats('deb2')['dev-virtio-net']) > 0 && Number(stats('deb2')['dev-virtio-blk']) > 0, explain(o, 'stats counts virtio-net and virtio-blk exits apart'));
  const links = markersOf(o, 'net-link').filter((m) => m.fields.state === 'up').map((m) => `${m.fields.vm}/${m.fields.network}`).sort();
  assert.equal(links, ['deb1/lab0', 'deb1/wan', 'deb2/lab0'], explain(o, 'a net-link marker as each Linux driver brings its NIC up (iso has no driver)'));
  // The uplink: the monitor found Bochs' e1000 on host PCI and bridged wan to it.
  const nic = markersOf(o, 'host-nic')[0]?.fields;
  assert.equal(nic && [nic.index, nic.driver, nic.id, nic.mac, nic.irq], ['0', 'e1000', '8086:100e', HOST_MAC, 'poll'], explain(o, `host-nic: Bochs' 82540EM as nic0: ${JSON.stringify(nic)}`));
  const uplinks = markersOf(o, 'net-uplink').map((m) => `${m.fields.network}/${m.fields.nic}/${m.fields.state}`);
  assert.equal(uplinks, ['wan/nic0/up', 'gone/nic1/missing'], explain(o, 'wan bridged to nic0; gone names a NIC that is not there'));
  assert.is(markersOf(o, 'net-uplink')[0]?.fields.irq, 'poll', explain(o, "Bochs' 82540EM lists no MSI: polled"));
  assert.ok(o.lines.some((l) => /^network gone: uplink nic1: the monitor found 1 host NICs .*the network runs without an uplink/.test(l)), explain(o, 'one clear line for the missing NIC'));
  const lease = cg('deb1').map((l) => /^uplink-up eth1 mac=(\S+) ip=10\.0\.2\.\d+ server=(10\.0\.2\.2)$/.exec(l)).find(Boolean);
  assert.ok(lease, explain(o, `deb1: an address from slirp's DHCP server, through the bridge; ${JSON.stringify(cg('deb1'))}`));
  assert.match(lease![1]!, DERIVED, explain(o, "deb1's wan NIC has a derived MAC"));
  const sum = createHash('sha256').update(fetched).digest('hex');
  assert.ok(cg('deb1').includes(`uplink-fetch blob.bin bytes=${fetched.length} sha256=${sum}`), explain(o, `deb1 fetched the file from outside the machine intact; ${JSON.stringify(cg('deb1'))}`));
  // The `net` command, typed while deb2 ran.
  // The shell's lines only: a guest's console line or a marker may land between them.
  const shown = o.interaction.split('\n').filter((l) => !/^(\[\w+\] |@cg )/.test(l)).join('\n');
  assert.match(shown, /network lab0: [12] ports/, explain(o, `net lists lab0: ${shown}`));
  assert.match(shown, /network lab1: 1 ports/, explain(o, `net lists lab1: ${shown}`));
  assert.match(shown, new RegExp(`network wan: [12] ports, \\d+ frames flooded\r?\n\\s+uplink nic0 \\(e1000 00:[0-9a-f]{2}\\.0\\) port \\d+ mac ${HOST_MAC} link up irq poll\r?\n\\s+from wire \\d+ frames`), explain(o, `net shows wan's uplink: ${shown}`));
  assert.match(shown, /network gone: 1 ports, \d+ frames flooded, no uplink/, explain(o, `gone runs without its uplink: ${shown}`));
  assert.match(shown, /iso:\r?\n\s+nic 0 \(00:[0-9a-f]{2}\.0\): network lab1 port 0 mac 02:0a:01:[0-9a-f:]{8} link down\r?\n\s+tx 0 frames 0 bytes, rx 0 frames 0 bytes; dropped: 0 spoofed, 0 bad, 0 queue full/, explain(o, `net: nothing reached iso's port on lab1: ${shown}`));
  const deb2Mac = cg('deb2').map((l) => /^net-up eth0 mac=(\S+)/.exec(l)?.[1]).find(Boolean);
  assert.ok(shown.includes(`mac ${deb2Mac} link up`), explain(o, `net shows deb2's NIC with the MAC Linux saw: ${shown}`));
  assert.match(shown, /tx [1-9]\d* frames \d+ bytes, rx [1-9]\d* frames/, explain(o, `net counts frames: ${shown}`));
  const stops = markersOf(o, 'vm-stop').map((m) => `${m.fields.name}/${m.fields.reason}`);
  assert.equal(stops, ['iso/operator'], explain(o, 'the monitor stopped no VM; the operator stopped iso'));
  assert.is(markersOf(o, 'fatal').length, 0, explain(o, 'the monitor did not fail'));
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
