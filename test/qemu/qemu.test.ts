import { test } from 'uvu';
import { existsSync } from 'node:fs';
import * as assert from 'uvu/assert';
import { debugExitValue, qemuArgs, QemuEmulator } from '../../qemu/qemu.js';
import { runUntil } from '../../qemu/emulator.js';
import { FakeClock, FakeSpawner } from './fakes.js';

const opt = (a: string[], name: string) => a[a.indexOf(name) + 1];

test('qemuArgs: TCG with an ISO', () => {
  const a = qemuArgs('qemu', { image: { kind: 'iso', path: '/i/cg.iso' }, cpus: 4, memMiB: 256 });
  assert.is(opt(a, '-accel'), 'tcg');
  assert.is(opt(a, '-cpu'), 'max');
  assert.is(opt(a, '-smp'), '4');
  assert.is(opt(a, '-m'), '256');
  assert.is(opt(a, '-cdrom'), '/i/cg.iso');
  assert.is(opt(a, '-boot'), 'd');
  assert.is(opt(a, '-serial'), 'stdio');
  assert.is(opt(a, '-device'), 'isa-debug-exit,iobase=0xf4,iosize=4');
  assert.ok(a.includes('-no-reboot'));
  assert.is(opt(a, '-display'), 'none');
});

test('qemuArgs: KVM with an ELF and a command line', () => {
  const a = qemuArgs('kvm', { image: { kind: 'elf', path: '/i/cg.elf', cmdline: 'log=debug x' }, cpus: 1, memMiB: 64 });
  assert.is(opt(a, '-accel'), 'kvm');
  assert.is(opt(a, '-cpu'), 'host,+vmx');
  assert.is(opt(a, '-kernel'), '/i/cg.elf');
  assert.is(opt(a, '-append'), 'log=debug x');
  assert.not.ok(a.includes('-cdrom'));
});

test('qemuArgs: an uplink e1000 on restricted user networking', () => {
  const a = qemuArgs('qemu', { image: { kind: 'iso', path: '/i/cg.iso' }, cpus: 1, memMiB: 64, uplink: { mac: '52:54:00:12:0a:01', tftpRoot: '/t' } });
  const i = a.indexOf('-netdev');
  assert.equal(a.slice(i, i + 4), ['-netdev', 'user,id=up0,restrict=on,tftp=/t', '-device', 'e1000,netdev=up0,mac=52:54:00:12:0a:01,romfile=']);
});

test('qemuArgs: an uplink e1000e wired to UDP ports on loopback; a bad port refused', () => {
  const opts = (qemuPort: number) => ({ image: { kind: 'iso' as const, path: '/i/cg.iso' }, cpus: 1, memMiB: 64, uplink: { mac: '52:54:00:12:0a:02', model: 'e1000e' as const, udp: { qemuPort, peerPort: 40001 } } });
  const a = qemuArgs('qemu', opts(40000));
  const i = a.indexOf('-netdev');
  assert.equal(a.slice(i, i + 4), ['-netdev', 'socket,id=up0,udp=127.0.0.1:40001,localaddr=127.0.0.1:40000', '-device', 'e1000e,netdev=up0,mac=52:54:00:12:0a:02,romfile=']);
  assert.throws(() => qemuArgs('qemu', opts(70000)), /UDP port 70000 is not a port number/);
});

test('debugExitValue decodes (v << 1) | 1', () => {
  assert.is(debugExitValue(3), 1);
  assert.is(debugExitValue(1), 0);
  assert.is(debugExitValue(0), null);
  assert.is(debugExitValue(null), null);
});

test('boot with a fake spawner: serial is stdio, stop kills, diagnostics show stderr', async () => {
  const sp = new FakeSpawner();
  const clock = new FakeClock();
  const emu = new QemuEmulator('qemu', () => false);
  const signalled: [number, string | 0][] = [];
  const signal = (pgid: number, sig: NodeJS.Signals | 0) => (signalled.push([pgid, sig]), false);
  const m = await emu.boot(
    { image: { kind: 'iso', path: 'x.iso' }, cpus: 1, memMiB: 64 },
    { spawner: sp.spawn, clock, signal },
  );
  assert.is(sp.calls[0]!.cmd, 'qemu-system-x86_64');
  const child = sp.children[0]!;
  child.stderr!.write('qemu: warning: something\n');
  const p = runUntil(m, { until: /ready/, clock, keep: true });
  child.stdout!.write('@cg ready\n');
  assert.is((await p).status, 'matched');
  const got: Buffer[] = [];
  child.stdin!.on('data', (b: Buffer) => got.push(b));
  m.serial.write('q');
  await new Promise((r) => setImmediate(r));
  assert.is(Buffer.concat(got).toString(), 'q');
  assert.match(m.diagnostics(), /warning: something/);
  child.exit({ code: 3, signal: null });
  assert.equal(await m.exited, { code: 3, signal: null });
  await m.stop();
  assert.equal(signalled, [[child.pid, 'SIGTERM']], 'stop signals the group, and only through the fake');
  assert.not.ok(existsSync(sp.calls[0]!.opts!.cwd!), 'temp dir removed');
});

test('kvm is unavailable without nested VT-x, with a reason', async () => {
  const a = await new QemuEmulator('kvm', () => false).available();
  assert.is(a.ok, false);
  if (!a.ok) assert.match(a.reason, /nested/);
});

test.run();
