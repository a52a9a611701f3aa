// Scheduler figures from the real monitor under Bochs (one CPU, `clock:
// sync=none`: exact instruction counts), printed as BENCH lines:
//   sched_share_error_pct          weights 1:2:4, fair: the largest relative
//                                  error of a VM's share against w/sum(w)
//   sched_jain_index               four equal-weight VMs, fair: Jain's index
//   sched_victim_share_pct         a victim next to a hog: its share as a
//                                  percentage of its entitled half of what
//                                  it gets alone
//   policy_pick_next_instructions  fair: instructions per pick (pick_next +
//                                  pick_slice through the wasm2c build, with
//                                  the monitor's bookkeeping around them)

import { join } from 'node:path';
import { boot, explain, markersOf, ROOT, type BootOutcome } from '../boot/pool.js';
import { jain, spinOf } from '../boot/spin.js';

const GUESTS = join(ROOT, 'build', 'guests');

// Every VM spins 10 M ticks past its window (the spinner's `tail`): the
// VMs calibrate for different times (a light vCPU gets the CPU less often),
// so their windows start a few M ticks apart, and without the tail the last
// window would end after its neighbours had exited, its share inflated by
// CPU time nobody contended for (at 1:2:4 that stagger alone made w1's
// error 1.7-2.3 %; the charged run times were in proportion all along).
const CMDLINE = 'window=100 tail=10';

function run(vms: { name: string; weight?: number }[]): Promise<BootOutcome> {
  return boot({
    emulator: 'bochs',
    image: {
      kind: 'iso-variant',
      vmsBase: GUESTS,
      vms: { policy: 'fair', vms: vms.map((v) => ({ memory_mib: 16, vcpus: 1, kernel: 'spinner.elf', cmdline: CMDLINE, ...v })) },
    },
    cpus: 1,
    memMiB: 256,
    until: /^@cg vms-done/,
    timeoutMs: 240_000,
  });
}

function shares(o: BootOutcome, names: string[]): number[] {
  return names.map((n) => {
    const s = spinOf(o, n);
    if (!s) {
      console.error(explain(o, `bench: no spinner report from ${n}`));
      process.exit(1);
    }
    return s.share;
  });
}

const [w124, equal, alone, shared] = await Promise.all([
  run([{ name: 'w1', weight: 100 }, { name: 'w2', weight: 200 }, { name: 'w4', weight: 400 }]),
  run([{ name: 'e1' }, { name: 'e2' }, { name: 'e3' }, { name: 'e4' }]),
  run([{ name: 'victim' }]),
  run([{ name: 'victim' }, { name: 'hog' }]),
]);

const s = shares(w124, ['w1', 'w2', 'w4']);
const total = s.reduce((a, b) => a + b, 0);
const err = Math.max(...[1, 2, 4].map((w, i) => Math.abs(s[i]! / total - w / 7) / (w / 7)));
console.log(`BENCH sched_share_error_pct ${(err * 100).toFixed(2)} pct`);
console.log(`BENCH sched_jain_index ${jain(shares(equal, ['e1', 'e2', 'e3', 'e4'])).toFixed(4)} index`);
const [victimAlone] = shares(alone, ['victim']);
const [victimShared] = shares(shared, ['victim']);
console.log(`BENCH sched_victim_share_pct ${((victimShared! / (victimAlone! / 2)) * 100).toFixed(1)} pct`);
const st = markersOf(w124, 'sched-stats')[0];
if (st) console.log(`BENCH policy_pick_next_instructions ${Math.round(Number(st.fields.pick_ticks) / Number(st.fields.picks))} instructions`);
