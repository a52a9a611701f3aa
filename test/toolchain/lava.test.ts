// The LAVA integration's pure parts (toolchain/src/lava): the monitors
// pattern read the way LAVA reads it (Python's re, through the system
// Python that LAVA runs on), the job and device dictionaries checked
// against lava_common's own schemas, the tftp deploy's slots, the report a
// lab run prints from lava-run's log, and the board's boot-loader watch.
// The end-to-end runs with lava-run are test/boot/lava.test.ts.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { LoaderWatch } from '../../toolchain/src/lava/board.js';
import { renderDevice } from '../../toolchain/src/lava/device.js';
import { bootCommands, renderJob, type JobInput, type LavaBoot } from '../../toolchain/src/lava/job.js';
import { FIXUPDICT, lavaCaseId, MONITOR_END, MONITOR_PATTERN } from '../../toolchain/src/lava/monitor.js';
import { formatReport, labReport, parseLavaLog, type LavaResult } from '../../toolchain/src/lava/results.js';

const PY = '/usr/bin/python3';
const hasLava = existsSync(PY) && spawnSync(PY, ['-c', 'import lava_common.schemas'], { encoding: 'utf8' }).status === 0;

/** Runs Python with a JSON value on stdin; returns its JSON answer. */
function py(code: string, input: unknown): unknown {
  const r = spawnSync(PY, ['-c', code], { input: JSON.stringify(input), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

// As lava_dispatcher's TestMonitorAction does with pexpect: search the
// buffer for the end and the result pattern (compiled with DOTALL), take the
// earliest, drop the buffer up to the match's end, map the result through
// fixupdict, and name the case as LAVA does.
const MONITOR_PY = `
import json, re, sys
a = json.load(sys.stdin)
pats = [re.compile(a['end'], re.DOTALL), re.compile(a['pattern'], re.DOTALL)]
buf, out = a['text'], []
while True:
    ms = [(m.start(), i, m) for i, p in enumerate(pats) for m in [p.search(buf)] if m]
    if not ms: break
    _, i, m = min(ms, key=lambda t: (t[0], t[1]))
    if i == 0: out.append(['END', '']); break
    g = m.groupdict()
    r = a['fix'].get(g['result'], g['result'])
    out.append([re.sub(r'\\W+', '_', g['test_case_id'].strip().lower()), r])
    buf = buf[m.end():]
print(json.dumps(out))
`;

const SERIAL = [
  '@cg boot version=0.1.0 loader=multiboot2 efi=0 cmdline="cg.shell=0"',
  '@cg cpu index=1 apic=1 vmx=1 rev=0x2b',
  '@cg ready cpus=2 vmx=2 ticks=9043817',
  '@cg vm-start name=web-1 vcpus=2 mem=64 overhead=69632 apicv=0',
  '@cg vm-start name=db vcpus=1 mem=16 overhead=1 apicv=0',
  '[web-1] ok 1 - boots fine',
  '[web-1] not ok 2 disk io # TODO later',
  '[db] PASS: leaf 1 ecx[31] set',
  '[db] FAIL: msr 0x10',
  '[db] SKIP: no pcid',
  // A guest's own marker arrives escaped and is not a case; an untagged line is not either.
  '[web-1] \\@cg vm-exit name=db status=1',
  'ok 9 not a guest line',
  '@cg vm-exit name=web-1 status=3',
  '@cg vm-exit name=db status=1',
  '@cg vm-start name=off vcpus=1 mem=16 overhead=1 apicv=0',
  '@cg vm-exit name=off status=0 reason=poweroff',
  '@cg vm-exit name=ten status=10',
  '@cg vm-stop name=evil reason=bad-memory-access',
  '@cg vms-done count=4',
  '@cg vm-exit name=late status=1',
];

test('the monitors pattern, read as LAVA reads it, gives every case and result (lines ending \\r\\r\\n as through a pty)', () => {
  if (!existsSync(PY)) return void console.log('  (skipped: no /usr/bin/python3)');
  const got = py(MONITOR_PY, { end: MONITOR_END, pattern: MONITOR_PATTERN, fix: FIXUPDICT, text: SERIAL.join('\r\r\n') + '\r\r\n' });
  assert.equal(got, [
    ['ready', 'pass'],
    ['vm_start_name_web_1', 'pass'],
    ['vm_start_name_db', 'pass'],
    ['boots_fine', 'pass'],
    ['disk_io', 'fail'],
    ['leaf_1_ecx_31_set', 'pass'],
    ['msr_0x10', 'fail'],
    ['no_pcid', 'skip'],
    ['web_1', 'fail'],
    ['db', 'pass'],
    ['vm_start_name_off', 'pass'],
    ['off', 'pass'],
    ['ten', 'fail'],
    ['evil', 'fail'],
    ['END', ''],
  ]);
});

test('a line is read only once it is whole', () => {
  if (!existsSync(PY)) return;
  const got = py(MONITOR_PY, { end: MONITOR_END, pattern: MONITOR_PATTERN, fix: FIXUPDICT, text: '@cg ready cpus=2\r\n@cg vm-exit name=a sta' });
  assert.equal(got, [['ready', 'pass']]);
});

test('lavaCaseId names a case as lava_dispatcher does', () => {
  assert.is(lavaCaseId('vm-start name=web-1'), 'vm_start_name_web_1');
  assert.is(lavaCaseId('  Leaf 0x40000000: "CrossGuardVM" '), 'leaf_0x40000000_crossguardvm_');
});

const base = (boot: LavaBoot): JobInput => ({
  boot,
  deviceType: boot === 'minimal' ? 'crossguard-bochs' : 'crossguard-qemu',
  jobName: 'unit',
  timeoutS: 300,
  bootTimeoutS: 60,
  cmdline: 'cg.shell=0',
  vms: ['a', 'b'],
  ...(boot === 'minimal'
    ? {}
    : { monitorUrl: 'file:///x/crossguard.elf', modules: ['vms.cfg', 'a.kernel', 'b.kernel'].map((n) => ({ name: n, url: `file:///x/${n}` })) }),
});

const VALIDATE_PY = `
import json, sys
from lava_common.schemas import validate
from lava_common.schemas import device as dev
out = []
for kind, d in json.load(sys.stdin):
    try:
        (validate(d, strict=True) if kind == 'job' else dev.validate(d))
        out.append('ok')
    except Exception as e:
        out.append('invalid: %s' % e)
print(json.dumps(out))
`;

test("jobs and devices for every boot method pass lava_common's schemas; broken ones do not", () => {
  if (!hasLava) return void console.log('  (skipped: lava-dispatcher is not installed)');
  const boots: LavaBoot[] = ['minimal', 'qemu', 'ipxe', 'grub'];
  const docs: [string, unknown][] = [];
  for (const b of boots) {
    docs.push(['job', renderJob(base(b))]);
    docs.push(['device', renderDevice({ emulator: b === 'minimal' ? 'bochs' : 'qemu', boot: b, boardCommand: ['/usr/bin/node', '/x/lava-board.mjs'], boardFile: '/x/b.json', cpus: 2, memMiB: 512 })]);
  }
  const noEnd = renderJob(base('minimal')) as { actions: { test?: { monitors: Record<string, unknown>[] } }[] };
  delete noEnd.actions[1]!.test!.monitors[0]!.end;
  const noConstants = renderDevice({ emulator: 'bochs', boot: 'minimal', boardCommand: ['x'], boardFile: 'b', cpus: 1, memMiB: 64 });
  delete noConstants.constants;
  const got = py(VALIDATE_PY, [...docs, ['job', noEnd], ['device', noConstants]]) as string[];
  assert.equal(got.slice(0, docs.length), docs.map(() => 'ok'));
  assert.match(got[docs.length]!, /invalid: .*end/);
  assert.match(got[docs.length + 1]!, /invalid: .*constants/);
});

test('tftp deploys: a slot per payload, the boot commands name each; more payloads than slots are refused', () => {
  const job = renderJob(base('ipxe')) as { actions: Record<string, Record<string, unknown>>[] };
  const d = job.actions[0]!.deploy!;
  assert.is((d.ramdisk as { url: string }).url, 'file:///x/vms.cfg');
  assert.is((d.dtb as { url: string }).url, 'file:///x/a.kernel');
  assert.is((d.tee as { url: string }).url, 'file:///x/b.kernel');
  assert.equal(bootCommands('ipxe', 'cg.shell=0', [{ name: 'vms.cfg', url: '' }, { name: 'k', url: '' }]), [
    'dhcp', 'kernel tftp://{SERVER_IP}/{KERNEL} cg.shell=0', 'module tftp://{SERVER_IP}/{RAMDISK}', 'module tftp://{SERVER_IP}/{DTB}', 'boot',
  ]);
  assert.ok(bootCommands('grub', '', [{ name: 'vms.cfg', url: '' }]).includes('module2 (tftp,{SERVER_IP})/{RAMDISK} vms.cfg'));
  const five = { ...base('grub'), modules: ['vms.cfg', '1', '2', '3', '4'].map((n) => ({ name: n, url: `file:///x/${n}` })) };
  assert.throws(() => renderJob(five), (e: Error) => e.name === 'LavaInputError' && /4 payload files .* slots for 3/.test(e.message));
  assert.throws(() => renderJob({ ...base('minimal'), timeoutS: 0 }), (e: Error) => e.name === 'LavaInputError' && /--timeout 0/.test(e.message));
  const q = renderJob(base('qemu')) as { actions: Record<string, { images: Record<string, { image_arg: string }> }>[] };
  assert.is(q.actions[0]!.deploy!.images.kernel!.image_arg, '-kernel {kernel} -append cg.shell=0 -initrd {m0},{m1},{m2}');
});

const rec = (r: Partial<LavaResult>) => JSON.stringify({ dt: 't', lvl: 'results', msg: { definition: 'crossguard', result: 'pass', ...r } });
const target = (msg: string) => JSON.stringify({ dt: 't', lvl: 'target', msg });

test('the lab report: failed and timed-out VMs named, how each ended, the failed LAVA step and what the board said', () => {
  const log = [
    'not json',
    rec({ case: 'ready' }),
    rec({ case: 'vm_start_name_web_1' }),
    rec({ case: 'vm_start_name_stuck' }),
    target('@cg vm-exit name=web-1 status=3'),
    rec({ case: 'web_1', result: 'fail' }),
    target('crossguard: VT-x is here'),
    rec({ definition: 'lava', case: 'lava-test-monitor', result: 'fail', extra: { fail: 'timed out' } }),
    rec({ definition: 'lava', case: 'job', result: 'fail', error_msg: 'lava-test-monitor timed out after 15 seconds' }),
  ].join('\n');
  const r = labReport(parseLavaLog(log), ['web-1', 'stuck', 'ghost']);
  assert.is(r.ok, false);
  assert.equal(r.failed.map((c) => c.name), ['web_1', 'stuck', 'ghost']);
  assert.is(r.step, 'lava-test-monitor');
  assert.is(r.boardSays, undefined, "the monitor's own crossguard: lines are not the board's");
  const lines = formatReport(r);
  assert.ok(lines.includes('FAIL    web_1  (VM web-1: exit status=3)'), lines.join('\n'));
  assert.ok(lines.includes('FAIL    stuck  (VM stuck started and never ended (timed out))'));
  assert.ok(lines.includes('FAIL    ghost  (VM ghost never started or ended)'));
  assert.match(lines.at(-1)!, /^6 cases: 3 passed, 3 failed \(web_1, stuck, ghost\); LAVA step lava-test-monitor failed: lava-test-monitor timed out/);

  const boot = labReport(parseLavaLog([
    target('crossguard lava board: the boot loader failed before the monitor started (error: no multiboot header found.)'),
    rec({ definition: 'lava', case: 'auto-login-action', result: 'fail', extra: { fail: 'Connection closed' } }),
    rec({ definition: 'lava', case: 'job', result: 'fail', error_msg: 'Connection closed' }),
  ].join('\n')), ['a']);
  assert.equal(boot.cases.map((c) => `${c.name}:${c.result}`), ['ready:fail', 'a:fail']);
  assert.is(boot.step, 'auto-login-action');
  assert.match(boot.boardSays!, /no multiboot header/);

  const good = labReport(parseLavaLog([rec({ case: 'ready' }), rec({ case: 'vm_start_name_a' }), rec({ case: 'a' }), rec({ definition: 'lava', case: 'job' })].join('\n')), ['a']);
  assert.is(good.ok, true);
  assert.is(formatReport(good).at(-1), '3 cases: 3 passed, 0 failed');
  // No job result at all (lava-run died): not a pass.
  assert.is(labReport(parseLavaLog([rec({ case: 'ready' }), rec({ case: 'a' })].join('\n')), ['a']).ok, false);
});

test("the board's loader watch: an error before the monitor's first line, never after it", () => {
  const w = new LoaderWatch();
  assert.is(w.push('\x1b[H  Booting `crossguard (multiboot2)\'\r\n\r\nerror: no multiboot'), null, 'not a whole line yet');
  assert.is(w.push(' header found.\r\n'), 'error: no multiboot header found.');
  const ok = new LoaderWatch();
  assert.is(ok.push('Booting\r\n@cg boot version=1\r\n'), null);
  assert.is(ok.push('[g] error: this is a guest\r\n'), null);
});

test.run();
