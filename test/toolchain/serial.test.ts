// The monitor's serial port as the tools read it from its command line
// (cg.serial=, the same rules as firmware/init/cmdline.c), and what follows
// from it: GRUB's serial line, the emulators' UART wiring, image --serial.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bochsrc } from '../../qemu/bochs.js';
import { qemuArgs, serialArgs } from '../../qemu/qemu.js';
import { grubCfg } from '../../toolchain/src/image.js';
import { grubDispatch } from '../../toolchain/src/pxe/scripts.js';
import { emulatorSerialUnit, grubSerialLine, monitorSerial, parseSerialValue, withSerial } from '../../toolchain/src/serial.js';
import { throwsNamed } from './named.js';


test('cg.serial values: com1, com2, 0xPORT, with or without a rate dividing 115200', () => {
  assert.equal(parseSerialValue('com1'), { port: 0x3f8, baud: 115200 });
  assert.equal(parseSerialValue('com2,57600'), { port: 0x2f8, baud: 57600 });
  assert.equal(parseSerialValue('0x2E8,9600'), { port: 0x2e8, baud: 9600 });
  assert.equal(parseSerialValue('0xfff8,2'), { port: 0xfff8, baud: 2 });
  for (const bad of ['', 'com3', 'COM2', 'com2,', 'com2,0', 'com2,9601', 'com2,1', 'com2,230400', '0x', '0x0', '0xfff9', '0x10000', '2f8', 'com2,,9600'])
    assert.is(parseSerialValue(bad), null, bad);
});

test('the monitor reads its command line: default COM1, last word wins, a bad word keeps the default', () => {
  assert.equal(monitorSerial(''), { port: 0x3f8, baud: 115200, unit: 1, bad: false });
  assert.equal(monitorSerial('/x.elf cg.shell=0 cg.serial=com2'), { port: 0x2f8, baud: 115200, unit: 2, bad: false });
  assert.equal(monitorSerial('cg.serial=com2 cg.serial=0x3e8,38400'), { port: 0x3e8, baud: 38400, unit: 3, bad: false });
  assert.equal(monitorSerial('cg.serial=0xe000'), { port: 0xe000, baud: 115200, unit: null, bad: false });
  assert.equal(monitorSerial('cg.serial=com9 cg.serial=com2'), { port: 0x3f8, baud: 115200, unit: 1, bad: true });
});

test("GRUB's serial line follows the monitor's port", () => {
  assert.is(grubSerialLine(''), 'serial --unit=0 --speed=115200');
  assert.is(grubSerialLine('cg.serial=com2'), 'serial --unit=1 --speed=115200');
  assert.is(grubSerialLine('cg.serial=com2,57600'), 'serial --unit=1 --speed=57600');
  assert.is(grubSerialLine('cg.serial=0xe000,9600'), 'serial --port=0xe000 --speed=9600');
  assert.match(grubCfg({ cmdline: 'cg.serial=com2' }), /^serial --unit=1 --speed=115200$/m);
  assert.match(grubCfg({}), /^serial --unit=0 --speed=115200$/m);
  const cfg = grubDispatch('abc', [{ source: 's', vms: [], modules: [] }], ['cg.shell=0', 'cg.serial=com2']);
  assert.match(cfg, /^serial --unit=1 --speed=115200$/m);
  assert.not.match(cfg, /--unit=0/);
});

test('image --serial folds into the command line once; disagreements and bad values are refused', () => {
  assert.is(withSerial(undefined, undefined), undefined);
  assert.is(withSerial('cg.shell=0', undefined), 'cg.shell=0');
  assert.is(withSerial(undefined, 'com2'), 'cg.serial=com2');
  assert.is(withSerial('cg.shell=0', 'com2'), 'cg.shell=0 cg.serial=com2');
  assert.is(withSerial('cg.serial=com2', 'com2'), 'cg.serial=com2');
  throwsNamed(() => withSerial('cg.serial=com1', 'com2'), 'UsageError', /disagree/);
  throwsNamed(() => withSerial('', 'com3'), 'UsageError', /--serial com3: give com1, com2/);
});

test("the emulator's UART: the monitor's COM port is the serial line, lower ones go nowhere", () => {
  assert.equal(serialArgs(), ['-serial', 'stdio']);
  assert.equal(serialArgs(2), ['-serial', 'null', '-serial', 'stdio']);
  assert.is(emulatorSerialUnit('cg.serial=com2'), 2);
  assert.is(emulatorSerialUnit(undefined), 1);
  assert.is(emulatorSerialUnit('cg.serial=bogus'), 1); // the monitor falls back to COM1
  throwsNamed(() => emulatorSerialUnit('cg.serial=0xe000'), 'UsageError', /UARTs at 0x3f8, 0x2f8/);
  const args = qemuArgs('qemu', { image: { kind: 'elf', path: '/x.elf', cmdline: 'cg.serial=com2' }, cpus: 1, memMiB: 64, serialUnit: 2 });
  assert.equal(args.slice(args.indexOf('-serial'), args.indexOf('-serial') + 4), ['-serial', 'null', '-serial', 'stdio']);
  const rc = bochsrc({ iso: '/x.iso', cpus: 1, memMiB: 64, serialPort: 4000, serialUnit: 2, logPath: '/l' });
  assert.match(rc, /^com2: enabled=1, mode=socket-server, dev=localhost:4000$/m);
  assert.not.match(rc, /^com1:/m);
  assert.match(bochsrc({ iso: '/x.iso', cpus: 1, memMiB: 64, serialPort: 4000, logPath: '/l' }), /^com1: enabled=1, mode=socket-server/m);
});

test.run();
