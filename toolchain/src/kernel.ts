// What a guest kernel file is, from its first 8 KiB: crossguard loads
// Multiboot1 kernels (see docs/guest-abi.md), i.e. a file with a valid
// Multiboot1 header (magic 0x1BADB002, flags, checksum making the sum 0,
// 4-byte aligned in the first 8192 bytes) that is either an ELF32/ELF64 or
// carries the a.out address fields (flag bit 16). Pure.

export const MB1_MAGIC = 0x1badb002;
export const MB1_SEARCH = 8192;
/** Multiboot1 flag: the header holds load addresses (a.out kludge). */
export const MB1_AOUT_KLUDGE = 1 << 16;

export type KernelFormat =
  | { ok: true; kind: 'elf32' | 'elf64' | 'multiboot-aout' | 'bzimage'; headerOffset: number }
  | { ok: false; problem: string };

/** Offset of the first valid Multiboot1 header in `head`, or -1. */
export function findMultiboot1(head: Uint8Array): number {
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const end = Math.min(head.length, MB1_SEARCH) - 12;
  for (let off = 0; off <= end; off += 4) {
    if (view.getUint32(off, true) !== MB1_MAGIC) continue;
    const flags = view.getUint32(off + 4, true);
    const sum = view.getUint32(off + 8, true);
    if (((MB1_MAGIC + flags + sum) >>> 0) === 0) return off;
  }
  return -1;
}

function elfClass(head: Uint8Array): 'elf32' | 'elf64' | 'elf?' | null {
  if (head.length < 5 || head[0] !== 0x7f || head[1] !== 0x45 || head[2] !== 0x4c || head[3] !== 0x46) return null;
  return head[4] === 1 ? 'elf32' : head[4] === 2 ? 'elf64' : 'elf?';
}

/** A few words on what a non-kernel file looks like, for the error. */
function sniff(head: Uint8Array): string {
  if (head.length === 0) return 'an empty file';
  if (head.length > 0x206 && String.fromCharCode(...head.subarray(0x202, 0x206)) === 'HdrS')
    return 'a Linux bzImage (boot protocol, not Multiboot)';
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip data';
  if (head[0] === 0x4d && head[1] === 0x5a) return 'a PE/DOS executable';
  const text = head.subarray(0, 512).every((b) => b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127));
  return text ? 'a text file' : 'raw data';
}

/** Classifies a kernel from (at least) its first 8 KiB. */
export function kernelFormat(head: Uint8Array): KernelFormat {
  const elf = elfClass(head);
  const mb = findMultiboot1(head);
  // A Linux bzImage: "HdrS" at 0x202 (the boot protocol's setup header);
  // the monitor checks the protocol version and 64-bit support itself.
  if (head.length > 0x206 && head[0x202] === 0x48 && head[0x203] === 0x64 && head[0x204] === 0x72 && head[0x205] === 0x53)
    return { ok: true, kind: 'bzimage', headerOffset: 0x1f1 };
  const fix = 'build it as a Multiboot1 kernel (an ELF with a 0x1BADB002 header in its first 8 KiB, as QEMU -kernel takes)';
  if (elf === 'elf?') return { ok: false, problem: `is an ELF of unknown class ${head[4]}; ${fix}` };
  if (elf && mb >= 0) return { ok: true, kind: elf, headerOffset: mb };
  if (elf) return { ok: false, problem: `is an ${elf.toUpperCase()} without a Multiboot1 header in its first 8 KiB; ${fix}` };
  if (mb >= 0) {
    const flags = new DataView(head.buffer, head.byteOffset + mb + 4, 4).getUint32(0, true);
    if (flags & MB1_AOUT_KLUDGE) return { ok: true, kind: 'multiboot-aout', headerOffset: mb };
    return {
      ok: false,
      problem: `has a Multiboot1 header at 0x${mb.toString(16)} but is not an ELF and the header has no address fields (flag bit 16); link it as an ELF or set the address fields`,
    };
  }
  return { ok: false, problem: `is not an ELF and has no Multiboot1 header in its first 8 KiB (it looks like ${sniff(head)}); ${fix}` };
}
