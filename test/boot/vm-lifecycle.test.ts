// VM life cycles that the one-VM-per-boot guest manifest cannot show: a VM
// configured to reset on triple fault comes back (fresh RAM, same image)
// while its neighbour runs to completion; per-VM exit statistics; guests
// that reset themselves through port 0xCF9 or the i8042 (always a reset,
// whatever on_triple_fault says) and one that powers off through ACPI S5.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { boot, explain, markersOf, ROOT } from './pool.js';

const GUESTS = join(ROOT, 'build', 'guests');

const resets = boot({
  emulator: 'bochs',
  image: {
    kind: 'iso-variant',
    vmsBase: GUESTS,
    vms: {
      vms: [
        { name: 'faulty', memory_mib: 16, vcpus: 1, kernel: 'triple_fault.elf', on_triple_fault: 'reset' },
        { name: 'steady', memory_mib: 16, vcpus: 1, kernel: 'cpuid.elf' },
      ],
    },
  },
  cpus: 1,
  memMiB: 256,
  // The third start of "faulty" means it was reset twice.
  until: /^@cg vm-start name=faulty/,
  timeoutMs: 120_000,
  lingerMs: 0,
  interact: async (_m, waitFor) => {
    await waitFor(/^@cg vm-start name=faulty/, 60_000);
    await waitFor(/^@cg vm-start name=faulty/, 60_000);
    await waitFor(/^@cg vm-exit name=steady/, 60_000, 0);
  },
});

test('triple fault with on_triple_fault=reset: the VM restarts, its neighbour is untouched', async () => {
  const o = await resets;
  assert.is(o.status, 'matched', explain(o, 'faulty never started'));
  const r = markersOf(o, 'vm-reset').filter((m) => m.fields.name === 'faulty');
  assert.ok(r.length >= 2, explain(o, `want at least 2 resets, saw ${r.length}`));
  assert.ok(r.every((m) => m.fields.reason === 'triple-fault'));
  assert.is(markersOf(o, 'vm-stop').length, 0, explain(o, 'nothing may be stopped'));
  const steady = markersOf(o, 'vm-exit').find((m) => m.fields.name === 'steady');
  assert.is(steady?.fields.status, '1', explain(o, 'the neighbour passes its checks'));
  assert.ok(o.lines.filter((l) => l === '[faulty] triple: about to fault').length >= 3, explain(o, 'fresh boots'));
  const stats = markersOf(o, 'vm-stats').find((m) => m.fields.name === 'steady');
  assert.ok(stats && Number(stats.fields.cpuid) >= 6, explain(o, 'per-VM CPUID exits counted'));
  assert.ok(Number(stats!.fields.exits) >= Number(stats!.fields.cpuid));
});

const guestReset = boot({
  emulator: 'bochs',
  image: {
    kind: 'iso-variant',
    vmsBase: GUESTS,
    vms: {
      vms: [
        { name: 'cf9', memory_mib: 16, vcpus: 1, kernel: 'reset.elf', cmdline: 'via=cf9' },
        { name: 'kbd', memory_mib: 16, vcpus: 1, kernel: 'reset.elf', cmdline: 'via=kbd' },
        { name: 'off', memory_mib: 16, vcpus: 1, kernel: 'reset.elf', cmdline: 'via=poweroff' },
      ],
    },
  },
  cpus: 1,
  memMiB: 256,
  until: /^@cg vm-exit name=off /,
  timeoutMs: 120_000,
  interact: async (_m, waitFor) => {
    // Each resetting VM comes back at least twice; then stop them.
    for (const vm of ['cf9', 'kbd']) {
      await waitFor(new RegExp(`^@cg vm-reset name=${vm} `), 60_000, 0);
      await waitFor(new RegExp(`^@cg vm-reset name=${vm} `), 60_000);
    }
  },
});

test('guest resets (0xCF9, i8042) rebuild the VM; ACPI S5 ends it as a power-off', async () => {
  const o = await guestReset;
  assert.is(o.status, 'matched', explain(o, 'the power-off VM should end'));
  assert.equal(markersOf(o, 'vm-exit').find((m) => m.fields.name === 'off')?.fields, { name: 'off', status: '0', reason: 'poweroff' }, explain(o, 'S5 is a clean power-off'));
  for (const vm of ['cf9', 'kbd']) {
    const r = markersOf(o, 'vm-reset').filter((m) => m.fields.name === vm);
    assert.ok(r.length >= 2 && r.every((m) => m.fields.reason === 'guest-reset'), explain(o, `${vm}: reset by the guest, again and again`));
    assert.ok(o.lines.filter((l) => l === `[${vm}] INFO: reset: boot via=${vm}`).length >= 2, explain(o, `${vm}: a fresh boot after a reset`));
  }
  assert.not.ok(o.lines.some((l) => /still running after/.test(l)), explain(o, 'no write returned to the guest'));
  assert.is(markersOf(o, 'vm-stop').length, 0, explain(o, 'nothing is stopped'));
});

test.run();
