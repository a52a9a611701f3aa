// Every test guest in manifest.ini, run as a VM under crossguard in Bochs
// (CG_GUEST_EMULATOR=qemu|kvm to change) through runGuests, at most
// CG_TEST_JOBS (default 2) boots at a time. Single-vCPU guests share boots
// (CG_GUEST_BATCH, default 4, VMs per boot; 1 boots each alone); SMP guests,
// `alone = yes` ones and the pairs (isolation victim + attacker, which also
// checks the output tags, and vcpu_state) have their own; the guests with a
// NIC (vnet's roles) are one set. An entry's monitor_params go on its boot's
// monitor command line, so only entries with the same words share a boot:
// the `_apicv` twins (cg.apicv=1) run with the CPU's APIC virtualization
// what their originals check on the emulated local APIC, the default.
//
// CG_GUESTS=REGEX runs only the entries whose names match (and the pair
// boots only when both of their entries do).
//
// A probe boot (the `exitcode` guest) runs first: when the monitor does not
// run VMs at all, every other case fails at once with the probe's story
// instead of each waiting for its own timeout.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createEmulator } from '../../qemu/detect.js';
import { tailLines, type EmulatorKind } from '../../qemu/emulator.js';
import { runGuests, type RunGuestsResult } from '../../toolchain/src/guests.js';
import { checkVmDescription } from '../../toolchain/src/vms.js';
import { guestSummary, parseManifest, showExpectation, type ManifestEntry } from './manifest.js';
import { slot } from '../boot/pool.js';

const ROOT = resolve(process.env.CG_ROOT ?? process.cwd());
const MANIFEST = join(ROOT, 'test', 'guests', 'manifest.ini');
const GUESTS = join(ROOT, 'build', 'guests');
const ELF = join(ROOT, 'build', 'crossguard.elf');
const EMULATOR = (process.env.CG_GUEST_EMULATOR ?? 'bochs') as EmulatorKind;
/** The monitor's own boot under Bochs, on top of each guest's timeout. */
const BOOT_MS = 90_000;

/** Why nothing can run (missing manifest, guests, monitor or emulator), or null. */
function precondition(): string | null {
  if (!existsSync(MANIFEST)) return `${MANIFEST} is missing: the test guests' manifest must exist`;
  if (!existsSync(ELF)) return `${ELF} is missing: run make first`;
  return null;
}

function loadManifest(): ManifestEntry[] {
  return parseManifest(readFileSync(MANIFEST, 'utf8'), 'test/guests/manifest.ini');
}

interface VmSpec {
  entry: ManifestEntry;
}

/** Boots the given manifest entries as one VM set (on `cpusOverride` emulated CPUs if given). */
function boot(specs: VmSpec[], cpusOverride?: number): Promise<RunGuestsResult> {
  return slot(async () => {
    const emulator = createEmulator(EMULATOR);
    const avail = await emulator.available();
    if (!avail.ok) throw new Error(`${EMULATOR} unavailable: ${avail.reason}`);
    for (const { entry } of specs)
      if (!existsSync(join(GUESTS, entry.file))) throw new Error(`${join(GUESTS, entry.file)} is missing: run make guests`);
    const vms = specs.map(({ entry }) => ({
      name: entry.name,
      memory_mib: entry.memMiB,
      vcpus: entry.smp,
      kernel: entry.file,
      ...(entry.extraParams ? { cmdline: entry.extraParams } : {}),
      ...(entry.onUnassignedAccess ? { on_unassigned_access: entry.onUnassignedAccess } : {}),
      ...(entry.nic ? { nics: [entry.nic] } : {}),
    }));
    const networks = [...new Set(specs.flatMap(({ entry }) => (entry.nic ? [entry.nic.network] : [])))].map((name) => ({ name }));
    const set = checkVmDescription({ ...(networks.length ? { networks } : {}), vms }, GUESTS, { source: 'test/guests/manifest.ini' });
    const memMiB = set.vms.reduce((s, v) => s + v.memoryMiB, 0) + 128;
    const cpus = cpusOverride ?? Math.max(2, ...set.vms.map((v) => v.vcpus));
    const timeoutMs = BOOT_MS + Math.max(...specs.map(({ entry }) => entry.timeoutS)) * 1000;
    const params = [...new Set(specs.map(({ entry }) => entry.monitorParams ?? ''))];
    if (params.length > 1) throw new Error(`one boot, two monitor command lines: ${params.map((p) => JSON.stringify(p)).join(', ')}`);
    const monitorCmdline = params[0] || undefined;
    return runGuests({ set, emulator, monitorElf: ELF, cpus, memMiB, timeoutMs, ...(monitorCmdline ? { monitorCmdline } : {}) });
  });
}

/** A failure message with the VM's output, the monitor's and the emulator's diagnostics. */
function explain(r: RunGuestsResult, name: string, what: string): string {
  const vm = r.vms.find((v) => v.name === name);
  const end = r.timedOut ? 'timed out' : r.died ? r.died : r.done ? 'vms-done' : 'no vms-done';
  return [
    `${what} (run: ${end})`,
    `--- ${name} output (last 20 lines) ---`,
    tailLines(vm?.output ?? '', 20),
    '--- monitor (last 20 lines) ---',
    tailLines(r.monitorOutput, 20),
    '--- emulator ---',
    r.diagnostics,
  ].join('\n');
}

function checkOutcome(r: RunGuestsResult, entry: ManifestEntry): void {
  const vm = r.vms.find((v) => v.name === entry.name);
  const want = entry.expect;
  const got =
    vm?.status !== undefined ? `exit status ${vm.status}` : vm?.stopReason !== undefined ? `stop (${vm.stopReason})` : 'no end reported';
  if (want.kind === 'status') assert.is(vm?.status, want.status, explain(r, entry.name, `${entry.name}: want ${showExpectation(want)}, got ${got}`));
  else assert.is(vm?.stopReason, want.reason, explain(r, entry.name, `${entry.name}: want ${showExpectation(want)}, got ${got}`));
  // A passing guest's SUMMARY must report no unexpected failures (guests expected to fail may report some).
  const sum = guestSummary(vm?.output ?? '');
  if (sum && want.kind === 'status' && want.status === 1)
    assert.is(sum.failures, 0, explain(r, entry.name, `${entry.name}: SUMMARY reports ${sum.failures} unexpected failures`));
}

const pre = precondition();
const ONLY = process.env.CG_GUESTS ? new RegExp(process.env.CG_GUESTS) : null;
const entries = pre ? [] : loadManifest().filter((e) => !ONLY || ONLY.test(e.name));
const byName = new Map(entries.map((e) => [e.name, e]));

// The probe: one small guest first; the rest wait for it.
// (Not a guest with a NIC: those boot only as their set.)
const probeEntry = byName.get('exitcode') ?? entries.find((e) => !e.nic);
const probe: Promise<RunGuestsResult> | null = probeEntry ? boot([{ entry: probeEntry }]) : null;
const probeOk: Promise<string | null> = probe
  ? probe.then(
      (r) => (r.done ? null : `the probe boot (${probeEntry!.name}) did not reach @cg vms-done: ${r.timedOut ? 'timed out' : r.died ?? 'no vms-done'}; the monitor does not run VMs yet?\n${tailLines(r.monitorOutput, 10)}`),
      (e: Error) => `the probe boot failed: ${e.message}`,
    )
  : Promise.resolve(null);

/** Boots after the probe passed; a failed probe fails the case at once. */
async function afterProbe(specs: VmSpec[], cpus?: number): Promise<RunGuestsResult> {
  const why = await probeOk;
  if (why) throw new Error(why);
  return boot(specs, cpus);
}

// vcpu_state boots only as a pair: a second copy (seed=2) beside it on one
// emulated CPU, so whichever VM starts second does so on the CPU the other
// just left (a fresh vCPU must not find the other VM's registers there).
const stateEntry = byName.get('vcpu_state');
const stateB: ManifestEntry | undefined = stateEntry && { ...stateEntry, name: 'vcpu_state_b', extraParams: 'seed=2' };
const statePair = stateEntry && stateB ? afterProbe([{ entry: stateEntry }, { entry: stateB }], 1) : null;
statePair?.catch(() => {});

// Guests with a NIC boot together, one VM set (vnet: its roles need each
// other), on as many emulated CPUs as VMs so that none waits for a CPU.
const netEntries = entries.filter((e) => e.nic);
const netSet = netEntries.length ? afterProbe(netEntries.map((entry) => ({ entry })), netEntries.length) : null;
netSet?.catch(() => {});

// Start every boot now (the pool limits them), then assert in uvu's order.
// Single-vCPU guests share boots, BATCH at a time as VMs of one set: the
// monitor's own boot under Bochs costs as much as a small guest's run, and
// neighbours make each check stronger (a guest must pass next to others).
// Guests marked `alone = yes`, SMP guests and the pairs below boot alone.
const BATCH = Math.max(1, Number(process.env.CG_GUEST_BATCH ?? 4) || 1);
const results = new Map<string, Promise<RunGuestsResult>>();
const start = (group: ManifestEntry[]): Promise<RunGuestsResult> => {
  const p = afterProbe(group.map((entry) => ({ entry })));
  p.catch(() => {});
  for (const e of group) results.set(e.name, p);
  return p;
};
if (statePair) results.set(stateEntry!.name, statePair);
if (netSet) for (const e of netEntries) results.set(e.name, netSet);
// The isolation pair: the attacker's stray writes and the victim's checksum in one boot.
const victim = byName.get('isolation_victim');
const attacker = byName.get('isolation_attacker');
const isolation = victim && attacker ? start([victim, attacker]) : null;
if (probeEntry) results.set(probeEntry.name, probe!);
const batchable = (e: ManifestEntry) => e.smp === 1 && !e.alone && !results.has(e.name);
// One batch per monitor command line.
const pending = new Map<string, ManifestEntry[]>();
for (const e of entries) {
  if (results.has(e.name)) continue;
  if (!batchable(e)) {
    start([e]);
    continue;
  }
  const key = e.monitorParams ?? '';
  const batch = [...(pending.get(key) ?? []), e];
  pending.set(key, batch.length === BATCH ? [] : batch);
  if (batch.length === BATCH) start(batch);
}
for (const batch of pending.values()) if (batch.length) start(batch);

test('preconditions: manifest, monitor and guests exist', () => {
  assert.is(pre, null, pre ?? '');
  assert.ok(entries.length > 0, 'manifest.ini lists no guests');
  const missing = entries.filter((e) => !existsSync(join(GUESTS, e.file))).map((e) => e.file);
  assert.equal([...new Set(missing)], [], `guest kernels missing in ${GUESTS} (run make guests): ${missing.join(', ')}`);
});

for (const e of entries) {
  test(`guest ${e.name}: ${showExpectation(e.expect)}`, async () => {
    checkOutcome(await results.get(e.name)!, e);
  });
}

test('isolation: attacker and victim in one boot', async () => {
  if (ONLY && !isolation) return;
  assert.ok(isolation, 'manifest.ini needs isolation_victim and isolation_attacker');
  const r = await isolation!;
  const a = r.vms.find((v) => v.name === 'isolation_attacker')!;
  const v = r.vms.find((v) => v.name === 'isolation_victim')!;
  // Its writes outside RAM are dropped (unassigned space), counted in its stats, and seen by nobody.
  assert.is(a.status, 1, explain(r, a.name, 'attacker must exit 1: every stray write landed nowhere'));
  assert.match(r.monitorOutput, /^@cg vm-stats name=isolation_attacker .*\bdev-unassigned=4\b/m, explain(r, a.name, 'two writes and two reads counted as unassigned'));
  assert.is(v.status, 1, explain(r, v.name, 'victim must exit 1 (all checks passed)'));
  assert.match(v.output, /^PASS: /m, explain(r, v.name, 'victim printed no PASS lines'));
  assert.not.match(v.output, /^FAIL: /m, explain(r, v.name, 'victim printed FAIL lines'));
});

test('vcpu state pair: the VM that starts second on the CPU finds none of the first one\'s registers', async () => {
  if (!statePair) return;
  const r = await statePair;
  checkOutcome(r, stateB!);
  // Both must have run their start checks (a VM that never started proves nothing).
  for (const name of [stateEntry!.name, stateB!.name]) {
    const vm = r.vms.find((v) => v.name === name);
    assert.match(vm?.output ?? '', /^PASS: start: XMM0-7/m, explain(r, name, `${name}: no start check`));
  }
});

test('vnet: spoofed frames dropped and counted, broken rings stop only that device, stats count NIC exits apart', async () => {
  if (!netSet) return;
  const r = await netSet;
  const stats = (name: string) => r.monitorOutput.match(new RegExp(`^@cg vm-stats name=${name} .*$`, 'm'))?.[0] ?? '';
  const field = (line: string, key: string) => Number(new RegExp(`\\b${key}=(\\d+)`).exec(line)?.[1] ?? 0);
  const bad = stats('vnet_bad');
  // 4 kinds x 8 frames (vnet.c SPOOF_KINDS x SPOOF_EACH), all dropped at its port.
  assert.is(field(bad, 'net-spoofed'), 32, explain(r, 'vnet_bad', 'the switch counts its 32 spoofed frames'));
  for (const n of ['vnet_sink', 'vnet_pump']) assert.is(field(stats(n), 'net-spoofed'), 0, explain(r, n, `${n} spoofed nothing`));
  // Its flood met its NIC's packets_per_s bucket.
  assert.ok(field(bad, 'net-throttled') > 0, explain(r, 'vnet_bad', 'the flood was throttled'));
  // Each broken ring: one line naming the VM and the NIC, for vnet_bad only.
  const broken = r.monitorOutput.split('\n').filter((l) => /virtio-net nic \d+ \(network lab0\): .*; device needs reset/.test(l));
  assert.is(broken.length, 8, explain(r, 'vnet_bad', `8 device-needs-reset lines (vnet.c cases), got ${broken.length}`));
  assert.ok(broken.every((l) => l.includes('vm vnet_bad: virtio-net nic 0 (network lab0)')), explain(r, 'vnet_bad', `only vnet_bad's NIC failed:\n${broken.join('\n')}`));
  // stats counts virtio-net exits apart from virtio-blk ones (these VMs have no disk).
  for (const n of ['vnet_sink', 'vnet_pump', 'vnet_bad']) {
    assert.ok(field(stats(n), 'dev-virtio-net') > 0, explain(r, n, `${n}: dev-virtio-net counted`));
    assert.is(field(stats(n), 'dev-virtio-blk'), 0, explain(r, n, `${n}: no dev-virtio-blk exits`));
    // Three VMs on three CPUs waking each other: a steal stamped before
    // another CPU made the vCPU runnable once went negative (a huge u64).
    assert.ok(field(stats(n), 'steal') < 2 ** 62, explain(r, n, `${n}: steal time sane`));
    assert.match(stats(n), /\bnet-rx-notifies=\d+ net-rx-interrupts=\d+ /, explain(r, n, `${n}: receive notifications and interrupts counted apart`));
  }
  const rate = /^VNET rate quiet=(\d+) flood=(\d+) flood_frames=(\d+)/m.exec(r.vms.find((v) => v.name === 'vnet_sink')?.output ?? '');
  if (rate) console.log(`  vnet: pump frames in the window: ${rate[1]} quiet, ${rate[2]} next to the flood (${rate[3]} flood frames)`);
  assert.ok(r.done, explain(r, 'vnet_sink', 'the monitor ran on to vms-done'));
});

// Both local APIC paths really ran: an original says apicv=0 in its
// vm-start marker (the default); its twin with cg.apicv=1 says apicv=1
// wherever the CPU offers APIC virtualization (the @cg cpu marker's
// apicv=1 vid=1: Bochs' Haswell does).
test('the _apicv twins ran with APIC virtualization, their originals with the emulated local APIC', async () => {
  const twins = entries.filter((e) => e.name.endsWith('_apicv') && byName.has(e.name.slice(0, -'_apicv'.length)));
  for (const twin of twins) {
    const orig = byName.get(twin.name.slice(0, -'_apicv'.length))!;
    assert.ok(/(^| )cg\.apicv=1( |$)/.test(twin.monitorParams ?? ''), `${twin.name}: monitor_params should have cg.apicv=1 (got ${JSON.stringify(twin.monitorParams ?? '')})`);
    const apicvOf = (r: RunGuestsResult, name: string) => new RegExp(`^@cg vm-start name=${name} .*\\bapicv=(\\d)`, 'm').exec(r.monitorOutput)?.[1];
    const ro = await results.get(orig.name)!;
    assert.is(apicvOf(ro, orig.name), '0', explain(ro, orig.name, `${orig.name}: vm-start should say apicv=0 (the default)`));
    const rt = await results.get(twin.name)!;
    const offered = /^@cg cpu index=0 .*\bapicv=1 vid=1\b/m.test(rt.monitorOutput);
    if (offered) assert.is(apicvOf(rt, twin.name), '1', explain(rt, twin.name, `${twin.name}: the CPU offers APIC virtualization and cg.apicv=1 asks for it`));
  }
});

test('delivery_unassigned: the stop names the event delivery, not the instruction at RIP', async () => {
  const p = results.get('delivery_unassigned');
  if (!p) return;
  const r = await p;
  // Before, the monitor emulated the faulting load as a device read and the #GP never came.
  assert.match(r.monitorOutput, /delivering an exception or interrupt/, explain(r, 'delivery_unassigned', 'the stop must say the CPU touched it delivering an event'));
});

test('two VMs in one boot: each one\'s output is tagged with its name', async () => {
  if (!isolation) return;
  const r = await isolation;
  assert.ok(r.done, explain(r, victim!.name, 'no @cg vms-done'));
  for (const name of [victim!.name, attacker!.name]) {
    const vm = r.vms.find((v) => v.name === name)!;
    assert.ok(vm.output.trim().length > 0, explain(r, name, `no [${name}] lines`));
  }
  // Guest text must not leak untagged onto the operator line.
  assert.not.match(r.monitorOutput, /^(PASS|FAIL|SUMMARY): /m, explain(r, victim!.name, 'untagged guest lines'));
});

test.run();
