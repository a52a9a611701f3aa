import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { guestSummary, ManifestError, parseExpectation, parseManifest } from '../guests/manifest.js';

const ROOT = resolve(process.env.CG_ROOT ?? process.cwd());

test('a manifest with defaults, comments, CRLF and every key', () => {
  const m = parseManifest(
    [
      '; comment',
      '',
      '[cpuid]',
      'file = cpuid.elf',
      'expect = 1',
      '',
      '[smp3]\r',
      '  file=smp.elf  ',
      'smp = 3',
      'mem = 128',
      'extra_params = cpus=3 a=b',
      'timeout = 120',
      'expect = stop:bad-memory-access',
      'qemu_expect = 3',
      'groups = smp  isolation',
      'on_unassigned_access = stop',
      'alone = yes',
      'monitor_params = cg.apicv=0   cg.spec=on',
    ].join('\n'),
  );
  assert.equal(m[0], { name: 'cpuid', file: 'cpuid.elf', smp: 1, memMiB: 64, extraParams: '', timeoutS: 60, expect: { kind: 'status', status: 1 }, groups: [], alone: false, line: 3 });
  assert.equal(m[1], {
    name: 'smp3',
    file: 'smp.elf',
    smp: 3,
    memMiB: 128,
    extraParams: 'cpus=3 a=b',
    timeoutS: 120,
    expect: { kind: 'stop', reason: 'bad-memory-access' },
    groups: ['smp', 'isolation'],
    alone: true,
    line: 7,
    qemuExpect: { kind: 'status', status: 3 },
    onUnassignedAccess: 'stop',
    monitorParams: 'cg.apicv=0 cg.spec=on',
  });
});

test('errors name the line', () => {
  const cases: [string, RegExp][] = [
    ['file = a.elf\n', /^manifest\.ini line 1: file before any \[section\]/],
    ['[a]\nfile = a.elf\nexpect = 1\n[a]\n', /^manifest\.ini line 4: \[a\] appears twice/],
    ['[Bad]\n', /^manifest\.ini line 1: \[Bad\] is not a section header/],
    ['[a]\nfile = a.elf\nexpect = 1\ncolour = red\n', /^manifest\.ini line 4: unknown key colour; allowed: file, smp/],
    ['[a]\nfile = a.elf\nfile = b.elf\n', /^manifest\.ini line 3: file given twice in \[a\]/],
    ['[a]\njust words\n', /^manifest\.ini line 2: "just words" is not "key = value"/],
    ['[a]\nexpect = 1\n', /^manifest\.ini line 1: \[a\] has no file/],
    ['\n[a]\nfile = a.elf\n', /^manifest\.ini line 2: \[a\] has no expect/],
    ['[a]\nfile = a.elf\nexpect = maybe\n', /^manifest\.ini line 3: expect = maybe is not a status/],
    ['[a]\nfile = a.elf\nexpect = 256\n', /^manifest\.ini line 3: expect = 256/],
    ['[a]\nfile = a.elf\nexpect = 1\nsmp = 0\n', /^manifest\.ini line 4: smp = 0 is not a whole number from 1 to 16/],
    ['[a]\nfile = a.elf\nexpect = 1\ntimeout = 1.5\n', /^manifest\.ini line 4: timeout = 1\.5/],
    ['[a]\nfile = a.elf\nexpect = 1\nqemu_expect = stop:\n', /^manifest\.ini line 4: qemu_expect = stop:/],
    ['[a]\nfile = a.elf\nexpect = 1\non_unassigned_access = drop\n', /^manifest\.ini line 4: on_unassigned_access = drop is not ignore or stop/],
    ['[a]\nfile = a.elf\nexpect = 1\nalone = true\n', /^manifest\.ini line 4: alone = true is not yes or no/],
    ['[a]\nfile = ../x.elf\nexpect = 1\n', /^manifest\.ini line 2: file = \.\.\/x\.elf is not a plain file name/],
    ['[a]\nfile = a.elf\nexpect = 1\nnic = Lab0\n', /^manifest\.ini line 4: nic = Lab0 does not start with a network name/],
    ['[a]\nfile = a.elf\nexpect = 1\nnic = lab0 speed=9\n', /^manifest\.ini line 4: nic option speed=9 is not mac=<MAC> or packets_per_s=<N>/],
    ['[a]\nfile = a.elf\nexpect = 1\nnic = lab0 packets_per_s=x\n', /^manifest\.ini line 4: packets_per_s=x is not a whole number/],
    ['[a]\nfile = a.elf\nexpect = 1\nmonitor_params = apicv=0\n', /^manifest\.ini line 4: monitor_params word apicv=0 is not cg\.<key>=<value>/],
    ['[a]\nfile = a.elf\nexpect = 1\nmonitor_params = cg.apicv=0 cg.x=$(reboot)\n', /^manifest\.ini line 4: monitor_params word cg\.x=\$\(reboot\) is not/],
    ['[a]\nfile = a.elf\nexpect = 1\nmonitor_params =\n', /^manifest\.ini line 4: monitor_params word \(none\)/],
  ];
  for (const [text, re] of cases) {
    try {
      parseManifest(text);
      assert.unreachable(text);
    } catch (e) {
      assert.instance(e, ManifestError, text);
      assert.match((e as Error).message, re);
    }
  }
});

test('nic: a network, then mac= and packets_per_s=', () => {
  const [e] = parseManifest('[n]\nfile = n.elf\nexpect = 1\nnic = lab0 mac=02:00:00:00:0e:01 packets_per_s=10\n');
  assert.equal(e!.nic, { network: 'lab0', mac: '02:00:00:00:0e:01', packets_per_s: 10 });
  assert.equal(parseManifest('[n]\nfile = n.elf\nexpect = 1\nnic = lab1\n')[0]!.nic, { network: 'lab1' });
  assert.is(parseManifest('[n]\nfile = n.elf\nexpect = 1\n')[0]!.nic, undefined);
});

test('expectations and SUMMARY lines', () => {
  assert.equal(parseExpectation('85'), { kind: 'status', status: 85 });
  assert.equal(parseExpectation('stop:triple-fault'), { kind: 'stop', reason: 'triple-fault' });
  assert.is(parseExpectation('-1'), null);
  assert.equal(guestSummary('PASS: x\nSUMMARY: 7 tests, 0 unexpected failures\n'), { tests: 7, failures: 0 });
  assert.equal(guestSummary('SUMMARY: 3 tests, 2 unexpected failures (1 skipped)'), { tests: 3, failures: 2 });
  assert.is(guestSummary('no summary'), null);
});

test('the real test/guests/manifest.ini parses', () => {
  const path = join(ROOT, 'test', 'guests', 'manifest.ini');
  assert.ok(existsSync(path), `${path} is missing: the test guests' manifest should be there`);
  const m = parseManifest(readFileSync(path, 'utf8'), 'test/guests/manifest.ini');
  assert.ok(m.length > 0, 'at least one entry');
});

test.run();
