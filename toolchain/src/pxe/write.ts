// Writes a planned netboot tree: the plan's files, GRUB's netboot
// directories (grub-mknetdir, BIOS and UEFI), iPXE's chainloading binaries
// from Debian's ipxe package, the dnsmasq snippet and the manifest. The tree
// is built beside the output and renamed into place at the end, so a failure
// leaves the output as it was; an existing output is replaced only when it
// is empty or a tree this command wrote before.

import { createHash } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { tailLines } from '../../../qemu/emulator.js';
import { runCaptured } from '../image.js';
import { PxeTreeError } from './errors.js';
import { buildManifest, isManifest, MANIFEST_NAME, type Manifest, type ManifestFile } from './manifest.js';
import { dnsmasqEntry, type FileDigest, type TreePlan } from './tree.js';

/** The iPXE binaries a tree carries for vendor PXE ROMs (Debian package ipxe). */
export const IPXE_BINARIES = ['undionly.kpxe', 'ipxe.efi', 'snponly.efi'] as const;

export interface TreeTools {
  /** GRUB's platform directories (grub-pc-bin, grub-efi-amd64-bin). */
  grubBios: string;
  grubEfi: string;
  /** Where IPXE_BINARIES are. */
  ipxeDir: string;
  mknetdir: string;
}

export const DEBIAN_TOOLS: TreeTools = {
  grubBios: '/usr/lib/grub/i386-pc',
  grubEfi: '/usr/lib/grub/x86_64-efi',
  ipxeDir: '/usr/lib/ipxe',
  mknetdir: 'grub-mknetdir',
};

/** Size and SHA-256 of a file, read in 1 MiB pieces (disk images may be large). */
export function hashFile(path: string): FileDigest {
  const h = createHash('sha256');
  const buf = Buffer.alloc(1 << 20);
  const fd = openSync(path, 'r');
  let size = 0;
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
      size += n;
    }
  } finally {
    closeSync(fd);
  }
  return { size, sha256: h.digest('hex') };
}

/** Every regular file under `root`, as paths relative to it with '/' separators. */
function listFiles(root: string, dir = root): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listFiles(root, p));
    else if (e.isFile()) out.push(relative(root, p).split('\\').join('/'));
  }
  return out;
}

/** grub-mknetdir's arguments for one platform (pure): no locales, themes or fonts. */
export function mknetdirArgs(netDir: string, platformDir: string): string[] {
  return [`--net-directory=${netDir}`, '--subdir=boot/grub', '-d', platformDir, '--locales=', '--themes=', '--fonts='];
}

/** Whether `out` may be replaced: it does not exist, is an empty directory, or holds a tree we wrote. */
/** Throws PxeTreeError unless `out` is absent, empty or a tree crossguard wrote (`what`: the option that named it). */
export function checkReplaceable(out: string, what = '--out'): void {
  if (!existsSync(out)) return;
  if (!statSync(out).isDirectory()) throw new PxeTreeError(`${out} exists and is not a directory; give a new or empty directory as ${what}`);
  const names = readdirSync(out);
  if (!names.length) return;
  let m: unknown;
  try {
    m = JSON.parse(readFileSync(join(out, MANIFEST_NAME), 'utf8'));
  } catch {
    m = undefined;
  }
  if (!isManifest(m))
    throw new PxeTreeError(`${out} is not empty and holds no crossguard ${MANIFEST_NAME}; give a new or empty directory as ${what} (nothing was changed)`);
}

/** Puts the finished directory `tmp` (a sibling of `out`) in place of `out`: renames only, so readers see the old tree or the new one. */
export function moveIntoPlace(tmp: string, out: string): void {
  if (existsSync(out)) {
    const old = `${tmp}.old`;
    renameSync(out, old);
    renameSync(tmp, out);
    rmSync(old, { recursive: true, force: true });
  } else renameSync(tmp, out);
}

export interface WriteTreeResult {
  manifest: Manifest;
  /** Bytes of all files, the manifest included. */
  bytes: number;
}

/** Writes `plan` as the tree `out` (see the file comment). */
export async function writeTree(
  outArg: string,
  plan: TreePlan,
  tools: TreeTools = DEBIAN_TOOLS,
  progress: (line: string) => void = () => {},
): Promise<WriteTreeResult> {
  const out = resolve(outArg);
  checkReplaceable(out);
  for (const [dir, pkg] of [
    [tools.grubBios, 'grub-pc-bin'],
    [tools.grubEfi, 'grub-efi-amd64-bin'],
  ] as const)
    if (!existsSync(join(dir, 'moddep.lst'))) throw new PxeTreeError(`${dir} is missing; install ${pkg} (toolchain/setup.sh does)`);
  for (const b of IPXE_BINARIES)
    if (!existsSync(join(tools.ipxeDir, b))) throw new PxeTreeError(`${join(tools.ipxeDir, b)} is missing; install Debian's ipxe package (toolchain/setup.sh does)`);

  mkdirSync(dirname(out), { recursive: true });
  const tmp = mkdtempSync(join(dirname(out), `.${basename(out)}.new-`));
  try {
    chmodSync(tmp, 0o755);
    progress(`writing release ${plan.release}: ${plan.hosts.length - 1} host${plan.hosts.length === 2 ? '' : 's'} by MAC and the default set…`);
    for (const e of [...plan.entries, dnsmasqEntry(out)]) {
      const p = join(tmp, e.path);
      mkdirSync(dirname(p), { recursive: true });
      if (e.from !== undefined) copyFileSync(e.from, p);
      else writeFileSync(p, e.text ?? '');
    }
    for (const b of IPXE_BINARIES) copyFileSync(join(tools.ipxeDir, b), join(tmp, b));
    // grub-mknetdir writes boot/grub/<platform>/ only; our boot/grub/grub.cfg stays.
    for (const dir of [tools.grubBios, tools.grubEfi]) {
      progress(`grub-mknetdir ${basename(dir)}…`);
      const r = await runCaptured(tools.mknetdir, mknetdirArgs(tmp, dir));
      if (r.code !== 0) throw new PxeTreeError(`grub-mknetdir for ${basename(dir)} failed (install grub-common); its output is above`, tailLines(r.output, 15));
    }
    progress('hashing every file for the manifest…');
    const files: ManifestFile[] = listFiles(tmp).map((path) => ({ path, ...hashFile(join(tmp, path)) }));
    const manifest = buildManifest(plan, files);
    const text = JSON.stringify(manifest, null, 2) + '\n';
    writeFileSync(join(tmp, MANIFEST_NAME), text);
    const bytes = files.reduce((n, f) => n + f.size, 0) + Buffer.byteLength(text);
    moveIntoPlace(tmp, out);
    return { manifest, bytes };
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}
