// Shared by the disk boot tests: a deterministic base image, the checksum
// and patterns the vblk guest (test/guests/vblk.c) prints, its output
// lines.

import type { BootOutcome } from './pool.js';

export const SECTOR = 512;

/** The example image's layout (examples/disks/make-base.sh): "cg-base sector NNNNNN" padded with dots to 31, a newline, 16 times a sector. */
export function baseImage(sectors: number): Buffer {
  const b = Buffer.alloc(sectors * SECTOR);
  for (let s = 0; s < sectors; s++) {
    const line = `cg-base sector ${String(s).padStart(6, '0')}`.padEnd(31, '.') + '\n';
    for (let i = 0; i < 16; i++) b.write(line, s * SECTOR + i * 32, 'latin1');
  }
  return b;
}

/** FNV-1a, 32-bit: the guest's read-base checksum. */
export function fnv1a(b: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const x of b) h = Math.imul(h ^ x, 0x01000193) >>> 0;
  return h;
}

export const hex16 = (b: Uint8Array, at = 0): string => Buffer.from(b.subarray(at, at + 16)).toString('hex');

/** The first 16 bytes vblk's rw-check writes for `seed`, as hex. */
export const patternHex = (seed: number): string => Buffer.from(`cg-vblk ${seed.toString(16).padStart(8, '0')}`, 'latin1').toString('hex');

/** The text after `[vm] VBLK ` of every such line, in order. */
export function vblkLines(o: BootOutcome, vm: string): string[] {
  const p = `[${vm}] VBLK `;
  return o.lines.filter((l) => l.startsWith(p)).map((l) => l.slice(p.length));
}

/** key=value fields of a line (numbers as written). */
export function fields(line: string): Record<string, string> {
  return Object.fromEntries([...line.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]));
}

