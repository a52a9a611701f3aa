import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { appendCapped, EscapeFilter, parseConsoleSpec } from '../../toolchain/src/console.js';
import { planRun, type RunArgs } from '../../toolchain/src/commands/run.js';

test('EscapeFilter: Ctrl-A x quits, Ctrl-A Ctrl-A sends one, split across chunks', () => {
  const f = new EscapeFilter();
  assert.equal(f.push(Buffer.from('ab')), { forward: Buffer.from('ab'), quit: false });
  assert.equal(f.push(Buffer.from([0x01])), { forward: Buffer.alloc(0), quit: false });
  assert.equal(f.push(Buffer.from([0x01, 0x63])), { forward: Buffer.from([0x01, 0x63]), quit: false });
  assert.equal(f.push(Buffer.from([0x01, 0x64])), { forward: Buffer.from([0x01, 0x64]), quit: false });
  assert.equal(f.push(Buffer.from([0x7a, 0x01, 0x78, 0x79])), { forward: Buffer.from([0x7a]), quit: true });
});

test('parseConsoleSpec', () => {
  assert.equal(parseConsoleSpec('tcp:127.0.0.1:4444'), { host: '127.0.0.1', port: 4444 });
  assert.equal(parseConsoleSpec('tcp:[::1]:0'), { host: '::1', port: 0 });
  for (const bad of ['127.0.0.1:4444', 'tcp:host', 'tcp:h:99999', 'udp:h:1'])
    assert.throws(() => parseConsoleSpec(bad), (e: Error) => e.name === 'UsageError', bad);
});

test('appendCapped drops the oldest chunks', () => {
  const c = appendCapped(appendCapped(appendCapped([], Buffer.alloc(4), 8), Buffer.alloc(4), 8), Buffer.alloc(4), 8);
  assert.is(c.length, 2);
});

const base: RunArgs = { emulator: 'auto', boot: 'iso', firmware: 'bios', cpus: 2, mem: 512, timeout: 0, build: true };

test('planRun: defaults and conversions', () => {
  assert.equal(planRun(base), { timeoutMs: 0 });
  const p = planRun({ ...base, timeout: 1.5, until: '@cg ready', console: 'tcp:localhost:5000' });
  assert.is(p.timeoutMs, 1500);
  assert.ok(p.until?.test('x @cg ready'));
  assert.equal(p.console, { host: 'localhost', port: 5000 });
});

test('planRun: usage errors', () => {
  const bad: Partial<RunArgs>[] = [
    { cpus: 0 },
    { cpus: 1.5 },
    { mem: 8 },
    { timeout: -1 },
    { until: '(' },
    { boot: 'elf', emulator: 'bochs' },
    { cmdline: 'x', image: 'a.iso' },
    { firmware: 'uefi', emulator: 'bochs' },
    { firmware: 'uefi', emulator: 'qemu', boot: 'elf' },
  ];
  for (const b of bad)
    assert.throws(() => planRun({ ...base, ...b }), (e: Error) => e.name === 'UsageError', JSON.stringify(b));
});

test.run();
