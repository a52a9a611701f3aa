// dnsmasq for a netboot tree (pure text): the boot rules every lab needs,
// written into the tree as dnsmasq-crossguard.conf (docs/pxe.md), and the
// whole configuration `crossguard run --boot pxe` gives the dnsmasq it
// starts in its own network namespace.
//
// The rules pick the first file by DHCP option 93 (client architecture: 0
// BIOS, 7 and 9 x86-64 UEFI) and by the user class iPXE sends ("iPXE"):
//   BIOS, vendor PXE ROM    -> undionly.kpxe (iPXE over the ROM's UNDI driver)
//   BIOS, iPXE              -> boot.ipxe (so undionly.kpxe does not load itself again)
//   UEFI, vendor PXE        -> GRUB EFI (UEFI iPXE has no Multiboot loader)
//   UEFI, iPXE              -> boot-efi.ipxe, which chains GRUB EFI
// Each line's tags exclude every other line's, so exactly one matches and
// the order of the lines does not matter (dnsmasq checks dhcp-boot lines
// last-first, and an untagged line there would shadow the others).

import { LabNetworkError } from './errors.js';

/** What a BIOS machine loads first: iPXE (the default) or GRUB's netboot image. */
export type BiosLoader = 'ipxe' | 'grub';

export const BOOT_FILES = {
  undionly: 'undionly.kpxe',
  ipxeScript: 'boot.ipxe',
  ipxeEfiScript: 'boot-efi.ipxe',
  grubBios: 'boot/grub/i386-pc/core.0',
  grubEfi: 'boot/grub/x86_64-efi/core.efi',
} as const;

/** The tag and boot-file lines (pure). `biosLoader` 'grub' sends every BIOS client to GRUB's core.0. */
export function bootRules(biosLoader: BiosLoader = 'ipxe'): string[] {
  const bios =
    biosLoader === 'ipxe'
      ? [
          `dhcp-boot=tag:!efi64,tag:!ipxe,${BOOT_FILES.undionly}`,
          `dhcp-boot=tag:!efi64,tag:ipxe,${BOOT_FILES.ipxeScript}`,
        ]
      : [`dhcp-boot=tag:!efi64,${BOOT_FILES.grubBios}`];
  return [
    'dhcp-match=set:efi64,option:client-arch,7',
    'dhcp-match=set:efi64,option:client-arch,9',
    'dhcp-userclass=set:ipxe,iPXE',
    ...bios,
    `dhcp-boot=tag:efi64,tag:!ipxe,${BOOT_FILES.grubEfi}`,
    `dhcp-boot=tag:efi64,tag:ipxe,${BOOT_FILES.ipxeEfiScript}`,
  ];
}

/** A value dnsmasq reads to the end of the line: no newline, no NUL. */
function confValue(what: string, v: string): string {
  if (/[\n\r\0]/.test(v)) throw new LabNetworkError(`${what} ${JSON.stringify(v)} has a line break; dnsmasq cannot take it`);
  return v;
}

/** dnsmasq-crossguard.conf, the snippet the tree carries (pure). */
export function dnsmasqSnippet(treeRoot: string): string {
  return [
    '# crossguard netboot tree: the dnsmasq lines it needs (docs/pxe.md).',
    '# Add your own interface= and dhcp-range= (or dhcp-range=…,proxy next to an',
    '# existing DHCP server); set tftp-root to where this directory is served.',
    'enable-tftp',
    `tftp-root=${confValue('the tree path', treeRoot)}`,
    ...bootRules('ipxe'),
    '# BIOS machines through GRUB instead of iPXE: replace the two tag:!efi64 lines with',
    `#   dhcp-boot=tag:!efi64,${BOOT_FILES.grubBios}`,
    '# UEFI machines through iPXE first (e.g. for its HTTP): replace the tag:efi64,tag:!ipxe line with',
    '#   dhcp-boot=tag:efi64,tag:!ipxe,snponly.efi',
    '# iPXE waits ~13 s for IPv6 autoconfiguration unless a router advertises;',
    '# on a lab network without one, dnsmasq can: enable-ra and dhcp-range=<prefix>::,ra-only,64',
    '',
  ].join('\n');
}

/** The emulated lab network `run --boot pxe` makes: addresses inside its own namespace. */
export const LAB_NET = {
  server: '192.168.77.1',
  prefixLen: 24,
  rangeStart: '192.168.77.10',
  rangeEnd: '192.168.77.99',
  /** An IPv6 prefix for router advertisements only: iPXE then stops waiting for IPv6 at once. */
  server6: 'fd77::1',
} as const;

export interface LabDnsmasqOptions {
  iface: string;
  treeRoot: string;
  leaseFile: string;
  pidFile: string;
  biosLoader: BiosLoader;
}

/** The whole dnsmasq.conf for the emulated lab network (pure): DHCP, RA and TFTP, no DNS. */
export function labDnsmasqConf(o: LabDnsmasqOptions): string {
  return [
    '# written by crossguard run --boot pxe',
    'port=0',
    'no-resolv',
    'no-hosts',
    'user=root',
    'bind-interfaces',
    `interface=${confValue('the interface', o.iface)}`,
    `dhcp-range=${LAB_NET.rangeStart},${LAB_NET.rangeEnd},255.255.255.0,1h`,
    'dhcp-range=fd77::,ra-only,64',
    'enable-ra',
    `dhcp-leasefile=${confValue('the lease file', o.leaseFile)}`,
    `pid-file=${confValue('the pid file', o.pidFile)}`,
    'log-dhcp',
    'enable-tftp',
    `tftp-root=${confValue('the tree path', o.treeRoot)}`,
    ...bootRules(o.biosLoader),
    '',
  ].join('\n');
}
