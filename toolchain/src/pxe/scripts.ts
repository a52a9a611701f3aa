// The boot scripts of a netboot tree (pure text). Three loaders read them:
//
//   iPXE (BIOS: QEMU's NIC ROMs, iPXE flashed on a NIC, or undionly.kpxe
//   chainloaded from a vendor PXE ROM): Multiboot1 only. `kernel URI ARGS`,
//   `module URI`, `boot`. The command line a Multiboot kernel or module sees
//   is "URI ARGS": the monitor finds a module by the basename of its first
//   word, so every module's file name is its module name.
//   GRUB netboot (BIOS core.0 and UEFI core.efi): `multiboot2 PATH ARGS`,
//   `module2 PATH NAME`; the command lines are the arguments only.
//
// Every script names files under releases/<id>/, never a moving name, so a
// host reads one consistent release whatever happens to the entry files
// while it boots. The entry files (boot.ipxe, boot-efi.ipxe,
// boot/grub/grub.cfg) are the only ones outside releases/<id>/ that name a
// release, one line each.

import { grubWord } from '../image.js';
import { grubSerialLine, monitorSerial } from '../serial.js';
import { macFileName } from './mac.js';
import { PxeInputError } from './errors.js';

/** One module a host's loader passes to the monitor, in load order. */
export interface ScriptModule {
  /** Module name: the file's basename, also its GRUB argument. */
  name: string;
  /** Path in the tree (releases/<id>/…). */
  path: string;
  /** Bytes: GRUB fetches the large ones over HTTP (GRUB_HTTP_MIN_BYTES). */
  size?: number;
}

/** What one host boots. `mac` undefined: the default for unknown hosts. */
export interface ScriptHost {
  mac?: string;
  /** Where its VM set came from (a file name), for the comments. */
  source: string;
  vms: readonly string[];
  modules: readonly ScriptModule[];
}

export interface ScriptRelease {
  id: string;
  /** Path of the monitor ELF in the tree. */
  monitor: string;
  /** The monitor's arguments, words checked by checkCmdlineWords. */
  args: readonly string[];
  /** iPXE fetches payloads from `${httpBase}/<path>` first, then over TFTP. */
  httpBase?: string;
}

/** Words the scripts pass through unchanged: no iPXE ${...} expansion, no GRUB quoting surprises. */
const PLAIN_WORD = /^[A-Za-z0-9_.,:=+/@%-]+$/;

/** The monitor's command line as words; PxeInputError when one would be changed by iPXE or GRUB. */
export function checkCmdlineWords(cmdline: string): string[] {
  const words = cmdline.split(/\s+/).filter(Boolean);
  for (const w of words)
    if (!PLAIN_WORD.test(w))
      throw new PxeInputError(`--cmdline word ${JSON.stringify(w)} has characters iPXE or GRUB would interpret; use only [A-Za-z0-9_.,:=+/@%-]`);
  if (monitorSerial(cmdline).bad)
    throw new PxeInputError('--cmdline: cg.serial= takes com1, com2 or 0xPORT[,BAUD] with BAUD dividing 115200 (e.g. cg.serial=com2)');
  return words;
}

/** Text safe inside a script comment or a GRUB echo: printable ASCII, no quotes. */
function plain(s: string): string {
  return s.replace(/[^\x20-\x7e]|['"`$\\]/g, '?');
}

function hostTitle(h: ScriptHost): string {
  return `${h.mac ?? 'default (unknown hosts)'}, VM set ${plain(h.source)}${h.vms.length ? ` (${h.vms.map(plain).join(', ')})` : ' (no VMs)'}`;
}

/** Tree path of a host's iPXE script. */
export function ipxeHostPath(release: string, mac?: string): string {
  return `releases/${release}/ipxe/${mac ? macFileName(mac) : 'default'}.ipxe`;
}

/** Tree path of a host's GRUB config. */
export function grubHostPath(release: string, mac?: string): string {
  return `releases/${release}/grub/${mac ? macFileName(mac) : 'default'}.cfg`;
}

/**
 * boot.ipxe: what DHCP hands an iPXE client on BIOS (user class "iPXE").
 * Next to a lab's own DHCP server (`pxe serve --proxy`) iPXE's
 * ${next-server} is that server's, from its DHCP answer, not the tree's
 * server (seen: an HTTP base of `http://${next-server}` sent iPXE to the lab
 * DHCP server and the set came over TFTP). The server that answered the
 * PXE boot server request (pxebs) or the proxy-DHCP offer is the tree's:
 * its address becomes ${next-server} (a setting of the global scope, which
 * iPXE reads before the DHCP ones) for the scripts that follow.
 */
export function ipxeEntry(release: string): string {
  return [
    '#!ipxe',
    `# crossguard netboot entry (iPXE, BIOS): release ${release}`,
    'isset ${proxydhcp/next-server} || goto no-proxydhcp',
    'set next-server ${proxydhcp/next-server}',
    ':no-proxydhcp',
    'isset ${pxebs/next-server} || goto no-pxebs',
    'set next-server ${pxebs/next-server}',
    ':no-pxebs',
    `chain /releases/${release}/ipxe/boot.ipxe`,
    '',
  ].join('\n');
}

/**
 * boot-efi.ipxe: an iPXE client on UEFI (iPXE flashed on a NIC, ipxe.efi or
 * snponly.efi) cannot load Multiboot: it hands over to GRUB EFI, which
 * finds its network through the PXE base code iPXE provides.
 */
export function ipxeEfiEntry(): string {
  return [
    '#!ipxe',
    '# crossguard netboot entry (iPXE on UEFI): UEFI iPXE has no Multiboot, GRUB EFI boots the monitor',
    'chain /boot/grub/x86_64-efi/core.efi',
    '',
  ].join('\n');
}

/**
 * releases/<id>/ipxe/boot.ipxe: picks the host's script by ${mac}. A jump,
 * not `chain … ||`, so a host whose own boot fails stops there instead of
 * falling through to another host's set.
 */
export function ipxeDispatch(release: string, hosts: readonly ScriptHost[]): string {
  const known = hosts.filter((h) => h.mac);
  const out = ['#!ipxe', `# crossguard release ${release}: this host's VM set, chosen by its MAC`];
  known.forEach((h, i) => out.push(`iseq \${mac} ${h.mac} && goto h${i} ||`));
  out.push(`chain ${'/' + ipxeHostPath(release)}`);
  known.forEach((h, i) => out.push(`:h${i}`, `chain /${ipxeHostPath(release, h.mac)}`));
  return out.join('\n') + '\n';
}

/**
 * One host's iPXE script: the monitor and its modules, over HTTP first when
 * the tree has an HTTP base. A host iPXE could not hand its modules whole
 * (ipxeLimitProblem) is sent on to GRUB's BIOS netboot image, which has no
 * such limits and boots the same set.
 */
export function ipxeHost(r: ScriptRelease, h: ScriptHost): string {
  const problem = ipxeLimitProblem(r, h);
  if (problem)
    return ['#!ipxe', `# crossguard release ${r.id}: ${hostTitle(h)}`, `echo crossguard: ${plain(problem)}: booting GRUB instead`, 'chain /boot/grub/i386-pc/core.0', ''].join('\n');
  const args = r.args.length ? ` ${r.args.join(' ')}` : '';
  const block = (base: string) => [
    `kernel ${base}/${r.monitor}${args}`,
    ...h.modules.map((m) => `module ${base}/${m.path}`),
    'boot',
  ];
  const out = ['#!ipxe', `# crossguard release ${r.id}: ${hostTitle(h)}`, `echo crossguard: release ${r.id}, host \${mac}, VM set ${plain(h.source)}`];
  if (r.httpBase) {
    // One probe: if the monitor cannot come over HTTP, everything comes over TFTP.
    const [kernel, ...rest] = block(r.httpBase);
    out.push(`${kernel} || goto tftp`, ...rest, ':tftp');
  }
  out.push(...block(''));
  return out.join('\n') + '\n';
}

/** boot/grub/grub.cfg: GRUB netboot's entry (BIOS core.0 and UEFI core.efi read it). */
export function grubEntry(release: string): string {
  return [`# crossguard netboot entry (GRUB, BIOS and UEFI): release ${release}`, `source /releases/${release}/grub/boot.cfg`, ''].join('\n');
}

/**
 * releases/<id>/grub/boot.cfg: serial console on the monitor's port (its
 * cg.serial= among `args`), then the host's config by $net_default_mac.
 */
export function grubDispatch(release: string, hosts: readonly ScriptHost[], args: readonly string[] = []): string {
  const known = hosts.filter((h) => h.mac);
  const out = [
    `# crossguard release ${release}: this host's VM set, chosen by its MAC`,
    grubSerialLine(args.join(' ')),
    'terminal_input serial console',
    'terminal_output serial console',
    'set timeout=0',
    'set default=0',
  ];
  known.forEach((h, i) => {
    out.push(`${i ? 'elif' : 'if'} [ "$net_default_mac" = "${h.mac}" ]; then`, `\tsource /${grubHostPath(release, h.mac)}`);
  });
  if (known.length) out.push('else', `\tsource /${grubHostPath(release)}`, 'fi');
  else out.push(`source /${grubHostPath(release)}`);
  return out.join('\n') + '\n';
}

/**
 * GRUB's device for an HTTP base (pure): `(http,SERVER[:PORT])/PREFIX`, the
 * lab server being GRUB's `$net_default_server` (the DHCP next-server) for
 * `${next-server}`. Null when GRUB could not use it (another iPXE setting,
 * characters GRUB's parser would take apart): TFTP then.
 */
export function grubHttpRoot(httpBase: string | undefined): string | null {
  const m = httpBase ? /^http:\/\/(\$\{next-server\}|[A-Za-z0-9.-]+)(?::(\d{1,5}))?((?:\/[A-Za-z0-9._~-]+)*)\/?$/.exec(httpBase) : null;
  if (!m) return null;
  const server = m[1] === '${next-server}' ? '$net_default_server' : m[1];
  const port = m[2] && Number(m[2]) !== 80 ? `:${Number(m[2])}` : '';
  return `(http,${server}${port})${m[3] ?? ''}`;
}

/**
 * Payloads at least this big come to GRUB over HTTP when the tree has a
 * base GRUB can use. Below it GRUB's TFTP is quicker: measured here under
 * QEMU TCG, GRUB EFI took 3 s longer to bring a 260 KiB monitor and two
 * 100 KiB kernels over HTTP; above it HTTP wins (a 16 MiB module: +3.8 s
 * over GRUB's TFTP, pxe-lab notes).
 */
export const GRUB_HTTP_MIN_BYTES = 1 << 20;

/**
 * One host's GRUB config: a single Multiboot2 entry. With an HTTP base GRUB
 * can use, each large payload is tried over HTTP and, if that fails, loaded
 * over TFTP; the monitor and small payloads come over TFTP.
 */
export function grubHost(r: ScriptRelease, h: ScriptHost): string {
  const args = r.args.length ? ` ${r.args.map(grubWord).join(' ')}` : '';
  const http = grubHttpRoot(r.httpBase);
  const overHttp = (m: ScriptModule) => http !== null && (m.size ?? 0) >= GRUB_HTTP_MIN_BYTES;
  const load = h.modules.flatMap((m) =>
    overHttp(m)
      ? [
          `\tif module2 ${http}/${m.path} ${m.name}; then true; else`,
          `\t\techo "crossguard: ${m.name} not over HTTP, loading it over TFTP"`,
          `\t\tmodule2 /${m.path} ${m.name}`,
          '\tfi',
        ]
      : [`\tmodule2 /${m.path} ${m.name}`],
  );
  return [
    `# crossguard release ${r.id}: ${hostTitle(h)}`,
    `menuentry 'crossguard ${h.mac ?? 'default'} (release ${r.id})' {`,
    `\techo "crossguard: release ${r.id}, host $net_default_mac, VM set ${plain(h.source)}"`,
    ...(h.modules.some(overHttp) ? ['\tinsmod http'] : []),
    `\tmultiboot2 /${r.monitor}${args}`,
    ...load,
    '\tboot',
    '}',
    '',
  ].join('\n');
}

/**
 * iPXE's Multiboot loader (src/arch/x86/image/multiboot.c) keeps at most 8
 * modules and 512 bytes of command lines, kernel's and modules' together,
 * each "URI ARGS" plus a NUL; past either it drops or cuts them silently.
 */
export const IPXE_MULTIBOOT = { maxModules: 8, cmdlineBytes: 512 } as const;

/** Longest text an iPXE setting expands to in a URI: ${next-server} is a dotted quad, others counted generously. */
function expandedLength(s: string): number {
  return s.replace(/\$\{next-server\}/g, '255.255.255.255').replace(/\$\{[^}]*\}/g, 'x'.repeat(64)).length;
}

/** Bytes of command lines iPXE builds for this host, at worst (the longer of HTTP and TFTP URIs). */
export function ipxeCmdlineBytes(r: ScriptRelease, h: ScriptHost): number {
  const uri = (path: string) =>
    Math.max(expandedLength(`tftp://\${next-server}/${path}`), r.httpBase ? expandedLength(`${r.httpBase}/${path}`) : 0);
  const args = r.args.join(' ');
  let n = uri(r.monitor) + (args ? 1 + args.length : 0) + 1;
  for (const m of h.modules) n += uri(m.path) + 1;
  return n;
}

/** Why iPXE could not hand this host's modules to the monitor whole, or null. */
export function ipxeLimitProblem(r: ScriptRelease, h: ScriptHost): string | null {
  const who = h.mac ? `host ${h.mac}` : 'the default set';
  if (h.modules.length > IPXE_MULTIBOOT.maxModules)
    return `${who} needs ${h.modules.length} modules, iPXE passes at most ${IPXE_MULTIBOOT.maxModules}`;
  const bytes = ipxeCmdlineBytes(r, h);
  if (bytes > IPXE_MULTIBOOT.cmdlineBytes) return `${who} needs up to ${bytes} bytes of command lines, iPXE passes ${IPXE_MULTIBOOT.cmdlineBytes}`;
  return null;
}
