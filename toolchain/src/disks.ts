// Disk images and the VMs' disks in a VM description (docs/vm-config.md):
// top-level "images" names each raw image file once; a VM's "disks" attach
// them as virtio-blk devices, read-only or read-write over the VM's own
// copy-on-write overlay, optionally throttled. The image file is packed
// once as a boot module and shared by every VM that uses it: the monitor
// never writes it (writes go to the overlays in its memory).

import { Checker, isObject, show } from './checker.js';

export const IMAGE_NAME = /^[a-z][a-z0-9_-]{0,30}$/;
export const DISK_LIMITS = {
  /** What the monitor keeps (vms.cfg: at most 8 image lines, 4 disk lines per VM). */
  images: 8,
  disksPerVm: 4,
  sector: 512,
  /** GRUB loads every module below 4 GiB (Multiboot's 32-bit module addresses). */
  imageMaxBytes: 2 * 1024 * 1024 * 1024,
  iopsMax: 1_000_000,
  /** One sector a second; below it a bucket could never pass a request. */
  bytesPerSecMin: 512,
  bytesPerSecMax: 1_000_000_000_000,
  /** An overlay quota above what rewriting the largest image costs is pointless (the monitor's VMCFG_OVERLAY_MAX_MIB). */
  overlayMaxMiB: 2053,
  /** The overlay's grain and its index pages' reach (blk_overlay.h). */
  overlayBlock: 4096,
  overlayBlocksPerIndex: 512,
} as const;

export interface VmImageDesc {
  name: string;
  /** Path as written in the JSON. */
  given: string;
  /** Absolute path on this host. */
  path: string;
  bytes: number;
}

export type DiskMode = 'ro' | 'rw';
/** What happens to a rw disk's overlay when the VM resets: kept, or thrown away (the disk reads as the image again). */
export type DiskOverlay = 'keep' | 'discard';

export interface VmDiskDesc {
  image: string;
  mode: DiskMode;
  /** Always 'keep' for 'ro' (nothing to throw away). */
  overlay: DiskOverlay;
  /** Token buckets; 0 = unlimited. */
  iops: number;
  bytesPerSec: number;
  /** rw only, when given: the most monitor memory (MiB) the overlay may hold; absent = what rewriting the whole image costs. */
  overlayMaxMiB?: number;
}

const DISK_KEYS = ['image', 'mode', 'overlay', 'iops', 'bytes_per_s', 'overlay_max_mib'];

const MIB = 1024 * 1024;

/**
 * MiB of monitor memory a rw disk's overlay may hold at most: its quota, or
 * by default what rewriting every block of an imageBytes image costs (data
 * blocks and index pages, as blk_overlay_full_pages counts them); a quota
 * above that is worth only that. 0 for a ro disk.
 */
export function overlayQuotaMiB(d: VmDiskDesc, imageBytes: number): number {
  if (d.mode !== 'rw') return 0;
  const blocks = Math.ceil(imageBytes / DISK_LIMITS.overlayBlock);
  const full = Math.ceil(((blocks + Math.ceil(blocks / DISK_LIMITS.overlayBlocksPerIndex)) * DISK_LIMITS.overlayBlock) / MIB);
  return d.overlayMaxMiB === undefined ? full : Math.min(d.overlayMaxMiB, full);
}

/** The module that carries an image: `<name>.img` never collides with `<vm>.kernel` or `<vm>.m<i>`. */
export function imageModuleName(image: string): string {
  return `${image}.img`;
}

/**
 * Checks top-level "images". Returns the valid images (declaration order) and
 * every declared name, valid or not, so a disk naming a broken image is not
 * also reported as undeclared.
 */
export function checkImages(c: Checker, v: unknown): { images: VmImageDesc[]; declared: Set<string> } {
  const images: VmImageDesc[] = [];
  const declared = new Set<string>();
  if (v === undefined) return { images, declared };
  if (!isObject(v)) {
    c.bad('images', `${show(v)} is not an object; write "images": { "base": "disks/base.img" }`);
    return { images, declared };
  }
  const names = Object.keys(v);
  for (const n of names) declared.add(n);
  if (names.length > DISK_LIMITS.images) {
    c.bad('images', `${names.length} images is over the limit of ${DISK_LIMITS.images}; share images between VMs or merge them`);
    return { images, declared };
  }
  for (const name of names) {
    const at = `images.${name}`;
    if (!IMAGE_NAME.test(name)) {
      c.bad(at, `${show(name)} is not a valid image name; use 1 to 31 of a-z, 0-9, _ and -, starting with a letter`);
      continue;
    }
    const file = c.file(at, v[name], false);
    if (!file) continue;
    const bytes = c.files.size?.(file.path) ?? null;
    if (bytes === null) c.bad(at, `${show(file.given)} is not a regular file; give a raw disk image file`);
    else if (bytes === 0 || bytes % DISK_LIMITS.sector !== 0)
      c.bad(at, `${show(file.given)} is ${bytes} bytes, not a whole number of 512-byte sectors; pad it (truncate -s %512 FILE) or use a raw image`);
    else if (bytes > DISK_LIMITS.imageMaxBytes)
      c.bad(at, `${show(file.given)} is ${bytes} bytes, over the limit of ${DISK_LIMITS.imageMaxBytes} (it is loaded into RAM below 4 GiB); use a smaller image`);
    else images.push({ name, ...file, bytes });
  }
  return { images, declared };
}

function checkDisk(c: Checker, at: string, d: unknown, images: Map<string, VmImageDesc>, declared: Set<string>): VmDiskDesc | undefined {
  if (!isObject(d)) {
    c.bad(at, `${show(d)} is not an object; write { "image": "base", "mode": "rw" }`);
    return undefined;
  }
  const before = c.problems.length;
  c.keys(at, d, DISK_KEYS);
  let image: string | undefined;
  if (d.image === undefined) c.bad(`${at}.image`, 'missing; name one of the top-level "images"');
  else if (typeof d.image !== 'string' || !declared.has(d.image)) {
    const known = [...declared];
    c.bad(
      `${at}.image`,
      known.length
        ? `${show(d.image)} is not declared in "images"; use one of ${known.map((k) => JSON.stringify(k)).join(', ')} or declare it`
        : `${show(d.image)} is not declared; add "images": { ${JSON.stringify(typeof d.image === 'string' ? d.image : 'base')}: "FILE" } at the top level`,
    );
  } else if (images.has(d.image)) image = d.image;
  let mode: DiskMode | undefined;
  if (d.mode === undefined) c.bad(`${at}.mode`, 'missing; give "ro" (read the image) or "rw" (writes go to this VM\'s own overlay)');
  else if (d.mode === 'ro' || d.mode === 'rw') mode = d.mode;
  else c.bad(`${at}.mode`, `${show(d.mode)} is not "ro" or "rw"; use one of those`);
  let overlay: DiskOverlay = 'keep';
  if (d.overlay !== undefined) {
    if (mode === 'ro') c.bad(`${at}.overlay`, `${show(d.overlay)} given for a read-only disk, which has no overlay; remove it or set "mode": "rw"`);
    else if (d.overlay === 'keep' || d.overlay === 'discard') overlay = d.overlay;
    else c.bad(`${at}.overlay`, `${show(d.overlay)} is not "keep" or "discard"; use "keep" (the default: writes survive a VM reset) or "discard"`);
  }
  const iops = d.iops === undefined ? 0 : c.int(`${at}.iops`, d.iops, 0, DISK_LIMITS.iopsMax, ' requests a second (0 = unlimited)');
  const bps = d.bytes_per_s === undefined ? 0 : c.int(`${at}.bytes_per_s`, d.bytes_per_s, 0, DISK_LIMITS.bytesPerSecMax, ' bytes a second (0 = unlimited)');
  if (bps !== undefined && bps > 0 && bps < DISK_LIMITS.bytesPerSecMin)
    c.bad(`${at}.bytes_per_s`, `${bps} is below one sector a second; give 0 (unlimited) or at least ${DISK_LIMITS.bytesPerSecMin}`);
  let quota: number | undefined;
  if (d.overlay_max_mib !== undefined) {
    if (mode === 'ro') c.bad(`${at}.overlay_max_mib`, `${show(d.overlay_max_mib)} given for a read-only disk, which has no overlay; remove it or set "mode": "rw"`);
    else quota = c.int(`${at}.overlay_max_mib`, d.overlay_max_mib, 1, DISK_LIMITS.overlayMaxMiB, ' MiB of overlay (leave it out for the image\'s size)');
  }
  if (c.problems.length !== before || !image || !mode || iops === undefined || bps === undefined) return undefined;
  return { image, mode, overlay, iops, bytesPerSec: bps, ...(quota !== undefined ? { overlayMaxMiB: quota } : {}) };
}

/** Checks a VM's "disks" (at `at`); undefined when it has problems (recorded in `c`). */
export function checkDisks(c: Checker, at: string, v: unknown, images: Map<string, VmImageDesc>, declared: Set<string>): VmDiskDesc[] | undefined {
  if (!Array.isArray(v)) {
    c.bad(at, `${show(v)} is not a list; write [ { "image": "base", "mode": "rw" } ]`);
    return undefined;
  }
  if (v.length > DISK_LIMITS.disksPerVm) {
    c.bad(at, `${v.length} disks is over the limit of ${DISK_LIMITS.disksPerVm}; give the VM fewer disks`);
    return undefined;
  }
  const before = c.problems.length;
  const disks = v.map((d: unknown, i: number) => checkDisk(c, `${at}[${i}]`, d, images, declared));
  return c.problems.length === before ? (disks as VmDiskDesc[]) : undefined;
}

/** The images some VM uses, in declaration order (only those are packed). */
export function usedImages(images: readonly VmImageDesc[], disks: readonly (readonly VmDiskDesc[] | undefined)[]): VmImageDesc[] {
  const used = new Set(disks.flatMap((ds) => (ds ?? []).map((d) => d.image)));
  return images.filter((i) => used.has(i.name));
}
