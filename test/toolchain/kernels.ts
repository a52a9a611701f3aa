// Test kernels as bytes: heads the VM description checks accept.

/** An 8 KiB head of a 32-bit ELF with a Multiboot1 header (flags 0, valid checksum) at 64. */
export function mb1ElfHead(): Buffer {
  const b = Buffer.alloc(8192);
  b.set([0x7f, 0x45, 0x4c, 0x46, 1], 0);
  b.writeUInt32LE(0x1badb002, 64);
  b.writeUInt32LE(0, 68);
  b.writeUInt32LE(-0x1badb002 >>> 0, 72);
  return b;
}
