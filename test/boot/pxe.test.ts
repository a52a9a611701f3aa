// Network boot from a netboot tree, end to end through the CLI:
// `crossguard image --format pxe` writes a tree with a VM set for each of two
// MACs and a default set, and `crossguard run --boot pxe` boots an emulated
// server (QEMU TCG) from it through a real dnsmasq (DHCP + TFTP) and an HTTP
// server, both in a network namespace the command makes and removes:
//   BIOS + QEMU's iPXE ROM (Multiboot1, payloads over HTTP), for both MACs;
//   UEFI (OVMF's own PXE) + GRUB EFI (Multiboot2, TFTP), for both MACs;
//   BIOS + GRUB's core.0 (Multiboot2, TFTP), for an unknown MAC: the default.
// Without VT-x the monitor reaches its "VT-x not available" path: each boot
// must show the monitor came from the tree (its command line), loaded exactly
// its host's modules (the `@cg module` names and sizes against the
// manifest) and named exactly its host's VMs (`@cg vm-stop … create-failed`,
// then `@cg vms-done count=0`). Network traffic stays inside those
// namespaces; the test checks that none is left behind.
// Under Bochs (VT-x) a third host boots through QEMU's iPXE ROM on Bochs'
// e1000 and slirp network (no namespace needed) and its two VMs run to
// their end: their real exit statuses, then `@cg vms-done count=2`.
// `crossguard pxe serve --proxy` serves the same tree next to a lab's own
// DHCP server (a second dnsmasq, in a namespace of its own behind a veth,
// leasing the addresses): a QEMU with BIOS (QEMU's iPXE ROM) on a tap of the
// same bridge gets its address from the lab server and its boot from
// crossguard's proxy, fetches the monitor over HTTP from the proxy and
// reaches `@cg ready`; the command's log names its steps with host A's MAC,
// and SIGTERM stops it with nothing left running in the namespace. `image
// --format pxe` refuses a file over the size limit and writes nothing.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, ftruncateSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseMarker, type Marker } from '../../qemu/markers.js';
import { createEmulator } from '../../qemu/detect.js';
import { BOCHS_PXE_ROM } from '../../qemu/bochs.js';
import type { Manifest } from '../../toolchain/src/pxe/manifest.js';
import { TFTP_SAFE_FILE_BYTES } from '../../toolchain/src/pxe/tree.js';
import { cli, CLI, type CliRun as Run } from './cli.js';
import { cannotMakeNamespaces } from './netns.js';
import { boot, ROOT, slot, type BootOutcome } from './pool.js';

const GUESTS = join(ROOT, 'build', 'guests');
const A = '52:54:00:00:00:0a';
const B = '52:54:00:00:00:0b';
const C = '52:54:00:00:00:0c';
const UNKNOWN = '52:54:00:99:99:01';

const skip = cannotMakeNamespaces('cg');

/** Why Bochs cannot boot from the network here, or null. */
async function noBochsPxe(): Promise<string | null> {
  const a = await createEmulator('bochs').available();
  if (!a.ok) return a.reason;
  return existsSync(BOCHS_PXE_ROM) ? null : `${BOCHS_PXE_ROM} is missing (apt-get install ipxe-qemu)`;
}
const dir = mkdtempSync(join(tmpdir(), 'cg-pxe-boot-'));
const tree = join(dir, 'tree');
const setFile = (name: string, vms: object[], extra: object = {}) => {
  const p = join(dir, name);
  writeFileSync(p, JSON.stringify({ vms, ...extra }));
  return p;
};
// Host A's disk image: large enough (GRUB_HTTP_MIN_BYTES) for GRUB to fetch it over HTTP.
const bigDisk = join(dir, 'big.img');
writeFileSync(bigDisk, Buffer.alloc(2 << 20));
const vm = (name: string, kernel: string, o: object = {}) => ({ name, memory_mib: 16, kernel: join(GUESTS, kernel), ...o });

// Host A: one VM. Host B: two VMs, one sharing A's kernel (stored once).
// Host C (Bochs): two VMs that end, with statuses 0 and 3. Default: another.
const made = cli(
      [
        'image', '--format', 'pxe', '--out', tree, '--cmdline', 'cg.shell=0', '--http-base', 'http://${next-server}',
        '--vms', setFile('default.json', [vm('spare', 'exitcode.elf')]),
        '--host', `${A.toUpperCase()}=${setFile('a.json', [vm('web-a', 'echo.elf', { disks: [{ image: 'big', mode: 'ro' }] })], { images: { big: bigDisk } })}`,
        '--host', `${B.replace(/:/g, '-')}=${setFile('b.json', [vm('db-b', 'echo.elf'), vm('cache-b', 'smp.elf', { vcpus: 2 })])}`,
        '--host', `${C}=${setFile('c.json', [vm('ok-c', 'exitcode.elf'), vm('three-c', 'exitcode.elf', { cmdline: 'code=3' })])}`,
      ],
      60_000,
    );

interface Case {
  label: string;
  mac: string;
  firmware: 'bios' | 'uefi';
  loader: 'ipxe' | 'grub';
}

const cases: Case[] = [
  { label: 'BIOS, iPXE, host A', mac: A, firmware: 'bios', loader: 'ipxe' },
  { label: 'BIOS, iPXE, host B', mac: B, firmware: 'bios', loader: 'ipxe' },
  { label: 'UEFI, GRUB EFI, host A', mac: A, firmware: 'uefi', loader: 'grub' },
  { label: 'UEFI, GRUB EFI, host B', mac: B, firmware: 'uefi', loader: 'grub' },
  { label: 'BIOS, GRUB core.0, unknown host', mac: UNKNOWN, firmware: 'bios', loader: 'grub' },
];

// Start every boot once the tree is there; the pool runs two at a time.
// Bochs first: it is the longest.
const bochsSkip = noBochsPxe();
const bochsBoot = Promise.all([made, bochsSkip]).then(([m, why]) =>
  m.status !== 0 || why
    ? null
    : slot(() =>
        cli(
          ['run', '--boot', 'pxe', '--image', tree, '--mac', C, '--emulator', 'bochs', '--cpus', '1',
            '--until', '^@cg (vms-done|fatal) ', '--timeout', '150'],
          180_000,
        ),
      ),
);
const boots = cases.map((c) =>
  skip ? null : made.then((m) =>
    m.status !== 0
      ? null
      : slot(() =>
          cli(
            ['run', '--boot', 'pxe', '--image', tree, '--mac', c.mac, '--firmware', c.firmware, '--loader', c.loader,
              '--emulator', 'qemu', '--net', 'netns', '--until', '^@cg (vms-done|fatal) ', '--timeout', '120'],
            150_000,
          ),
        ),
  ),
);

// ---- pxe serve --proxy: the tree next to a lab's own DHCP server ----
//
// Two namespaces of the test's own joined by a veth: the PXE server's, with a
// bridge (the lab interface `pxe serve` runs on) holding QEMU's tap and the
// veth; and the lab DHCP server's, where a second dnsmasq leases addresses
// (and sends IPv6 router advertisements, as a lab router would) and knows
// nothing of PXE.

const SERVE_NS = `pxe2-srv-${process.pid}`;
const LAB_NS = `l2-labdhcp-${process.pid}`;
const SERVE_IF = 'cgbr0';
const TAP = 'cgsrv0';
const LAB_RANGE = /^10\.77\.1\.(5\d|60)$/;

interface Serve {
  status: number | null;
  stdout: string;
  stderr: string;
  qemu: BootOutcome | null;
  /** Processes still in the server's namespace after the command ended. */
  left: string;
  /** The lab DHCP server's leases file and log. */
  leases: string;
  labLog: string;
}

function nsIp(...args: string[]) {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
}

function killNamespace(ns: string): void {
  for (const pid of spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout.split(/\s+/).filter(Boolean))
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // Gone.
    }
  spawnSync('ip', ['netns', 'del', ns]);
}

/** Makes both namespaces, the lab's dnsmasq, `pxe serve --proxy` on the bridge, boots QEMU on the tap, then SIGTERMs the command. */
function serveAndBoot(): Promise<Serve> {
  return slot(async () => {
    nsIp('netns', 'add', SERVE_NS);
    nsIp('netns', 'add', LAB_NS);
    let lab: ReturnType<typeof spawn> | undefined;
    try {
      nsIp('-n', SERVE_NS, 'link', 'set', 'lo', 'up');
      nsIp('-n', SERVE_NS, 'link', 'add', SERVE_IF, 'type', 'bridge');
      nsIp('-n', SERVE_NS, 'tuntap', 'add', 'dev', TAP, 'mode', 'tap');
      nsIp('-n', SERVE_NS, 'link', 'set', TAP, 'master', SERVE_IF);
      nsIp('-n', SERVE_NS, 'link', 'add', 'cgv0', 'type', 'veth', 'peer', 'name', 'cgv1', 'netns', LAB_NS);
      nsIp('-n', SERVE_NS, 'link', 'set', 'cgv0', 'master', SERVE_IF);
      nsIp('-n', SERVE_NS, 'addr', 'add', '10.77.1.1/24', 'dev', SERVE_IF);
      for (const l of [SERVE_IF, TAP, 'cgv0']) nsIp('-n', SERVE_NS, 'link', 'set', l, 'up');
      nsIp('-n', LAB_NS, 'link', 'set', 'lo', 'up');
      nsIp('-n', LAB_NS, 'addr', 'add', '10.77.1.2/24', 'dev', 'cgv1');
      nsIp('-n', LAB_NS, 'addr', 'add', 'fd78::2/64', 'dev', 'cgv1', 'nodad');
      nsIp('-n', LAB_NS, 'link', 'set', 'cgv1', 'up');
      const leases = join(dir, 'lab.leases');
      const labConf = join(dir, 'lab-dnsmasq.conf');
      writeFileSync(
        labConf,
        ['port=0', 'no-resolv', 'no-hosts', 'user=root', 'bind-interfaces', 'interface=cgv1', `dhcp-leasefile=${leases}`, 'log-dhcp',
          'dhcp-range=10.77.1.50,10.77.1.60,255.255.255.0,1h', 'dhcp-range=::,constructor:cgv1,ra-only,64', 'enable-ra', ''].join('\n'),
      );
      lab = spawn('ip', ['netns', 'exec', LAB_NS, 'dnsmasq', '--keep-in-foreground', `--conf-file=${labConf}`, '--log-facility=-'], { stdio: ['ignore', 'ignore', 'pipe'] });
      let labLog = '';
      lab.stderr!.on('data', (b: Buffer) => (labLog += b.toString()));
      const cp = spawn('ip', ['netns', 'exec', SERVE_NS, process.execPath, CLI, 'pxe', 'serve', tree, '--interface', SERVE_IF, '--proxy'], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      cp.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
      cp.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      const closed = new Promise<number | null>((r) => cp.on('close', (s) => r(s)));
      const t0 = Date.now();
      const up = () => /crossguard: serving /.test(stderr) && /DHCP, IP range/.test(labLog);
      while (!up() && cp.exitCode === null && lab.exitCode === null && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 50));
      let qemu: BootOutcome | null = null;
      if (up())
        qemu = await boot({ emulator: 'qemu', image: { kind: 'net', mac: A, tap: { netns: SERVE_NS, ifname: TAP } }, firmware: 'bios', cpus: 1, memMiB: 256, until: /^@cg (vms-done|fatal) /, timeoutMs: 120_000 }, true);
      cp.kill('SIGTERM');
      const kill = setTimeout(() => cp.kill('SIGKILL'), 15_000);
      const status = await closed;
      clearTimeout(kill);
      const left = spawnSync('ip', ['netns', 'pids', SERVE_NS], { encoding: 'utf8' }).stdout.trim();
      return { status, stdout, stderr, qemu, left, leases: existsSync(leases) ? readFileSync(leases, 'utf8') : '', labLog };
    } finally {
      lab?.kill('SIGTERM');
      killNamespace(SERVE_NS);
      killNamespace(LAB_NS);
    }
  });
}

const served = skip ? null : made.then((m) => (m.status === 0 ? serveAndBoot() : null));

function explain(r: Run, what: string): string {
  return `${what}\n--- stderr ---\n${r.stderr.slice(-3000)}\n--- serial (tail) ---\n${r.stdout.split('\n').slice(-30).join('\n')}`;
}

test('image --format pxe writes the tree: three hosts by MAC and a default, shared kernels stored once', async () => {
  if (skip) console.log(`  (QEMU boots skipped: ${skip})`);
  const m = await made;
  assert.is(m.status, 0, explain(m, 'image --format pxe failed'));
  const man = JSON.parse(readFileSync(join(tree, 'manifest.json'), 'utf8')) as Manifest;
  assert.equal(man.hosts.map((h) => h.mac), [A, B, C, null]);
  const echo = man.hosts[0]!.modules.find((m) => m.what.startsWith('kernel'))!;
  assert.is(man.hosts[1]!.modules[1]!.path, echo.path, "host B's echo.elf is host A's file");
  assert.is(man.files.filter((f) => f.sha256 === echo.sha256).length, 1, 'stored once');
  assert.match(m.stderr, /wrote .*: release [0-9a-f]{12}, 3 hosts by MAC \+ default, 4 payload files for 6 uses/);
});

test('image --format pxe: a disk image over the size limit is refused with one line and nothing is written; --max-file-bytes lets it in', async () => {
  const huge = join(dir, 'huge.img');
  const fd = openSync(huge, 'w');
  ftruncateSync(fd, TFTP_SAFE_FILE_BYTES + 512); // one sector more; sparse: nothing on disk
  closeSync(fd);
  const set = setFile('huge.json', [vm('big', 'exitcode.elf', { disks: [{ image: 'huge', mode: 'ro' }] })], { images: { huge } });
  const out = join(dir, 'huge-tree');
  const r = await cli(['image', '--format', 'pxe', '--out', out, '--vms', set], 60_000);
  assert.is(r.status, 2, explain(r, 'over the limit'));
  assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`^crossguard: ${huge.replace(/[.]/g, '\\.')} is 33554432 bytes, over the tree's limit of 33553920 bytes a file: .* raise --max-file-bytes`));
  assert.not.ok(existsSync(out), 'nothing written');
  const ok = await cli(['image', '--format', 'pxe', '--out', out, '--vms', set, '--max-file-bytes', String(64 << 20)], 60_000);
  assert.is(ok.status, 0, explain(ok, 'a raised limit'));
  assert.ok(existsSync(join(out, 'manifest.json')));
  rmSync(out, { recursive: true, force: true });
  rmSync(huge);
});

test("run --boot pxe --emulator bochs: VT-x, host C's VMs run from the tree to their end", async () => {
  const why = await bochsSkip;
  if (why) {
    console.log(`  (skipped: ${why})`);
    return;
  }
  const r = await bochsBoot;
  assert.ok(r, 'the tree was not made');
  const man = JSON.parse(readFileSync(join(tree, 'manifest.json'), 'utf8')) as Manifest;
  const host = man.hosts.find((h) => h.mac === C)!;
  assert.is(r!.status, 0, explain(r!, `run exited ${r!.status}`));
  const markers = r!.stdout.split('\n').map(parseMarker).filter((x): x is Marker => x !== null);
  const of = (k: string) => markers.filter((x) => x.kind === k);
  assert.is(of('fatal').length, 0, explain(r!, 'the monitor died'));
  // Bochs' slirp serves no HTTP: iPXE fell back to TFTP for the whole set.
  assert.is(of('boot')[0]?.fields.cmdline, `tftp://10.0.2.2/${man.monitor.path} cg.shell=0`, explain(r!, 'iPXE command line'));
  assert.equal(of('module').map((x) => `${x.fields.name} ${x.fields.size}`), host.modules.map((x) => `${x.name} ${x.size}`), explain(r!, 'modules of host C'));
  assert.is(of('ready')[0]?.fields.vmx, '1', explain(r!, 'Bochs emulates VT-x'));
  assert.equal(of('vm-start').map((x) => x.fields.name).sort(), ['ok-c', 'three-c'], explain(r!, 'both VMs started'));
  const exits = of('vm-exit').map((x) => `${x.fields.name} ${x.fields.status}`).sort();
  assert.equal(exits, ['ok-c 1', 'three-c 7'], explain(r!, 'real exit statuses: (code << 1) | 1'));
  assert.ok(r!.stdout.includes('[three-c] exitcode: exiting with 3'), explain(r!, "the VM's own output"));
  assert.is(of('vms-done')[0]?.fields.count, '2', explain(r!, 'vms-done'));
  assert.match(r!.stderr, new RegExp(`MAC ${C} boots its own VM set`));
  console.log(`  Bochs, iPXE, host C: ${(r!.ms / 1000).toFixed(1)} s`);
});

cases.forEach((c, i) =>
  test(`run --boot pxe, ${c.label}: the monitor comes from the tree with that host's VM set`, async () => {
    if (skip) return;
    const r = await boots[i]!;
    assert.ok(r, 'the tree was not made');
    const man = JSON.parse(readFileSync(join(tree, 'manifest.json'), 'utf8')) as Manifest;
    const host = man.hosts.find((h) => h.mac === c.mac) ?? man.hosts.find((h) => h.mac === null)!;
    assert.is(r!.status, 0, explain(r!, `run exited ${r!.status}`));
    const markers = r!.stdout.split('\n').map(parseMarker).filter((x): x is Marker => x !== null);
    const of = (k: string) => markers.filter((x) => x.kind === k);
    assert.is(of('fatal').length, 0, explain(r!, 'the monitor died'));
    const boot = of('boot')[0]?.fields;
    assert.ok(boot, explain(r!, 'no boot marker'));
    if (c.loader === 'ipxe' && c.firmware === 'bios') {
      assert.is(boot!.loader, 'multiboot1');
      // iPXE passes the URI first: the monitor itself came over HTTP from this release.
      assert.is(boot!.cmdline, `http://192.168.77.1/${man.monitor.path} cg.shell=0`, explain(r!, 'iPXE command line'));
    } else {
      assert.is(boot!.loader, 'multiboot2');
      assert.is(boot!.efi, c.firmware === 'uefi' ? '1' : '0');
      assert.is(boot!.cmdline, 'cg.shell=0', explain(r!, 'GRUB passes the arguments only'));
    }
    const got = of('module').map((x) => `${x.fields.name} ${x.fields.size}`);
    assert.equal(got, host.modules.map((x) => `${x.name} ${x.size}`), explain(r!, `modules of ${host.source}`));
    assert.is(of('ready')[0]?.fields.vmx, '0', explain(r!, 'QEMU TCG has no VT-x'));
    const stopped = of('vm-stop').map((x) => `${x.fields.name} ${x.fields.reason}`);
    assert.equal(stopped, host.vms.map((v) => `${v} create-failed`), explain(r!, `the VMs of ${host.source}`));
    assert.is(of('vms-done')[0]?.fields.count, '0');
    assert.ok(r!.stdout.includes('cannot start: no CPU is in VMX root'), explain(r!, 'says why no VM started'));
    assert.match(r!.stderr, new RegExp(`MAC ${c.mac} boots ${host.mac ? 'its own' : 'the default'} VM set`));
    console.log(`  ${c.label}: ${(r!.ms / 1000).toFixed(1)} s`);
  }),
);

test('pxe serve --proxy next to a lab DHCP server: the lab leases the address, crossguard the boot; host A (BIOS, iPXE) boots over HTTP; SIGTERM leaves nothing', async () => {
  if (skip) return;
  const s = await served;
  assert.ok(s, 'the tree was not made');
  const why = `--- pxe serve stderr ---\n${s!.stderr.slice(-2000)}\n--- its log ---\n${s!.stdout.slice(-4000)}\n--- lab DHCP ---\n${s!.labLog.slice(-3000)}`;
  assert.match(s!.stderr, /serving .* on cgbr0 \(10\.77\.1\.1\/24\): proxy-DHCP next to the lab DHCP server, TFTP, HTTP on port 80/, why);
  const q = s!.qemu;
  assert.ok(q, why);
  assert.is(q!.status, 'matched', `${why}\n--- serial ---\n${q!.lines.slice(-20).join('\n')}`);
  // The address is the lab's: its lease, in its range, for host A.
  const lease = s!.leases.split('\n').find((l) => l.includes(` ${A} `));
  assert.ok(lease && LAB_RANGE.test(lease.split(' ')[2]!), `host A has no lease from the lab DHCP server\n${s!.leases}\n${why}`);
  const man = JSON.parse(readFileSync(join(tree, 'manifest.json'), 'utf8')) as Manifest;
  const host = man.hosts.find((h) => h.mac === A)!;
  const modules = q!.markers.filter((x) => x.kind === 'module').map((x) => `${x.fields.name} ${x.fields.size}`);
  assert.equal(modules, host.modules.map((x) => `${x.name} ${x.size}`), "host A's modules");
  // iPXE's \${next-server} is the proxy's (its PXE boot server), not the lab DHCP server's: the monitor came over HTTP from crossguard.
  const boot = q!.markers.find((x) => x.kind === 'boot')?.fields;
  assert.equal([boot?.loader, boot?.cmdline], ['multiboot1', `http://10.77.1.1/${man.monitor.path} cg.shell=0`], why);
  assert.is(q!.markers.find((x) => x.kind === 'ready')?.fields.vmx, '0');
  const mine = s!.stdout.split('\n').filter((l) => l.includes(` ${A} `));
  const has = (re: RegExp, what: string) => assert.ok(mine.some((l) => re.test(l)), `${what}\n${why}`);
  has(/ dhcp /, 'a proxy-DHCP step');
  has(/ tftp sent boot\.ipxe$/, "iPXE's entry script over TFTP");
  has(new RegExp(` http GET /${man.monitor.path.replace(/\./g, '\\.')} 200 \\d+ bytes$`), 'the monitor over HTTP');
  assert.is(s!.status, 0, `SIGTERM is a clean stop\n${why}`);
  assert.match(s!.stderr, /SIGTERM: stopping dnsmasq and the HTTP server/);
  assert.is(s!.left, '', `processes left in the namespace: ${s!.left}`);
});

test('every namespace the runs made is gone', async () => {
  await Promise.all([bochsBoot, served]);
  const runs = (await Promise.all(boots)).filter((r): r is Run => !!r);
  rmSync(dir, { recursive: true, force: true });
  if (skip) return;
  const left = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
  for (const r of runs) assert.not.match(left, new RegExp(`^cg-pxe-${r.pid}-`, 'm'), `namespace of run ${r.pid} left behind:\n${left}`);
});

test.run();
