// The layout of a netboot tree (pure: files are hashed through an injected
// function). One directory a TFTP (and HTTP) server serves as it is:
//
//   boot.ipxe, boot-efi.ipxe, boot/grub/grub.cfg   entry files: one line naming the release
//   undionly.kpxe, ipxe.efi, snponly.efi           iPXE for vendor PXE ROMs (Debian's ipxe)
//   boot/grub/i386-pc/, boot/grub/x86_64-efi/      GRUB netboot (grub-mknetdir)
//   dnsmasq-crossguard.conf                        the DHCP/TFTP boot rules (dnsmasq.ts)
//   manifest.json                                  size and SHA-256 of every other file
//   releases/<id>/crossguard.elf                   the monitor
//   releases/<id>/<sha12>                          each kernel, initrd and disk image, once
//   releases/<id>/sets/<sha12>/vms.cfg             each distinct VM set, once
//   releases/<id>/ipxe/, releases/<id>/grub/       the per-host scripts and the MAC dispatch
//
// A payload's file name is the first 12 hex digits of its SHA-256, and that
// is also its module name in vms.cfg: the monitor finds a module by the
// basename of the first word of its Multiboot command line (iPXE: the URI;
// GRUB: the argument we give, the same name), so two different files can
// never meet under one name, and one file used by many VMs or hosts is
// stored and loaded once. Every set's config is called vms.cfg (the name the
// monitor looks for) and sets differ by directory.

import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { emitVmsCfg, VMCFG_NAME, type ModuleNames } from '../vmcfg.js';
import type { VmDesc, VmImageDesc, VmSet } from '../vms.js';
import { PxeInputError } from './errors.js';
import { dnsmasqSnippet } from './dnsmasq.js';
import {
  checkCmdlineWords,
  grubDispatch,
  grubEntry,
  grubHost,
  grubHostPath,
  ipxeDispatch,
  ipxeEfiEntry,
  ipxeEntry,
  ipxeHost,
  ipxeHostPath,
  ipxeLimitProblem,
  type ScriptHost,
  type ScriptModule,
  type ScriptRelease,
} from './scripts.js';

/** Size and SHA-256 (hex) of a file. */
export interface FileDigest {
  size: number;
  sha256: string;
}

export type HashFile = (path: string) => FileDigest;

/** One host's input: its MAC (absent for the default) and its checked VM set (absent: the monitor alone). */
export interface HostInput {
  mac?: string;
  /** Where the set came from, for people: the --host/--vms file. */
  source: string;
  set?: VmSet;
}

export interface TreeInput {
  monitorElf: string;
  cmdline: string;
  /** Hosts by MAC, each at most once (parseHostArgs checks). */
  hosts: readonly HostInput[];
  /** What unknown hosts boot. */
  fallback: HostInput;
  /** Where iPXE fetches payloads over HTTP (`http://${next-server}`, `http://host:port/dir`); absent: TFTP only. */
  httpBase?: string;
  /** Release id; default: derived from the content. */
  release?: string;
  /** The largest file the tree may hold (bytes); default TFTP_SAFE_FILE_BYTES. */
  maxFileBytes?: number;
}

/**
 * The largest file a tree holds unless --max-file-bytes says otherwise:
 * 65535 TFTP blocks of 512 bytes. A TFTP client that negotiates no larger
 * block (RFC 2348's blksize) gets 512 bytes a block, and the 16-bit block
 * number ends at 65535 for a client or server that does not roll it over;
 * and every file of the tree may travel over TFTP (the scripts fall back to
 * TFTP when HTTP fails, Bochs' slirp serves TFTP only, a tree without
 * --http-base is TFTP throughout).
 */
export const TFTP_SAFE_FILE_BYTES = 65535 * 512;

/** A file of the tree: copied from `from`, or written from `text`. */
export interface TreeEntry {
  path: string;
  from?: string;
  text?: string;
}

/** One module a host loads, as the manifest lists it. */
export interface PlannedModule extends ScriptModule {
  size: number;
  sha256: string;
  /** What it is, for people: "vms.cfg", "kernel of web1 (guests/smp.elf)", "disk image base (base.img)". */
  what: string;
}

export interface PlannedHost {
  mac?: string;
  source: string;
  vms: string[];
  /** Tree path of its vms.cfg; absent when it has no VM set. */
  set?: string;
  modules: PlannedModule[];
  ipxe: string;
  grub: string;
}

export interface TreePlan {
  release: string;
  monitor: string;
  cmdline: string;
  httpBase?: string;
  /** Everything but GRUB's netboot directories, the iPXE binaries and the manifest (write.ts adds those). */
  entries: TreeEntry[];
  /** Hosts by MAC, then the default. */
  hosts: PlannedHost[];
  /** Things the operator should know (a host iPXE hands on to GRUB). */
  notes: string[];
}

export const RELEASE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/;
const NAME_HEX = 12;

function sha256Hex(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/** The --http-base value, without a trailing slash; PxeInputError when iPXE could not fetch from it. */
export function checkHttpBase(v: string): string {
  const base = v.replace(/\/+$/, '');
  if (!/^https?:\/\/[^\s/]+(\/[^\s]*)?$/.test(base) || /["'\\]/.test(base))
    throw new PxeInputError(`--http-base ${JSON.stringify(v)} is not an http:// URL; give e.g. http://\${next-server} or http://10.0.0.5:8080/pxe`);
  return base;
}

/** Refuses a tree with a file over the limit (PxeInputError), naming the biggest such file and the ways out. */
function checkFileSizes(monitorElf: string, monitorSize: number, payloads: ReadonlyMap<string, { from: string; size: number }>, limit: number): void {
  if (!Number.isInteger(limit) || limit < 1) throw new PxeInputError(`--max-file-bytes ${limit} is not a positive whole number of bytes`);
  const over = [{ from: monitorElf, size: monitorSize }, ...payloads.values()].filter((f) => f.size > limit).sort((a, b) => b.size - a.size);
  if (!over.length) return;
  const more = over.length > 1 ? ` (and ${over.length - 1} more)` : '';
  throw new PxeInputError(
    `${over[0]!.from} is ${over[0]!.size} bytes, over the tree's limit of ${limit} bytes a file${more}: ` +
      `${limit === TFTP_SAFE_FILE_BYTES ? '65535 TFTP blocks of 512 bytes, what every TFTP client can fetch' : 'from --max-file-bytes'}; ` +
      'make it smaller, or serve the tree with --http-base and raise --max-file-bytes if every loader of the lab fetches it over HTTP or takes larger TFTP blocks',
  );
}

/** Plans the whole tree (pure but for `hash`). Throws PxeInputError on input the loaders could not boot. */
export function planTree(input: TreeInput, hash: HashFile): TreePlan {
  const args = checkCmdlineWords(input.cmdline);
  const httpBase = input.httpBase === undefined ? undefined : checkHttpBase(input.httpBase);
  if (input.release !== undefined && !RELEASE_ID.test(input.release))
    throw new PxeInputError(`--release ${JSON.stringify(input.release)} is not [A-Za-z0-9][A-Za-z0-9._-]{0,31}`);
  const seen = new Set<string>();
  for (const h of input.hosts) {
    if (!h.mac) throw new PxeInputError(`host ${h.source} has no MAC`);
    if (seen.has(h.mac)) throw new PxeInputError(`MAC ${h.mac} is given twice; give each host one --host MAC=FILE`);
    seen.add(h.mac);
  }

  // Payloads by content: sha256 -> name and source file.
  const payloads = new Map<string, { name: string; from: string; size: number }>();
  const digests = new Map<string, FileDigest>();
  const digestOf = (path: string): FileDigest => {
    let d = digests.get(path);
    if (!d) digests.set(path, (d = hash(path)));
    return d;
  };
  const nameOf = (path: string): string => {
    const d = digestOf(path);
    const name = d.sha256.slice(0, NAME_HEX);
    for (const [sha, p] of payloads)
      if (p.name === name && sha !== d.sha256)
        throw new PxeInputError(`${path} and ${p.from} share the first ${NAME_HEX} hex digits of their SHA-256 (a collision crossguard does not expect: please report it)`);
    if (!payloads.has(d.sha256)) payloads.set(d.sha256, { name, from: path, size: d.size });
    return name;
  };
  const names: ModuleNames = {
    kernel: (vm: VmDesc) => nameOf(vm.kernel.path),
    module: (vm: VmDesc, i: number) => nameOf(vm.modules[i]!.path),
    image: (img: VmImageDesc) => nameOf(img.path),
  };

  const monitor = digestOf(input.monitorElf);
  const all = [...input.hosts, input.fallback];
  const cfgs = all.map((h) => (h.set ? emitVmsCfg(h.set, names) : undefined));
  checkFileSizes(input.monitorElf, monitor.size, payloads, input.maxFileBytes ?? TFTP_SAFE_FILE_BYTES);
  const release =
    input.release ??
    sha256Hex(
      JSON.stringify({
        monitor: monitor.sha256,
        args,
        httpBase: httpBase ?? null,
        hosts: all.map((h, i) => [h.mac ?? null, cfgs[i] ?? null]),
        payloads: [...payloads.keys()].sort(),
      }),
    ).slice(0, NAME_HEX);
  const dir = `releases/${release}`;
  const r: ScriptRelease = { id: release, monitor: `${dir}/crossguard.elf`, args, ...(httpBase ? { httpBase } : {}) };

  const entries: TreeEntry[] = [{ path: r.monitor, from: input.monitorElf }];
  const setPaths = new Map<string, string>();
  const notes: string[] = [];
  const hosts: PlannedHost[] = all.map((h, i) => {
    const cfg = cfgs[i];
    const modules: PlannedModule[] = [];
    let set: string | undefined;
    if (cfg !== undefined && h.set) {
      const sha = sha256Hex(cfg);
      set = `${dir}/sets/${sha.slice(0, NAME_HEX)}/${VMCFG_NAME}`;
      if (!setPaths.has(set)) {
        setPaths.set(set, cfg);
        entries.push({ path: set, text: cfg });
      }
      modules.push({ name: VMCFG_NAME, path: set, size: Buffer.byteLength(cfg), sha256: sha, what: VMCFG_NAME });
      const add = (path: string, what: string) => {
        const name = nameOf(path);
        if (modules.some((m) => m.name === name)) return;
        const d = digestOf(path);
        modules.push({ name, path: `${dir}/${name}`, size: d.size, sha256: d.sha256, what: `${what} (${basename(path)})` });
      };
      for (const img of h.set.images ?? []) add(img.path, `disk image ${img.name}`);
      for (const vm of h.set.vms) {
        add(vm.kernel.path, `kernel of ${vm.name}`);
        vm.modules.forEach((m, j) => add(m.path, `${vm.linux ? 'initrd' : `module ${j}`} of ${vm.name}`));
      }
    }
    const planned: PlannedHost = {
      ...(h.mac ? { mac: h.mac } : {}),
      source: h.source,
      vms: h.set?.vms.map((v) => v.name) ?? [],
      ...(set ? { set } : {}),
      modules,
      ipxe: ipxeHostPath(release, h.mac),
      grub: grubHostPath(release, h.mac),
    };
    const problem = ipxeLimitProblem(r, planned);
    if (problem) notes.push(`${problem}: its iPXE script chains GRUB's BIOS netboot image (docs/pxe.md)`);
    return planned;
  });
  for (const [, p] of payloads) entries.push({ path: `${dir}/${p.name}`, from: p.from });

  const scriptHosts: ScriptHost[] = hosts;
  entries.push(
    { path: 'boot.ipxe', text: ipxeEntry(release) },
    { path: 'boot-efi.ipxe', text: ipxeEfiEntry() },
    { path: 'boot/grub/grub.cfg', text: grubEntry(release) },
    { path: `${dir}/ipxe/boot.ipxe`, text: ipxeDispatch(release, scriptHosts) },
    { path: `${dir}/grub/boot.cfg`, text: grubDispatch(release, scriptHosts, args) },
  );
  for (const h of hosts) entries.push({ path: h.ipxe, text: ipxeHost(r, h) }, { path: h.grub, text: grubHost(r, h) });
  return { release, monitor: r.monitor, cmdline: args.join(' '), ...(httpBase ? { httpBase } : {}), entries, hosts, notes };
}

/** The snippet entry, separate because it names where the tree will be served (absolute path). */
export function dnsmasqEntry(treeRoot: string): TreeEntry {
  return { path: 'dnsmasq-crossguard.conf', text: dnsmasqSnippet(treeRoot) };
}
