// Guests that try to take a physical CPU for good, and the VM-level events
// that must not leave a VM hung, in one Bochs boot (2 CPUs):
//  - acloop, dbloop: a fault raised while that very fault is delivered
//    (#AC on an odd CPL-3 stack, CVE-2015-5307; #DB on a breakpoint over
//    the #DB IDT entry, CVE-2015-8104). crossguard intercepts #AC and #DB,
//    so each attempt is a VM exit counted as `exception`; the VMs keep
//    being preempted and the operator's `vm stop` ends them. Without the
//    intercept the count stays 0 (and the CPU would be wedged on hardware).
//  - steady: a neighbour that must finish its checks meanwhile.
//  - initbsp: an AP sends INIT to the BSP; the VM resets (vm-reset
//    reason=init-bsp) and boots again, instead of every vCPU waiting for
//    a SIPI forever.
// Five vCPUs on two CPUs also move between CPUs: vm-stats counts the
// migrations (each one flushes the vCPU's VPID there).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bootGuestSet, explain, markersOf, request } from './pool.js';

const run = bootGuestSet(
  [
    { name: 'acloop', memory_mib: 16, vcpus: 1, kernel: 'reflect.elf', cmdline: 'loop=ac' },
    { name: 'dbloop', memory_mib: 16, vcpus: 1, kernel: 'reflect.elf', cmdline: 'loop=db' },
    { name: 'steady', memory_mib: 16, vcpus: 1, kernel: 'cpuid.elf' },
    { name: 'initbsp', memory_mib: 16, vcpus: 2, kernel: 'init_bsp.elf' },
  ],
  {
    cpus: 2,
    memMiB: 256,
    until: /^@cg vm-exit name=steady /,
    timeoutMs: 400_000,
    interact: async (m, waitFor) => {
      for (let i = 0; i < 2; i++) {
        await waitFor(/^@cg vm-reset name=initbsp /, 120_000, i === 0 ? 0 : undefined);
        await waitFor(/^@cg vm-start name=initbsp /, 60_000);
      }
      // initbsp resets all the time: a stop that lands while it is being
      // rebuilt is refused ("not running"); ask again until one is taken.
      for (const vm of ['acloop', 'dbloop', 'initbsp']) {
        for (let tries = 0; ; tries++) {
          await request(m, waitFor, `vm stop ${vm}`);
          const stopped = await waitFor(new RegExp(`^@cg vm-stop name=${vm} reason=operator`), 10_000, 0).catch(() => null);
          if (stopped || tries >= 10) break;
        }
      }
      await waitFor(/^@cg vms-done /, 120_000, 0);
    },
  },
);

test('#AC and #DB raised while delivering themselves: exits, preemption, an operator stop', async () => {
  const o = await run;
  assert.is(o.status, 'matched', explain(o, 'the neighbour must finish while the loops run'));
  const steady = markersOf(o, 'vm-exit').find((m) => m.fields.name === 'steady');
  assert.is(steady?.fields.status, '1', explain(o, 'the neighbour passes its checks'));
  assert.ok(o.lines.some((l) => /^@cg vms-done /.test(l)), explain(o, 'every VM ended, the machine stayed up'));
  for (const vm of ['acloop', 'dbloop']) {
    assert.ok(o.lines.includes(`[${vm}] INFO: reflect: entering the ${vm === 'acloop' ? '#AC' : '#DB'} loop`), explain(o, `${vm} entered its loop`));
    assert.not.ok(o.lines.some((l) => l.startsWith(`[${vm}] FAIL`) || l.startsWith(`[${vm}] SUMMARY`)), explain(o, `${vm} must never leave its loop`));
    const stop = markersOf(o, 'vm-stop').find((m) => m.fields.name === vm);
    assert.is(stop?.fields.reason, 'operator', explain(o, `${vm} ran until the operator stopped it`));
    const stats = markersOf(o, 'vm-stats').find((m) => m.fields.name === vm);
    assert.ok(Number(stats?.fields.exception ?? 0) >= 1000, explain(o, `${vm}: every delivery attempt is an exit (exception=${stats?.fields.exception})`));
  }
});

test('INIT to the bootstrap vCPU resets the VM, which boots again', async () => {
  const o = await run;
  const resets = markersOf(o, 'vm-reset').filter((m) => m.fields.name === 'initbsp');
  assert.ok(resets.length >= 2 && resets.every((m) => m.fields.reason === 'init-bsp'), explain(o, `want 2 resets with reason=init-bsp, saw ${resets.length}`));
  assert.ok(o.lines.filter((l) => l === '[initbsp] INFO: init_bsp: boot').length >= 3, explain(o, 'a fresh boot after each reset'));
  assert.not.ok(o.lines.some((l) => l.startsWith('[initbsp] FAIL')), explain(o, 'the BSP must not go on after INIT'));
});

test('vCPUs that move between CPUs are counted (each move flushes its VPID there)', async () => {
  const o = await run;
  const stats = markersOf(o, 'vm-stats');
  assert.ok(stats.length >= 4 && stats.every((m) => m.fields.migrations !== undefined), explain(o, 'vm-stats carries migrations'));
  const moved = stats.reduce((s, m) => s + Number(m.fields.migrations), 0);
  assert.ok(moved >= 1, explain(o, `five vCPUs on two CPUs: some must have moved (migrations=${moved})`));
});

test.run();
