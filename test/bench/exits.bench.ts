// VM-exit round trips, measured inside a guest (test/guests/bench_exits.c)
// under Bochs with one CPU and `clock: sync=none`, so RDTSC deltas are
// instruction counts: exact and repeatable. Goal for CPUID: <= 150.
//   cpuid_exit_instructions   CPUID loop: guest loop + exit + handler + entry
//   vmcall_exit_instructions  VMCALL (hypercall 0) loop
//   pio_exit_instructions     OUT to port 0x80 loop

import { join } from 'node:path';
import { createEmulator } from '../../qemu/detect.js';
import { tailLines } from '../../qemu/emulator.js';
import { runGuests } from '../../toolchain/src/guests.js';
import { checkVmDescription } from '../../toolchain/src/vms.js';
import { ELF, ROOT } from '../boot/pool.js';

const guests = join(ROOT, 'build', 'guests');
const set = checkVmDescription(
  { vms: [{ name: 'bench', memory_mib: 16, vcpus: 1, kernel: 'bench_exits.elf' }] },
  guests,
  { source: 'exits.bench.ts' },
);
const r = await runGuests({ set, emulator: createEmulator('bochs'), monitorElf: ELF, cpus: 1, memMiB: 256, timeoutMs: 180_000 });
const out = r.vms.find((v) => v.name === 'bench')?.output ?? '';
const lines = [...out.matchAll(/^bench (\w+) (\d+)$/gm)];
if (!r.done || lines.length !== 3) {
  console.error(`bench: the exit benchmark guest did not report (${r.timedOut ? 'timed out' : r.died ?? 'incomplete'})`);
  console.error(tailLines(r.monitorOutput, 20));
  process.exit(1);
}
for (const [, name, value] of lines) console.log(`BENCH ${name} ${value} instructions`);
