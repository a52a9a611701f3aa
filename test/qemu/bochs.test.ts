import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BochsEmulator, bochsLogDiagnostics, bochsrc, bochsScreenTty, uplinkSlirpConf } from '../../qemu/bochs.js';

const rc = bochsrc({ iso: '/img/cg.iso', cpus: 2, memMiB: 512, serialPort: 40123, logPath: '/tmp/x/bochs.log' });
const lines = rc.split('\n');

test('bochsScreenTty: the pty the term display draws on, so it can be drained', () => {
  assert.is(bochsScreenTty('========\nBochs connected to screen "/dev/pts/7"\ncom1: waiting for client\n'), '/dev/pts/7');
  assert.is(bochsScreenTty('com1: waiting for client\n'), null);
});

test('bochsrc: clock rate only when asked', () => {
  assert.not.match(rc, /ips=/);
  assert.match(bochsrc({ iso: '/i', cpus: 1, memMiB: 64, serialPort: 1, logPath: '/l', ips: 50_000_000 }), /^cpu: .*, ips=50000000$/m);
});

test('bochsrc: machine', () => {
  assert.ok(lines.includes('megs: 512'));
  assert.ok(lines.includes('cpu: model=corei7_haswell_4770, count=2, reset_on_triple_fault=0'));
  assert.ok(lines.includes('romimage: file=/usr/share/bochs/BIOS-bochs-latest'));
  assert.ok(lines.includes('vgaromimage: file=/usr/share/vgabios/vgabios.bin'));
  assert.ok(lines.includes('clock: sync=none, time0=local'));
});

test('bochsrc: boot from the ISO on ata0-master', () => {
  assert.ok(lines.includes('ata0-master: type=cdrom, path="/img/cg.iso", status=inserted'));
  assert.ok(lines.includes('boot: cdrom'));
});

test('bochsrc: serial socket, e9 hack, log, display, plugins, panic', () => {
  assert.ok(lines.includes('com1: enabled=1, mode=socket-server, dev=localhost:40123'));
  assert.ok(lines.includes('port_e9_hack: enabled=1'));
  assert.ok(lines.includes('log: /tmp/x/bochs.log'));
  assert.ok(lines.includes('display_library: term'));
  assert.ok(lines.includes('plugin_ctrl: speaker=false, sb16=false, es1370=false, gameport=false, parallel=false'));
  assert.ok(lines.includes('panic: action=fatal'));
});

test('bochsrc: an uplink e1000 on restricted slirp beside the CD, no option ROM', () => {
  const r = bochsrc({ iso: '/i', cpus: 1, memMiB: 64, serialPort: 1, logPath: '/l', uplink: { mac: '52:54:00:12:0a:01', tftpRoot: '/t/root', slirpConf: '/t/slirp.conf' } });
  assert.match(r, /^pci: enabled=1, chipset=i440fx, slot1=e1000$/m);
  assert.match(r, /^e1000: enabled=1, mac=52:54:00:12:0a:01, ethmod=slirp, ethdev=\/t\/root, script=\/t\/slirp\.conf$/m);
  assert.match(r, /^boot: cdrom$/m);
  assert.not.match(rc, /e1000/, 'none unless asked');
  assert.equal(uplinkSlirpConf().split('\n').slice(0, 2), ['# slirp config', 'restricted = 1']);
  assert.throws(() => bochsrc({ iso: '/i', cpus: 1, memMiB: 64, serialPort: 1, logPath: '/l', uplink: { mac: '52:54:00:12:0A:01', tftpRoot: '/t', slirpConf: '/s' } }), /not lowercase/);
});

test('bochsLogDiagnostics keeps the last error-like lines', () => {
  const log = [
    '00000000000i[CPU0  ] CPU is in protected mode',
    '00012345678e[CPU0  ] VMFAIL: VMCS EXEC CTRL: VMX pin-based controls allowed 1-settings [0x00000016]',
    '00012345679i[CPU0  ] harmless',
    '00012345680e[CPU0  ] VMENTER FAIL: RFLAGS reserved bits are set',
    '00012345690p[CPU0  ] >>PANIC<< exception(): 3rd (13) exception with no resolution',
  ].join('\n');
  const d = bochsLogDiagnostics(log, 2).split('\n');
  assert.is(d.length, 2);
  assert.match(d[0]!, /VMENTER FAIL/);
  assert.match(d[1]!, /PANIC/);
  assert.not.match(bochsLogDiagnostics(log), /harmless/);
});

test('boot of an ELF is refused with a named error', async () => {
  try {
    await new BochsEmulator().boot({ image: { kind: 'elf', path: 'x.elf' }, cpus: 1, memMiB: 64 });
    assert.unreachable();
  } catch (e) {
    assert.is((e as Error).name, 'UnsupportedImageError');
    assert.match((e as Error).message, /ISO/);
  }
});

test.run();
