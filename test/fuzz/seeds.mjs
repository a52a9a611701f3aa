// Writes the seed corpora test/fuzz/corpus/<name>/ from inputs the unit
// tests use (test/unit/test_*.c), encoded in each harness's input format
// (described at the top of test/fuzz/fuzz_<name>.c). Run from the
// repository root after changing a format: node test/fuzz/seeds.mjs
// (it rewrites its own files and leaves others, e.g. merged ones, alone).
import { mkdirSync, writeFileSync } from 'node:fs';

const root = 'test/fuzz/corpus';

class Buf {
  constructor(size = 0) { this.b = Buffer.alloc(size); }
  grow(end) { if (end > this.b.length) this.b = Buffer.concat([this.b, Buffer.alloc(end - this.b.length)]); }
  u8(at, v) { this.grow(at + 1); this.b.writeUInt8(v & 0xff, at); return this; }
  u16(at, v) { this.grow(at + 2); this.b.writeUInt16LE(v, at); return this; }
  u32(at, v) { this.grow(at + 4); this.b.writeUInt32LE(v >>> 0, at); return this; }
  u64(at, v) { this.grow(at + 8); this.b.writeBigUInt64LE(BigInt(v), at); return this; }
  str(at, s) { const t = Buffer.from(s, 'latin1'); this.grow(at + t.length); t.copy(this.b, at); return this; }
  bytes(at, a) { return this.str(at, Buffer.from(a).toString('latin1')); }
  // ACPI checksum: byte at `at` so that [start, start+len) sums to 0.
  sum(start, len, at) {
    this.u8(at, 0);
    let s = 0;
    for (let i = start; i < start + len; i++) s += this.b[i];
    return this.u8(at, (256 - (s & 0xff)) & 0xff);
  }
}

const le64 = (v) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(v))); return b; };
const cat = (...parts) => Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p))));
const seeds = {};
const add = (name, file, data) => { (seeds[name] ??= {})[file] = data; };

// ---- insn_decode: mode byte (0 16-bit, 1 32-bit, 2 64-bit) + bytes (test_insn_decode.c)
[
  ['mov-eax-rip', 2, [0x8b, 0x05, 0x00, 0x01, 0x00, 0x00]],
  ['mov-r9-store', 2, [0x4c, 0x89, 0x0f]],
  ['mov-imm32', 2, [0x41, 0xc7, 0x45, 0x00, 0x78, 0x56, 0x34, 0x12]],
  ['movzx', 2, [0x0f, 0xb6, 0x02]],
  ['movabs', 2, [0x48, 0xa1, 0x00, 0x00, 0xe0, 0xfe, 0x00, 0x00, 0x00, 0x00]],
  ['prefixes-15', 2, [0x2e, 0x2e, 0x2e, 0x48, 0xc7, 0x84, 0x18, 0x78, 0x56, 0x34, 0x12, 0x78, 0x56, 0x34, 0x12]],
  ['mov-moffs32', 1, [0xa1, 0x20, 0x00, 0xe0, 0xfe]],
  ['mov-16bit', 0, [0x66, 0x67, 0x8b, 0x44, 0x24, 0x08]],
].forEach(([f, mode, bytes]) => add('insn_decode', f, cat([mode], bytes)));

// ---- guest_walk: cr0 cr3 cr4 efer gla (8 each), access, len/2, RAM (test_guest_walk.c)
const PG = 1n << 31n, WP = 1n << 16n, PE = 1n, PAE = 1n << 5n, PSE = 1n << 4n, LMA = 1n << 10n, LME = 1n << 8n, NXE = 1n << 11n;
function walkSeed(cr0, cr3, cr4, efer, gla, acc, half, ram) {
  return cat(le64(cr0), le64(cr3), le64(cr4), le64(efer), le64(gla), [acc, half], ram.b);
}
{
  const r = new Buf(0x6000);
  r.u64(0x1000, 0x2003).u64(0x2000, 0x3003).u64(0x3008, 0x4003).u64(0x4008, 0x5003).str(0x5234, 'guest bytes');
  add('guest_walk', '4level-4k', walkSeed(PG | WP | PE, 0x1000, PAE, LMA | LME | NXE, 0x201234, 0, 8, r));
  const r2 = new Buf(0x5000);
  r2.u64(0x1000, 0x2003).u64(0x2000, 0x3003).u64(0x3000, 0x83 | (1 << 21) * 0).u64(0x3000, 0x83);
  add('guest_walk', '4level-2m-write', walkSeed(PG | WP | PE, 0x1000, PAE, LMA | LME, 0x3456, 1, 4, r2));
  const r3 = new Buf(0x4000);
  r3.u32(0x1004, 0x2003).u32(0x2004, 0x3003).str(0x3010, 'paging32');
  add('guest_walk', '32bit-4k', walkSeed(PG | PE, 0x1000, 0n, 0n, 0x401010, 0, 4, r3));
  const r4 = new Buf(0x2000);
  r4.u32(0x1000, 0x83);
  add('guest_walk', '32bit-4m-pse', walkSeed(PG | PE, 0x1000, PSE, 0n, 0x1234, 2, 4, r4));
  const r5 = new Buf(0x4000);
  r5.u64(0x1000, 0x2001).u64(0x2000, 0x83);
  add('guest_walk', 'pae-2m', walkSeed(PG | PE | WP, 0x1000, PAE, 0n, 0x3456, 0, 4, r5));
  add('guest_walk', 'paging-off', walkSeed(0n, 0x1000, 0n, 0n, 0x1fee00020n, 0, 4, new Buf(0x100)));
}

// ---- virtq: size log2, flags, desc/avail/used offsets, start index, RAM at 0x100000 (test_virtq.c)
function desc(r, table, i, addr, len, flags, next) {
  r.u64(table + 16 * i, addr).u32(table + 16 * i + 8, len).u16(table + 16 * i + 12, flags).u16(table + 16 * i + 14, next);
}
const NEXT = 1, WRITE = 2, INDIRECT = 4;
function blkRam(base, type, dataLen, layout) {
  // desc table at layout.desc, avail at layout.avail; header, data and status after them
  const r = new Buf();
  const hdr = layout.hdr, data = layout.data, status = layout.status;
  r.u32(hdr, type).u32(hdr + 4, 0).u64(hdr + 8, 1);
  const dw = type === 0 || type === 8;
  let i = 0;
  desc(r, layout.desc, i, base + hdr, 16, NEXT, 1);
  if (dataLen) { i++; desc(r, layout.desc, i, base + data, dataLen, NEXT | (dw ? WRITE : 0), i + 1); }
  i++;
  desc(r, layout.desc, i, base + status, 1, WRITE, 0);
  r.u16(layout.avail + 2, 1).u16(layout.avail + 4, 0);
  r.grow(status + 1);
  return r;
}
{
  const L = { desc: 0, avail: 0x100, hdr: 0x400, data: 0x600, status: 0x800 };
  const hdr = (log2, flags) => { const h = new Buf(); h.u8(0, log2).u8(1, flags).u16(2, L.desc).u16(4, L.avail).u16(6, 0x200).u16(8, 0); return h.b; };
  const VQ = 0x100000;
  add('virtq', 'blk-in', cat(hdr(4, 0), blkRam(VQ, 0, 512, L).b));
  add('virtq', 'blk-out', cat(hdr(4, 1), blkRam(VQ, 1, 1024, L).b));
  add('virtq', 'blk-flush', cat(hdr(3, 0), blkRam(VQ, 4, 0, L).b));
  add('virtq', 'blk-get-id', cat(hdr(4, 0), blkRam(VQ, 8, 20, L).b));
  // indirect: desc 0 points at a three-entry table at 0x900
  const r = blkRam(VQ, 0, 512, { ...L, desc: 0x900 });
  desc(r, 0, 0, VQ + 0x900, 48, INDIRECT, 0);
  add('virtq', 'blk-indirect', cat(hdr(4, 2), r.b));
  // index wraparound: start at 65535
  const w = blkRam(VQ, 1, 512, L);
  w.u16(L.avail + 2, 0).u16(L.avail + 4 + 2 * (65535 % 16), 0);
  const hw = hdr(4, 1); hw.writeUInt16LE(65535, 8);
  add('virtq', 'wraparound', cat(hw, w.b));
}

// ---- virtio_blk: options, size log2, rounds, RAM (4 KiB: avail 0, desc 0x40), clock steps (test_virtio_blk.c)
{
  const L = { desc: 0x40, avail: 0, hdr: 0x200, data: 0x400, status: 0x600 };
  const seed = (opt, type, len, extra) => {
    const r = blkRam(0, type, len, L);
    if (extra) extra(r);
    r.grow(4096);
    return cat([opt, 4, 3], r.b.subarray(0, 4096), [5, 50, 200]);
  };
  add('virtio_blk', 'in-msix-event-idx', seed(1 | 4, 0, 512));
  add('virtio_blk', 'out-intx', seed(0, 1, 1024));
  add('virtio_blk', 'flush', seed(4, 4, 0));
  add('virtio_blk', 'get-id', seed(4, 8, 20));
  add('virtio_blk', 'out-read-only', seed(8 | 4, 1, 512));
  add('virtio_blk', 'unknown-type', seed(4, 77, 0));
  // throttled: two reads offered, the second waits for the bucket
  add('virtio_blk', 'throttled-two', seed(16 | 4, 0, 512, (r) => {
    desc(r, L.desc, 3, 0x200, 16, NEXT, 4);
    desc(r, L.desc, 4, 0x800, 512, NEXT | WRITE, 5);
    desc(r, L.desc, 5, 0x601, 1, WRITE, 0);
    r.u16(L.avail + 2, 2).u16(L.avail + 6, 3);
  }));
  // indirect table at 0xA00
  add('virtio_blk', 'indirect', seed(2 | 4, 0, 512, (r) => {
    const t = blkRam(0, 0, 512, { ...L, desc: 0xa00 });
    r.grow(0xa30);
    t.b.subarray(0xa00, 0xa30).copy(r.b, 0xa00);
    desc(r, L.desc, 0, 0xa00, 48, INDIRECT, 0);
  }));
}

// ---- vmcfg: error buffer size, text (test_vmcfg.c)
const vmcfgGood = `# generated by crossguard
cgvms 1

policy rt
vm web1
mem 64
vcpus 2
kernel web1.kernel
cmdline build/guests/cpuid.elf  a=1 #not-a-comment 
module web1.m0 initrd.img root=/dev/ram
module web1.m1
on_triple_fault reset
weight 200
cap 500
rt_budget_us 2000
rt_period_us 10000
end
  # indented comment
vm web2\r
  mem 2
vcpus 16
kernel web2.kernel
end
`;
add('vmcfg', 'good', cat([255], vmcfgGood));
add('vmcfg', 'networks', cat([255], `cgvms 1
network lab0
network lab1
vm a
mem 16
kernel a.kernel
nic lab0 02:00:00:00:00:01 0 0
nic lab1 auto 15180 1000
end
vm b
mem 16
kernel b.kernel
nic lab0 auto 0 0
end
`));
add('vmcfg', 'disks', cat([255], `cgvms 1
image base base.img
image data data.img
vm deb1
mem 128
vcpus 2
kernel deb1.kernel
cmdline console=ttyS0
module deb1.m0 initrd
disk base ro keep 0 0
disk data rw discard 200 1048576
end
vm deb2
mem 128
vcpus 1
kernel deb2.kernel
disk base rw keep 0 0
end
`));
add('vmcfg', 'minimal-short-err', cat([20], 'cgvms 1\nvm a\nmem 2\nvcpus 1\nkernel k\nend'));
add('vmcfg', 'limits', cat([255], 'cgvms 1\nvm a\nmem 3584\nvcpus 16\nkernel k\nweight 10000\ncap 1000\nend\nvm b\nmem 2\nvcpus 1\nkernel k\nweight 1\ncap 0\nend\n'));
add('vmcfg', 'bad-line', cat([255], 'cgvms 1\nvm a\nmem 1\nvcpus 1\nkernel k\nend\n'));

// ---- shell_line: received bytes (test_shell_line.c)
add('shell_line', 'help', 'help me\r');
add('shell_line', 'machine', '@cg-req 1 vms\r\n');
add('shell_line', 'history', 'vms\rdisks\r\x1b[A\x1b[A\x1b[B\x15stats\x7f\x08\r\x1b[C');
add('shell_line', 'overflow', 'x'.repeat(140) + '\x7f\r' + 'ok\n');

// ---- json: buffer size (2), then ops: op, n, n string bytes, operands (lib/json.c callers)
{
  const op = (o, s = '', num) => cat([o, s.length], s, num === undefined ? [] : le64(num));
  add('json', 'vms-reply', cat([0x00, 0x10],
    op(0), op(3, 'name', undefined), op(4, 'id', 7), op(1, 'vcpus'), op(4, '', 1), op(5, '', -5), op(14, ''),
    op(2), op(3, 'q"uo\\te\x7f'), op(2)));
  add('json', 'small-buffer', cat([0x10, 0x00], op(1), op(3, 'abcdefghij'), op(4, '', 1234567890123), op(2)));
  add('json', 'deep', cat([0x00, 0x08], op(1), op(1), op(1), op(1), op(1), op(1), op(1), op(1), op(1)));
}

// ---- linux_hdr: error buffer size, image (test_guest_linux.c)
{
  const img = new Buf(2048);
  img.u8(0x1f1, 1).u32(0x1f4, 1024 / 16).u16(0x1fe, 0xaa55).u8(0x200, 0xeb).u8(0x201, 0x6a).str(0x202, 'HdrS')
    .u16(0x206, 0x020f).u32(0x22c, 0x7fffffff).u32(0x230, 0x200000).u8(0x234, 1).u16(0x236, 1)
    .u32(0x238, 2047).u64(0x258, 0x1000000).u32(0x260, 0x800000);
  add('linux_hdr', 'bzimage-2.15', cat([255], img.b));
  const old = Buffer.from(img.b); old.writeUInt16LE(0x020b, 0x206);
  add('linux_hdr', 'protocol-2.11', cat([80], old));
}

// ---- bootinfo: magic selector, memory from 0x10000 (test_bootinfo.c)
{
  const W = 0x10000;
  const m = new Buf(0x400);
  m.u32(0, (1 << 0) | (1 << 2) | (1 << 3) | (1 << 6) | (1 << 9)).u32(4, 639).u32(8, 130048)
    .str(0x100, 'console=com1 smp=4\0').u32(16, W + 0x100).str(0x140, 'GRUB 2.06\0').u32(64, W + 0x140)
    .str(0x180, 'guest.elf mem=64M\0').u32(20, 2).u32(24, W + 0x200)
    .u32(0x200, 0x400000).u32(0x204, 0x480000).u32(0x208, W + 0x180).u32(0x210, 0x500000).u32(0x214, 0x500123);
  let at = 0x300;
  for (const [size, base, len, type] of [[20, 0x100000, 0x7ef0000, 1], [20, 0, 0x9fc00, 1], [24, 0x9fc00, 0x400, 2], [20, 0xf0000, 0x10000, 2]]) {
    m.u32(at, size).u64(at + 4, base).u64(at + 12, len).u32(at + 20, type);
    at += 4 + size;
  }
  m.u32(44, at - 0x300).u32(48, W + 0x300);
  add('bootinfo', 'mb1', cat([0], m.b));
  // MB2: cmdline, loader name, module, memory map, old ACPI RSDP, end
  const t = new Buf();
  let o = 8;
  const tag = (type, body) => { t.u32(o, type).u32(o + 4, 8 + body.length).bytes(o + 8, body); o = (o + 8 + body.length + 7) & ~7; };
  tag(1, Buffer.from('console=com1\0'));
  tag(2, Buffer.from('GRUB 2.06\0'));
  tag(3, cat(new Buf(8).u32(0, 0x400000).u32(4, 0x480000).b, 'guest.elf\0'));
  const mm = new Buf(8 + 24 * 3).u32(0, 24).u32(4, 0);
  [[0, 0x9fc00, 1], [0x9fc00, 0x400, 2], [0x100000, 0x7ef0000, 1]].forEach(([b, l, ty], i) => mm.u64(8 + 24 * i, b).u64(16 + 24 * i, l).u32(24 + 24 * i, ty));
  tag(6, mm.b);
  const rsdp = new Buf(20).str(0, 'RSD PTR ').str(9, 'CROSSG').u32(16, 0xe0100);
  rsdp.sum(0, 20, 8);
  tag(14, rsdp.b);
  tag(0, Buffer.alloc(0));
  t.u32(0, o).u32(4, 0);
  add('bootinfo', 'mb2', cat([1], t.b));
}

// ---- acpi: RSDP offset, memory from 0xE0000 (test_acpi.c)
function sdt(r, at, sig, body, rev = 1) {
  r.str(at, sig).u32(at + 4, 36 + body.length).u8(at + 8, rev).str(at + 10, 'CROSSG').str(at + 16, 'CGTABLE ').bytes(at + 36, body);
  r.sum(at, 36 + body.length, at + 9);
}
function madtBody() {
  const b = new Buf(8).u32(0, 0xfee00000).u32(4, 1);
  let o = 8;
  for (let i = 0; i < 2; i++) { b.u8(o, 0).u8(o + 1, 8).u8(o + 2, i).u8(o + 3, i).u32(o + 4, 1); o += 8; }
  b.u8(o, 1).u8(o + 1, 12).u8(o + 2, 1).u32(o + 4, 0xfec00000).u32(o + 8, 0); o += 12;
  b.u8(o, 9).u8(o + 1, 16).u32(o + 4, 300).u32(o + 8, 1).u32(o + 12, 2); o += 16;
  // CPU 7 under both type 0 and type 9, as some firmware lists it: counted once
  b.u8(o, 0).u8(o + 1, 8).u8(o + 2, 7).u8(o + 3, 7).u32(o + 4, 1); o += 8;
  b.u8(o, 9).u8(o + 1, 16).u32(o + 4, 7).u32(o + 8, 1).u32(o + 12, 7); o += 16;
  return b.b;
}
{
  const E = 0xe0000;
  const r = new Buf(0x400);
  r.str(0, 'RSD PTR ').str(9, 'CROSSG').u8(15, 0).u32(16, E + 0x100).sum(0, 20, 8);
  sdt(r, 0x100, 'RSDT', new Buf(8).u32(0, E + 0x200).u32(4, E + 0x300).b);
  sdt(r, 0x200, 'APIC', madtBody());
  sdt(r, 0x300, 'FACP', Buffer.from('x'));
  add('acpi', 'rsdt-madt', cat([0, 0], r.b));
  const x = new Buf(0x400);
  x.str(0x40, 'RSD PTR ').str(0x49, 'CROSSG').u8(0x4f, 2).u32(0x50, 0).u32(0x54, 36).u64(0x58, E + 0x100).sum(0x40, 20, 0x48).sum(0x40, 36, 0x60);
  sdt(x, 0x100, 'XSDT', cat(le64(E + 0x300), le64(E + 0x200)), 1);
  sdt(x, 0x200, 'APIC', madtBody());
  sdt(x, 0x300, 'FACP', Buffer.from('x'));
  add('acpi', 'xsdt-madt', cat([0x40, 0], x.b));
}

// ---- memmap: reservation (base, len), ranges (base, len, type) (test_memmap.c)
{
  const range = (b, l, t) => cat(le64(b), le64(l), [t]);
  add('memmap', 'pc-map', cat(le64(0x100000), le64(0x200000), range(0x100000, 0x7ef0000, 1), range(0, 0x9fc00, 1),
    range(0x9fc00, 0x400, 2), range(0xf0000, 0x10000, 2), range(0x7000000, 0x2000000, 3), range(0x8000000, 0x1000, 9)));
  add('memmap', 'overlaps', cat(le64(0x1800), le64(0x1000), range(0, 0x10000, 1), range(0x1000, 0x800, 2),
    range(0x1400, 0x2000, 4), range(0x3fff, 2, 5), range(0xfffffffffffff000n, 0x1000, 1)));
}

// ---- virtio_net: options, size log2, rounds, A's RAM (4 KiB: TX avail 0, desc 0x40; RX avail 0x800, desc 0x840), clock steps (test_virtio_net.c)
{
  const NEXT = 1, WRITE = 2, INDIRECT = 4;
  const MAC_A = [2, 0, 0, 0, 0, 0xa];
  const d = (r, table, i, addr, len, flags, next) => r.u64(table + 16 * i, addr).u32(table + 16 * i + 8, len).u16(table + 16 * i + 12, flags).u16(table + 16 * i + 14, next);
  // frame at `at`: 12-byte header, broadcast destination, source src, 60 bytes
  const frame = (r, at, src) => r.bytes(at + 12, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, ...src, 8, 0]).u8(at + 12 + 59, 0x5a);
  const ram = (frames, src = MAC_A) => {
    const r = new Buf(4096);
    r.u16(2, frames);
    for (let i = 0; i < frames; i++) {
      r.u16(4 + 2 * i, i);
      d(r, 0x40, i, 0x400 + 0x80 * i, 72, 0, 0);
      frame(r, 0x400 + 0x80 * i, src);
    }
    r.u16(0x802, 2).u16(0x804, 0).u16(0x806, 1);
    d(r, 0x840, 0, 0x1000, 1530, WRITE, 0);
    d(r, 0x840, 1, 0x1800, 1530, WRITE, 0);
    return r;
  };
  const seed = (opt, r) => cat([opt, 4, 3], r.b.subarray(0, 4096), [5, 50, 200]);
  add('virtio_net', 'tx-bcast-rx', seed(1 | 8, ram(1)));
  add('virtio_net', 'throttled', seed(4 | 8, ram(3)));
  add('virtio_net', 'spoofed', seed(8, ram(2, [2, 0, 0, 0, 0, 0xb])));
  const loop = ram(1);
  d(loop, 0x40, 0, 0x400, 72, NEXT, 1);
  d(loop, 0x40, 1, 0x400, 72, NEXT, 0);
  add('virtio_net', 'loop', seed(8, loop));
  const ind = ram(1);
  d(ind, 0x40, 0, 0x600, 32, INDIRECT, 0);
  d(ind, 0x600, 0, 0x400, 12, NEXT, 1);
  d(ind, 0x600, 1, 0x40c, 60, 0, 0);
  add('virtio_net', 'indirect', seed(2 | 8, ind));
  const out = ram(1);
  d(out, 0x40, 0, 0xfff0, 72, 0, 0);
  add('virtio_net', 'outside-ram', seed(8, out));
}

for (const [name, files] of Object.entries(seeds)) {
  const dir = `${root}/${name}`;
  mkdirSync(dir, { recursive: true });
  for (const [file, data] of Object.entries(files)) writeFileSync(`${dir}/${file}`, Buffer.isBuffer(data) ? data : Buffer.from(data, 'latin1'));
}
console.log(`seeds: ${Object.entries(seeds).map(([n, f]) => `${n} ${Object.keys(f).length}`).join(', ')}`);
