// VM-exit round trips, measured inside a guest (test/guests/bench_exits.c)
// under Bochs with one CPU and `clock: sync=none`, so RDTSC deltas are
// instruction counts: exact and repeatable. Goals (issue 16): CPUID and
// VMCALL <= 100, port I/O <= 180; README's benchmark section has the
// profile of what is left and why.
//   cpuid_exit_instructions   CPUID loop: guest loop + exit + handler + entry
//   vmcall_exit_instructions  VMCALL (hypercall 0) loop
//   pio_exit_instructions     OUT to port 0x80 loop
// Once with the monitor's default speculative-execution hygiene
// (cg.spec=auto, docs/spec-ctrl.md), then forced on and off: the
// *_spec_on / *_spec_off lines show what the barriers cost per exit. Each
// run also prints the boot CPU's decision (not a BENCH line).

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

for (const mode of ['auto', 'on', 'off']) {
  const r = await runGuests({
    set,
    emulator: createEmulator('bochs'),
    monitorElf: ELF,
    monitorCmdline: `cg.spec=${mode}`,
    cpus: 1,
    memMiB: 256,
    timeoutMs: 180_000,
  });
  const out = r.vms.find((v) => v.name === 'bench')?.output ?? '';
  const lines = [...out.matchAll(/^bench (\w+) (\d+)$/gm)];
  const decision = /^@cg spec-ctrl cpu=0 (.*?)\r?$/m.exec(r.monitorOutput)?.[1];
  if (!r.done || lines.length !== 3 || !decision) {
    console.error(`bench: the exit benchmark guest (cg.spec=${mode}) did not report (${r.timedOut ? 'timed out' : r.died ?? (decision ? 'incomplete' : 'no spec-ctrl marker')})`);
    console.error(tailLines(r.monitorOutput, 20));
    process.exit(1);
  }
  const suffix = mode === 'auto' ? '' : `_spec_${mode}`;
  for (const [, name, value] of lines) console.log(`BENCH ${name}${suffix} ${value} instructions`);
  console.log(`spec-ctrl (cg.spec=${mode}, boot CPU): ${decision}`);
}
