// VM life cycles that the one-VM-per-boot guest manifest cannot show: a VM
// configured to reset on triple fault comes back (fresh RAM, same image)
// while its neighbour runs to completion; per-VM exit statistics.

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

test.run();
