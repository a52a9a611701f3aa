// Benchmarks of the foundation, printed as `BENCH <name> <value> <unit>`
// lines for `make bench`; nothing here asserts a figure.
//   boot_ready_instructions  Bochs (clock: sync=none), 2 CPUs: timestamp ticks
//                            from the monitor's first instruction to the ready
//                            line; instruction-driven, so exact and repeatable
//   image_bytes              size of build/crossguard.elf, the one image every
//                            loader boots

import { statSync } from 'node:fs';
import { boot, ELF, explain, ISO, markersOf } from '../boot/pool.js';

function bench(name: string, value: number | string, unit: string): void {
  console.log(`BENCH ${name} ${value} ${unit}`);
}

bench('image_bytes', statSync(ELF).size, 'bytes');

const o = await boot({ emulator: 'bochs', image: { kind: 'iso', path: ISO }, cpus: 2, until: /^@cg ready /, timeoutMs: 120_000 });
const ready = markersOf(o, 'ready')[0];
if (o.status !== 'matched' || !ready?.fields.ticks) {
  console.error(explain(o, 'bench: Bochs did not reach the ready line'));
  process.exit(1);
}
bench('boot_ready_instructions', ready.fields.ticks, 'instructions');
bench('boot_ready_wall_ms', o.bootMs, 'ms');
