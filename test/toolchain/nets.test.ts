import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { NET_LIMITS } from '../../toolchain/src/nets.js';
import { mb1ElfHead } from './kernels.js';
import { emitVmsCfg } from '../../toolchain/src/vmcfg.js';
import { parseVmDescription, VmConfigError, type VmFileAccess } from '../../toolchain/src/vms.js';

const ROOT = resolve(process.env.CG_ROOT ?? process.cwd());
const CHECK = join(ROOT, 'build', 'unit', 'vmcfg_check');

const ELF64 = mb1ElfHead();
const fs: VmFileAccess = { exists: (p) => p === '/d/k.elf', readHead: (p) => (p === '/d/k.elf' ? ELF64 : null) };
const vm = (name: string, o: Record<string, unknown> = {}) => ({ name, memory_mib: 16, kernel: 'k.elf', ...o });
const parse = (v: unknown) => parseVmDescription(JSON.stringify(v), '/d', { files: fs, source: 'vms.json' });

function problems(v: unknown): string[] {
  try {
    parse(v);
  } catch (e) {
    assert.instance(e, VmConfigError);
    return (e as VmConfigError).problems;
  }
  assert.unreachable(`accepted ${JSON.stringify(v)}`);
  return [];
}

const nets = [{ name: 'lab0' }, { name: 'lab1' }, { name: 'spare' }];

test('networks and nics: defaults, given MACs lower-cased, unused networks left out, vms.cfg lines', () => {
  const set = parse({
    networks: nets,
    vms: [
      vm('a', { nics: [{ network: 'lab0', mac: '02:00:00:00:00:AB' }, { network: 'lab1', bytes_per_s: 1518, packets_per_s: 100 }] }),
      vm('b', { nics: [{ network: 'lab0' }] }),
      vm('c'),
    ],
  });
  assert.equal(set.networks, [{ name: 'lab0' }, { name: 'lab1' }], 'spare is declared but unused');
  assert.equal(set.vms[0]!.nics, [
    { network: 'lab0', mac: '02:00:00:00:00:ab', bytesPerSec: 0, packetsPerSec: 0 },
    { network: 'lab1', bytesPerSec: 1518, packetsPerSec: 100 },
  ]);
  assert.is(set.vms[2]!.nics, undefined, 'no nics: none');
  const cfg = emitVmsCfg(set);
  assert.match(cfg, /\nnetwork lab0\nnetwork lab1\nvm a\n/);
  assert.match(cfg, /\nnic lab0 02:00:00:00:00:ab 0 0\nnic lab1 auto 1518 100\nend\n/);
  assert.match(cfg, /\nkernel b\.kernel\n[^]*nic lab0 auto 0 0\nend\n/);
  assert.not.match(parse({ vms: [vm('a')] }) && emitVmsCfg(parse({ vms: [vm('a')] })), /network|nic/, 'no networks: no lines');
});

test('an uplink: kept on the network, written after its name in vms.cfg', () => {
  const set = parse({ networks: [{ name: 'lab0' }, { name: 'wan', uplink: 'nic0' }], vms: [vm('a', { nics: [{ network: 'lab0' }, { network: 'wan' }] })] });
  assert.equal(set.networks, [{ name: 'lab0' }, { name: 'wan', uplink: 'nic0' }]);
  assert.match(emitVmsCfg(set), /\nnetwork lab0\nnetwork wan nic0\nvm a\n/);
});

test('bad networks and nics: every error names the path, the value and the fix', () => {
  const cases: [unknown, RegExp][] = [
    [{ networks: { lab0: {} }, vms: [vm('a')] }, /^networks: \{"lab0":\{\}\} is not a list; write "networks": \[ \{ "name": "lab0" \} \]$/],
    [{ networks: [{ name: 'lab0', uplink: 'eth0' }], vms: [vm('a')] }, /^networks\[0\]\.uplink: "eth0" is no host NIC; write "nic0" \(the first NIC the monitor finds\), up to "nic3"$/],
    [{ networks: [{ name: 'lab0', uplink: 'nic4' }], vms: [vm('a')] }, /^networks\[0\]\.uplink: "nic4" is no host NIC/],
    [{ networks: [{ name: 'lab0', uplink: 0 }], vms: [vm('a')] }, /^networks\[0\]\.uplink: 0 is no host NIC/],
    [{ networks: [{ name: 'a', uplink: 'nic1' }, { name: 'b', uplink: 'nic1' }], vms: [vm('a')] }, /^networks\[1\]\.uplink: "nic1" is the uplink of network "a" already; give each network its own NIC$/],
    [{ networks: [{ name: 'Lab0' }], vms: [vm('a')] }, /^networks\[0\]\.name: "Lab0" is not a valid network name; use 1 to 31/],
    [{ networks: [{ name: 'x' }, { name: 'x' }], vms: [vm('a')] }, /^networks\[1\]\.name: "x" is declared twice; names must be unique$/],
    [{ networks: [{}], vms: [vm('a')] }, /^networks\[0\]\.name: missing; give the network a name such as "lab0"$/],
    [{ networks: [{ name: 'a', vlan: 3 }], vms: [vm('a')] }, /^networks\[0\]\.vlan: unknown key; allowed keys here: name, uplink$/],
    [{ networks: Array.from({ length: 9 }, (_, i) => ({ name: `n${i}` })), vms: [vm('a')] }, /^networks: 9 networks is over the limit of 8; put the VMs on fewer networks$/],
    [{ networks: nets, vms: [vm('a', { nics: [{ network: 'lab9' }] })] }, /^vms\[0\]\.nics\[0\]\.network: "lab9" is not declared in "networks"; use one of "lab0", "lab1", "spare" or declare it$/],
    [{ vms: [vm('a', { nics: [{ network: 'lab0' }] })] }, /^vms\[0\]\.nics\[0\]\.network: "lab0" is not declared; add "networks": \[ \{ "name": "lab0" \} \] at the top level$/],
    [{ networks: nets, vms: [vm('a', { nics: [{}] })] }, /^vms\[0\]\.nics\[0\]\.network: missing; name one of the top-level "networks"$/],
    [{ networks: nets, vms: [vm('a', { nics: [{ network: 'lab0', mac: '02:00:00:00:00' }] })] }, /^vms\[0\]\.nics\[0\]\.mac: "02:00:00:00:00" is not a MAC address; write six hex bytes/],
    [{ networks: nets, vms: [vm('a', { nics: [{ network: 'lab0', mac: '01:00:5e:00:00:01' }] })] }, /^vms\[0\]\.nics\[0\]\.mac: "01:00:5e:00:00:01" is a multicast address .*; give a unicast one/],
    [{ networks: nets, vms: [vm('a', { nics: [{ network: 'lab0', mac: '00:00:00:00:00:00' }] })] }, /^vms\[0\]\.nics\[0\]\.mac: "00:00:00:00:00:00" is no address; give another or leave it out$/],
    [{ networks: nets, vms: [vm('a', { nics: [{ network: 'lab0', bytes_per_s: 1000 }] })] }, /^vms\[0\]\.nics\[0\]\.bytes_per_s: 1000 is below one full frame a second; give 0 \(unlimited\) or at least 1518$/],
    [{ networks: nets, vms: [vm('a', { nics: [{ network: 'lab0', packets_per_s: 1.5 }] })] }, /^vms\[0\]\.nics\[0\]\.packets_per_s: 1\.5 is not a whole number; give one from 0 to 10000000 packets a second/],
    [{ networks: nets, vms: [vm('a', { nics: [{ network: 'lab0', speed: 10 }] })] }, /^vms\[0\]\.nics\[0\]\.speed: unknown key; allowed keys here: network, mac, bytes_per_s, packets_per_s$/],
    [{ networks: nets, vms: [vm('a', { nics: { network: 'lab0' } })] }, /^vms\[0\]\.nics: \{"network":"lab0"\} is not a list; write \[ \{ "network": "lab0" \} \]$/],
    [{ networks: nets, vms: [vm('a', { nics: Array.from({ length: 5 }, () => ({ network: 'lab0' })) })] }, /^vms\[0\]\.nics: 5 nics is over the limit of 4; give the VM fewer nics$/],
    [
      { networks: nets, vms: [vm('a', { nics: [{ network: 'lab0', mac: '02:00:00:00:00:01' }] }), vm('b', { nics: [{ network: 'lab1', mac: '02:00:00:00:00:01' }] })] },
      /^vms\[1\]\.nics\[0\]\.mac: "02:00:00:00:00:01" is already the MAC of vms\[0\]\.nics\[0\]; MACs must be unique/,
    ],
    [
      { networks: nets, vms: Array.from({ length: 5 }, (_, i) => vm(`v${i}`, { nics: Array.from({ length: 4 }, () => ({ network: 'lab0' })) })) },
      /^vms\[4\]\.nics\[0\]\.network: network "lab0" has more than 16 nics; spread the VMs over more networks$/,
    ],
  ];
  for (const [v, re] of cases) {
    const p = problems(v);
    assert.ok(p.some((l) => re.test(l)), `${JSON.stringify(v).slice(0, 120)}\n  got: ${JSON.stringify(p)}\n  want: ${re}`);
  }
  assert.is(NET_LIMITS.nicsPerVm, 4);
});

test('the monitor parser (build/unit/vmcfg_check) reads the nics the emitter writes', () => {
  if (!existsSync(CHECK)) {
    console.log(`  (skipped: ${CHECK} not built; make unit-test builds it)`);
    return;
  }
  const set = parse({
    networks: nets,
    vms: [
      vm('a', { nics: [{ network: 'lab0', mac: '02:00:00:00:00:ab' }, { network: 'lab1', bytes_per_s: 1_000_000_000_000, packets_per_s: 10_000_000 }] }),
      vm('b', { nics: [{ network: 'lab0' }, { network: 'lab0' }, { network: 'lab1' }, { network: 'lab0', bytes_per_s: 1518 }] }),
    ],
  });
  const dir = mkdtempSync(join(tmpdir(), 'cg-nets-'));
  try {
    writeFileSync(join(dir, 'vms.cfg'), emitVmsCfg(set));
    const r = spawnSync(CHECK, [join(dir, 'vms.cfg')], { encoding: 'utf8' });
    assert.is(r.status, 0, r.stdout + r.stderr);
    const nics = r.stdout.split('\n').filter((l) => l.startsWith('nic '));
    assert.equal(nics, [
      'nic a network=lab0 mac=02:00:00:00:00:ab bytes_per_s=0 packets_per_s=0',
      'nic a network=lab1 mac=auto bytes_per_s=1000000000000 packets_per_s=10000000',
      'nic b network=lab0 mac=auto bytes_per_s=0 packets_per_s=0',
      'nic b network=lab0 mac=auto bytes_per_s=0 packets_per_s=0',
      'nic b network=lab1 mac=auto bytes_per_s=0 packets_per_s=0',
      'nic b network=lab0 mac=auto bytes_per_s=1518 packets_per_s=0',
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
