// crossguard run --boot pxe --image DIR: an emulated lab server boots from a
// netboot tree through its NIC, as a real one would: on BIOS QEMU's iPXE
// ROM (or GRUB's core.0 with --loader grub), on UEFI OVMF's own PXE and
// GRUB EFI (or QEMU's iPXE EFI ROM, which chains GRUB EFI, with --loader
// ipxe). When the tree has an HTTP base on the lab server
// (http://${next-server}[:PORT]), an HTTP server runs next to dnsmasq and
// iPXE fetches the payloads over it. The network is a namespace with dnsmasq (pxe/labnet.ts), or
// QEMU's user networking (--net user: no root needed, but QEMU's BOOTP hands
// out the one boot file this command picks, so the tree's DHCP rules are not
// exercised). Under Bochs (--emulator bochs: VT-x, so the host's VMs run)
// the e1000 boots QEMU's iPXE ROM on Bochs' slirp network, whose DHCP hands
// out the same one boot file and whose TFTP root is the tree. Then it
// behaves like plain `run`: the serial line on the terminal or a TCP
// console, --until, --timeout.

import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEmulator, nestedVmxReason, pickEmulator } from '../../../qemu/detect.js';
import type { Emulator, NetBootImage } from '../../../qemu/emulator.js';
import { UsageError } from '../../../qemu/errors.js';
import { tailLines } from '../../../qemu/emulator.js';
import { BOOT_FILES, LAB_NET, type BiosLoader } from '../pxe/dnsmasq.js';
import { labHttpBase } from '../pxe/http.js';
import { labNetUnavailable, startLabNet, type LabNet } from '../pxe/labnet.js';
import { parseMac } from '../pxe/mac.js';
import { hostFor, isManifest, MANIFEST_NAME, type Manifest } from '../pxe/manifest.js';
import { runSession, type RunArgs, type RunPlan } from './run.js';

/** QEMU's default MAC: what --mac is when not given. */
export const DEFAULT_MAC = '52:54:00:12:34:56';

const say = (line: string) => process.stderr.write(`crossguard: ${line}\n`);

/** The tree's manifest; UsageError when DIR is not a netboot tree. */
export function readManifest(dir: string): Manifest {
  let m: unknown;
  try {
    m = JSON.parse(readFileSync(join(dir, MANIFEST_NAME), 'utf8'));
  } catch (e) {
    throw new UsageError(`${dir} is not a netboot tree (${MANIFEST_NAME}: ${(e as Error).message}); make one with crossguard image --format pxe --out ${dir}`);
  }
  if (!isManifest(m)) throw new UsageError(`${join(dir, MANIFEST_NAME)} is not a crossguard netboot manifest; make the tree with crossguard image --format pxe`);
  return m;
}

/** The file QEMU's user-net BOOTP hands out for this firmware and loader (pure): what the tree's DHCP rules would pick. */
export function userBootfile(firmware: 'bios' | 'uefi', loader: 'ipxe' | 'grub'): string {
  if (firmware === 'uefi') return loader === 'ipxe' ? BOOT_FILES.ipxeEfiScript : BOOT_FILES.grubEfi;
  return loader === 'grub' ? BOOT_FILES.grubBios : BOOT_FILES.ipxeScript;
}

/** How the machine boots, for the progress line (pure). */
export function bootPath(firmware: 'bios' | 'uefi', loader: 'ipxe' | 'grub'): string {
  if (firmware === 'uefi') return loader === 'ipxe' ? "QEMU's iPXE EFI ROM, then GRUB EFI" : "OVMF's PXE and GRUB EFI";
  return loader === 'grub' ? "QEMU's iPXE ROM and GRUB's core.0" : "QEMU's iPXE ROM";
}

/** auto: KVM with nested VT-x, else QEMU TCG (Bochs has no network boot here yet). */
async function pickNetEmulator(choice: RunArgs['emulator']): Promise<{ emulator: Emulator; reason: string }> {
  if (choice !== 'auto') return pickEmulator(choice);
  const noNested = nestedVmxReason();
  if (noNested === null) {
    const kvm = createEmulator('kvm');
    if ((await kvm.available()).ok) return { emulator: kvm, reason: 'auto: nested VT-x available' };
  }
  const qemu = await pickEmulator('qemu');
  return { emulator: qemu.emulator, reason: `auto: ${noNested === null ? 'KVM unusable' : `no nested VT-x (${noNested})`}; a network boot runs under QEMU TCG (no VT-x), not Bochs` };
}

export default async function runPxe(a: RunArgs, plan: RunPlan): Promise<number> {
  const dir = resolve(a.image!);
  const manifest = readManifest(dir);
  const mac = parseMac(a.mac ?? DEFAULT_MAC, '--mac');
  const firmware = a.firmware;
  const loader = a.loader ?? (firmware === 'uefi' ? 'grub' : 'ipxe');
  // dnsmasq's BIOS rule; UEFI clients are told apart by the iPXE user class.
  const biosLoader: BiosLoader = firmware === 'bios' ? loader : 'ipxe';
  const host = hostFor(manifest, mac);
  say(
    `MAC ${mac} boots ${host.mac ? 'its own' : 'the default'} VM set of release ${manifest.release}: ${host.source}` +
      `${host.vms.length ? ` (${host.vms.join(', ')})` : ' (no VMs)'}, through ${bootPath(firmware, loader)}`,
  );

  const { emulator, reason } = await pickNetEmulator(a.emulator);

  let net = a.net ?? 'auto';
  if (emulator.kind === 'bochs') {
    net = 'user';
    say(`Bochs' slirp network (its DHCP hands out ${userBootfile(firmware, loader)}, its TFTP serves the tree; the tree's DHCP rules are not used)`);
  } else if (net === 'auto') {
    const why = labNetUnavailable();
    net = why ? 'user' : 'netns';
    if (why) say(`QEMU user networking (its BOOTP hands out ${userBootfile(firmware, loader)}; the tree's DHCP rules are not used): ${why}`);
  } else if (net === 'netns') {
    const why = labNetUnavailable();
    if (why) throw new UsageError(`--net netns: ${why}`);
  }

  const cleanups: (() => void | Promise<void>)[] = [];
  let lab: LabNet | undefined;
  const onExit = () => lab?.closeSync();
  let image: NetBootImage;
  try {
    const http = labHttpBase(manifest.http_base);
    if (manifest.http_base && (!http || net !== 'netns'))
      say(`the tree's HTTP base ${manifest.http_base} is not served here; iPXE falls back to TFTP`);
    if (net === 'netns') {
      lab = await startLabNet({
        tree: dir,
        biosLoader,
        ...(http
          ? {
              http: {
                port: http.port,
                command: [process.execPath, fileURLToPath(import.meta.url), 'pxe-http-serve', dir, '--listen', `${LAB_NET.server}:${http.port}`, ...(http.prefix ? ['--prefix', http.prefix] : [])],
              },
            }
          : {}),
      });
      process.on('exit', onExit);
      const l = lab;
      cleanups.push(async () => {
        await l.close();
        process.off('exit', onExit);
      });
      say(`lab network: namespace ${lab.netns}, dnsmasq on ${lab.tap} (${lab.server}) serving DHCP and TFTP${http ? `, HTTP on port ${http.port}` : ''} from ${dir}`);
      image = { kind: 'net', mac, tap: { netns: lab.netns, ifname: lab.tap } };
    } else image = { kind: 'net', mac, user: { tftpRoot: dir, bootfile: userBootfile(firmware, loader) } };
    if (firmware === 'uefi') image.efiPxe = loader === 'ipxe' ? 'ipxe' : 'ovmf';
  } catch (e) {
    for (const c of cleanups.reverse()) await c();
    throw e;
  }
  say(`booting ${emulator.kind} (${reason}, ${a.cpus} CPU${a.cpus === 1 ? '' : 's'}, ${firmware.toUpperCase()})…`);
  const l = lab;
  return runSession({
    emulator,
    image,
    a,
    plan,
    memMiB: a.mem ?? 512,
    cleanups,
    monitorCmdline: manifest.monitor.cmdline,
    ...(l ? { diagnostics: () => `lab network log (dnsmasq DHCP/TFTP, HTTP):\n${tailLines(l.log(), 25)}` } : {}),
  });
}
