// The netboot tree (toolchain/src/pxe): MACs, per-host sets, content-addressed
// payloads stored once, releases paths in every script, the iPXE loader's
// limits, the dnsmasq rules, the manifest, and writing the tree for real
// (grub-mknetdir and Debian's iPXE binaries when installed).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mb1ElfHead } from './kernels.js';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BOCHS_PXE_ROM, bochsrc, slirpConf } from '../../qemu/bochs.js';
import { netArgs } from '../../qemu/qemu.js';
import { bootPath, userBootfile } from '../../toolchain/src/commands/run-pxe.js';
import { planRun, type RunArgs } from '../../toolchain/src/commands/run.js';
import { bootRules, dnsmasqSnippet, labDnsmasqConf } from '../../toolchain/src/pxe/dnsmasq.js';
import { parseHostArgs } from '../../toolchain/src/pxe/hosts.js';
import { labHttpBase, resolveTreePath } from '../../toolchain/src/pxe/http.js';
import { labNetCommands, startLabNet, type CommandRunner } from '../../toolchain/src/pxe/labnet.js';
import { macFileName, parseMac } from '../../toolchain/src/pxe/mac.js';
import { buildManifest, hostFor, MANIFEST_NAME, type Manifest } from '../../toolchain/src/pxe/manifest.js';
import { GRUB_HTTP_MIN_BYTES, grubHttpRoot, ipxeCmdlineBytes, IPXE_MULTIBOOT } from '../../toolchain/src/pxe/scripts.js';
import { planTree, TFTP_SAFE_FILE_BYTES, type HashFile, type HostInput, type TreeInput, type TreePlan } from '../../toolchain/src/pxe/tree.js';
import { DEBIAN_TOOLS, hashFile, IPXE_BINARIES, writeTree } from '../../toolchain/src/pxe/write.js';
import { checkVmDescription, type VmFileAccess } from '../../toolchain/src/vms.js';
import { FakeClock, FakeSpawner } from '../qemu/fakes.js';
import { throwsNamed } from './named.js';


// ---- MACs and --host ----

test('MACs in every common spelling come out lowercase with colons', () => {
  for (const s of ['52:54:00:AB:cd:0e', '52-54-00-ab-CD-0E', '5254.00ab.cd0e', '525400ABCD0E', ' 52:54:00:ab:cd:0e '])
    assert.is(parseMac(s), '52:54:00:ab:cd:0e', s);
  assert.is(macFileName('52:54:00:ab:cd:0e'), '52-54-00-ab-cd-0e');
});

test('bad MACs are refused with a fix', () => {
  for (const s of ['52:54:00:ab:cd', '52:54-00:ab:cd:0e', 'zz:54:00:ab:cd:0e', '52:54:00:ab:cd:0e:11', ''])
    throwsNamed(() => parseMac(s), 'PxeInputError', /e\.g\. 52:54:00:12:34:56/);
  throwsNamed(() => parseMac('01:00:5e:00:00:01'), 'PxeInputError', /multicast/);
  throwsNamed(() => parseMac('00:00:00:00:00:00'), 'PxeInputError', /all zeros/);
});

test('--host MAC=FILE: one set per host, a MAC twice in any spelling is refused', () => {
  assert.equal(parseHostArgs(['52:54:00:00:00:0A=a.json', '5254.0000.000b=dir/b=c.json']), [
    { mac: '52:54:00:00:00:0a', file: 'a.json' },
    { mac: '52:54:00:00:00:0b', file: 'dir/b=c.json' },
  ]);
  throwsNamed(() => parseHostArgs(['52:54:00:00:00:0a=a.json', '52-54-00-00-00-0A=b.json']), 'PxeInputError', /given twice \(a\.json and b\.json\)/);
  throwsNamed(() => parseHostArgs(['a.json']), 'PxeInputError', /not MAC=FILE/);
  throwsNamed(() => parseHostArgs(['52:54:00:00:00:0a=']), 'PxeInputError', /not MAC=FILE/);
});

// ---- planning the tree ----

const ELF = mb1ElfHead();

/** File contents by path: what the fake hash sees. Same text = same file. */
const CONTENT: Record<string, string> = {
  '/w/monitor.elf': 'monitor',
  '/w/a/k.elf': 'kernel one',
  '/w/b/k.elf': 'kernel two', // same basename, other content
  '/w/copy-of-a.elf': 'kernel one', // other name, same content
  '/w/m.bin': 'module',
  '/w/disk.img': 'disk',
};
let hashed: string[] = [];
const fakeHash: HashFile = (p) => {
  hashed.push(p);
  const c = CONTENT[p];
  if (c === undefined) throw new Error(`no such file ${p}`);
  return { size: c.length, sha256: createHash('sha256').update(c).digest('hex') };
};
const sha12 = (p: string) => fakeHash(p).sha256.slice(0, 12);
const files: VmFileAccess = { exists: (p) => p in CONTENT, readHead: () => ELF, size: () => 4096 };
const set = (vms: object[], extra: object = {}) => checkVmDescription({ vms, ...extra }, '/w', { files, source: 'set.json' });
const vm = (name: string, kernel: string, o: object = {}) => ({ name, memory_mib: 16, kernel, ...o });

const A = '52:54:00:00:00:0a';
const B = '52:54:00:00:00:0b';
const input = (o: Partial<TreeInput> = {}): TreeInput => ({
  monitorElf: '/w/monitor.elf',
  cmdline: 'cg.shell=0',
  hosts: [
    { mac: A, source: 'a.json', set: set([vm('web', 'a/k.elf'), vm('web2', 'copy-of-a.elf', { modules: [{ path: 'm.bin' }] })]) },
    { mac: B, source: 'b.json', set: set([vm('db', 'b/k.elf'), vm('cache', 'a/k.elf')]) },
  ],
  fallback: { source: 'd.json', set: set([vm('spare', 'a/k.elf', { disks: [{ image: 'base', mode: 'ro' }] })], { images: { base: 'disk.img' } }) },
  ...o,
});
const text = (p: TreePlan, path: string) => {
  const e = p.entries.find((x) => x.path === path);
  assert.ok(e, `no entry ${path}`);
  return e!.text ?? '';
};

test('payloads are stored once by content: one file however many VMs and hosts use it', () => {
  const p = planTree(input(), fakeHash);
  const copies = p.entries.filter((e) => e.from !== undefined);
  // The monitor, kernel one (used 4 times under two file names), kernel two, the module, the disk.
  assert.equal(copies.map((e) => e.path).sort(), [
    `releases/${p.release}/${sha12('/w/a/k.elf')}`,
    `releases/${p.release}/${sha12('/w/b/k.elf')}`,
    `releases/${p.release}/${sha12('/w/disk.img')}`,
    `releases/${p.release}/${sha12('/w/m.bin')}`,
    `releases/${p.release}/crossguard.elf`,
  ].sort());
  assert.is(new Set(copies.map((e) => e.path)).size, copies.length, 'no path twice');
  // Host A's two kernels are one file: loaded once.
  const a = p.hosts.find((h) => h.mac === A)!;
  assert.equal(a.modules.map((m) => m.name), ['vms.cfg', sha12('/w/a/k.elf'), sha12('/w/m.bin')]);
  assert.equal(a.vms, ['web', 'web2']);
});

test('distinct files with the same basename stay distinct; module names are their content', () => {
  const p = planTree(input(), fakeHash);
  const b = p.hosts.find((h) => h.mac === B)!;
  const [one, two] = [sha12('/w/a/k.elf'), sha12('/w/b/k.elf')];
  assert.is.not(one, two);
  assert.equal(b.modules.map((m) => m.name), ['vms.cfg', two, one]);
  for (const m of b.modules) assert.ok(m.path.endsWith(`/${m.name}`), `${m.path}: the basename is the module name (iPXE passes the URI)`);
  const cfg = text(p, b.set!);
  assert.match(cfg, new RegExp(`^vm db\\nmem 16\\nvcpus 1\\nkernel ${two}\\n`, 'm'));
  assert.match(cfg, new RegExp(`^vm cache\\nmem 16\\nvcpus 1\\nkernel ${one}\\n`, 'm'));
  assert.match(text(p, p.hosts.find((h) => h.mac === A)!.set!), new RegExp(`^module ${sha12('/w/m.bin')} m\\.bin$`, 'm'));
  assert.match(text(p, p.hosts[2]!.set!), new RegExp(`^image base ${sha12('/w/disk.img')}$`, 'm'));
});

test('each host has its own vms.cfg (same name, own directory); identical sets are stored once', () => {
  const same = set([vm('web', 'a/k.elf')]);
  const p = planTree(input({ hosts: [{ mac: A, source: 'x.json', set: same }, { mac: B, source: 'x.json', set: same }] }), fakeHash);
  const [a, b, d] = p.hosts;
  assert.is(a!.set, b!.set, 'same content, one file');
  assert.is.not(a!.set, d!.set);
  for (const h of p.hosts) assert.match(h.set!, new RegExp(`^releases/${p.release}/sets/[0-9a-f]{12}/vms\\.cfg$`));
  assert.is(p.entries.filter((e) => e.path.endsWith('/vms.cfg')).length, 2);
});

test('every script names releases/<id>/…, never a moving name; entries name the release once', () => {
  const p = planTree(input({ httpBase: 'http://${next-server}/' }), fakeHash);
  const rel = `releases/${p.release}`;
  for (const e of p.entries.filter((x) => x.text !== undefined && !x.path.endsWith('vms.cfg'))) {
    assert.not.match(e.text!, /current/, `${e.path} names current`);
    const refs = [...e.text!.matchAll(/(?:^|[\s/}])(releases\/[^\s/]+)\//gm)].map((m) => m[1]);
    for (const r of refs) assert.is(r, rel, `${e.path}: ${r}`);
  }
  // The tree's server as ${next-server} when a proxy-DHCP or PXE boot server answered (next to a lab's DHCP server).
  assert.is(
    text(p, 'boot.ipxe'),
    `#!ipxe\n# crossguard netboot entry (iPXE, BIOS): release ${p.release}\n` +
      'isset ${proxydhcp/next-server} || goto no-proxydhcp\nset next-server ${proxydhcp/next-server}\n:no-proxydhcp\n' +
      'isset ${pxebs/next-server} || goto no-pxebs\nset next-server ${pxebs/next-server}\n:no-pxebs\n' +
      `chain /${rel}/ipxe/boot.ipxe\n`,
  );
  assert.match(text(p, 'boot/grub/grub.cfg'), new RegExp(`^source /${rel}/grub/boot\\.cfg$`, 'm'));
  assert.match(text(p, 'boot-efi.ipxe'), /^chain \/boot\/grub\/x86_64-efi\/core\.efi$/m);
});

test('per-MAC selection: iPXE jumps by ${mac}, GRUB by $net_default_mac, unknown hosts get the default', () => {
  const p = planTree(input(), fakeHash);
  const rel = `releases/${p.release}`;
  const ipxe = text(p, `${rel}/ipxe/boot.ipxe`).split('\n');
  assert.equal(ipxe.slice(2, 5), [`iseq \${mac} ${A} && goto h0 ||`, `iseq \${mac} ${B} && goto h1 ||`, `chain /${rel}/ipxe/default.ipxe`]);
  // A host's failing chain must stop, not fall through to another set: no `chain … ||` anywhere.
  assert.not.ok(ipxe.some((l) => /^chain .*\|\|/.test(l)));
  assert.ok(ipxe.includes(':h1') && ipxe[ipxe.indexOf(':h1') + 1] === `chain /${rel}/ipxe/52-54-00-00-00-0b.ipxe`);
  const grub = text(p, `${rel}/grub/boot.cfg`);
  assert.match(grub, new RegExp(`^if \\[ "\\$net_default_mac" = "${A}" \\]; then\\n\\tsource /${rel}/grub/52-54-00-00-00-0a\\.cfg$`, 'm'));
  assert.match(grub, new RegExp(`^elif \\[ "\\$net_default_mac" = "${B}" \\]; then$`, 'm'));
  assert.match(grub, new RegExp(`^else\\n\\tsource /${rel}/grub/default\\.cfg\\nfi$`, 'm'));
  assert.match(grub, /^serial --unit=0 --speed=115200$/m);
});

test('per-host scripts: iPXE Multiboot1 with URI-named modules, GRUB multiboot2 with the names as arguments', () => {
  const p = planTree(input(), fakeHash);
  const a = p.hosts.find((h) => h.mac === A)!;
  const ipxe = text(p, a.ipxe).split('\n');
  assert.ok(ipxe.includes(`kernel /${p.monitor} cg.shell=0`));
  assert.equal(ipxe.filter((l) => l.startsWith('module ')), a.modules.map((m) => `module /${m.path}`));
  assert.is(ipxe.filter((l) => l === 'boot').length, 1);
  const grub = text(p, a.grub).split('\n');
  assert.ok(grub.includes(`\tmultiboot2 /${p.monitor} cg.shell=0`));
  assert.equal(grub.filter((l) => l.startsWith('\tmodule2 ')), a.modules.map((m) => `\tmodule2 /${m.path} ${m.name}`));
  assert.not.match(grub.join('\n'), /^\tmultiboot /m);
});

test('--http-base: iPXE tries HTTP once, then the whole set over TFTP', () => {
  const p = planTree(input({ httpBase: 'http://${next-server}:8080/pxe/' }), fakeHash);
  const a = p.hosts.find((h) => h.mac === A)!;
  const lines = text(p, a.ipxe).split('\n');
  const k = lines.findIndex((l) => l.startsWith('kernel '));
  assert.is(lines[k], `kernel http://\${next-server}:8080/pxe/${p.monitor} cg.shell=0 || goto tftp`);
  assert.is(lines[k + 1], `module http://\${next-server}:8080/pxe/${a.modules[0]!.path}`);
  const t = lines.indexOf(':tftp');
  assert.ok(t > k && lines[t - 1] === 'boot' && lines[t + 1] === `kernel /${p.monitor} cg.shell=0`);
  throwsNamed(() => planTree(input({ httpBase: 'ftp://x' }), fakeHash), 'PxeInputError', /--http-base/);
});

test('the release id follows the content: same input same id, any change a new one', () => {
  const one = planTree(input(), fakeHash).release;
  assert.match(one, /^[0-9a-f]{12}$/);
  assert.is(planTree(input(), fakeHash).release, one);
  assert.is.not(planTree(input({ cmdline: 'cg.shell=0 cg.spec=off' }), fakeHash).release, one);
  CONTENT['/w/m.bin'] = 'module v2';
  try {
    assert.is.not(planTree(input(), fakeHash).release, one);
  } finally {
    CONTENT['/w/m.bin'] = 'module';
  }
  assert.is(planTree(input({ release: 'lab-2024.1' }), fakeHash).release, 'lab-2024.1');
  throwsNamed(() => planTree(input({ release: '../x' }), fakeHash), 'PxeInputError', /--release/);
});

test("--http-base: GRUB fetches large payloads over (http,…), each falling back to TFTP; the monitor and small files over TFTP", () => {
  assert.is(grubHttpRoot('http://${next-server}'), '(http,$net_default_server)');
  assert.is(grubHttpRoot('http://${next-server}:8080/pxe'), '(http,$net_default_server:8080)/pxe');
  assert.is(grubHttpRoot('http://10.0.0.5:80/a/b'), '(http,10.0.0.5)/a/b');
  assert.is(grubHttpRoot('http://${net0/ip}/x'), null, 'other iPXE settings mean nothing to GRUB');
  assert.is(grubHttpRoot('http://h/a;b'), null);
  assert.is(grubHttpRoot(undefined), null);
  const big: HashFile = (path) => (path === '/w/disk.img' ? { ...fakeHash(path), size: GRUB_HTTP_MIN_BYTES } : fakeHash(path));
  const p = planTree(input({ httpBase: 'http://${next-server}:8080/pxe/' }), big);
  const root = '(http,$net_default_server:8080)/pxe';
  let sawBig = false;
  for (const h of p.hosts) {
    const cfg = text(p, h.grub);
    assert.ok(cfg.includes(`\tmultiboot2 /${p.monitor} ${p.cmdline}\n`), 'the monitor over TFTP');
    for (const m of h.modules) {
      if (m.size >= GRUB_HTTP_MIN_BYTES) {
        sawBig = true;
        assert.ok(cfg.includes(`\tif module2 ${root}/${m.path} ${m.name}; then true; else\n`), `${m.name} over HTTP\n${cfg}`);
        assert.ok(cfg.includes(`\t\tmodule2 /${m.path} ${m.name}\n\tfi\n`), `${m.name} then over TFTP`);
      } else assert.ok(cfg.includes(`\tmodule2 /${m.path} ${m.name}\n`) && !cfg.includes(`${root}/${m.path}`), `${m.name} over TFTP only`);
    }
    assert.is(/^\tinsmod http$/m.test(cfg), h.modules.some((m) => m.size >= GRUB_HTTP_MIN_BYTES), 'insmod http only where used');
  }
  assert.ok(sawBig, 'the default set has the large disk image');
  const plain = planTree(input(), big);
  assert.not.match(text(plain, plain.hosts[2]!.grub), /http|\tif /);
});

test("cg.serial=com2: the monitor's argument in every script, GRUB's console on COM2; a bad port refused", () => {
  const p = planTree(input({ cmdline: 'cg.shell=0 cg.serial=com2' }), fakeHash);
  const boot = text(p, `releases/${p.release}/grub/boot.cfg`);
  assert.match(boot, /^serial --unit=1 --speed=115200$/m);
  for (const h of p.hosts) {
    assert.match(text(p, h.ipxe), /^kernel \S+ cg\.shell=0 cg\.serial=com2$/m);
    assert.match(text(p, h.grub), /^\tmultiboot2 \S+ cg\.shell=0 cg\.serial=com2$/m);
  }
  const q = planTree(input(), fakeHash);
  assert.match(text(q, `releases/${q.release}/grub/boot.cfg`), /^serial --unit=0 /m);
  throwsNamed(() => planTree(input({ cmdline: 'cg.serial=com5' }), fakeHash), 'PxeInputError', /cg\.serial= takes com1, com2/);
});

test('bad input is refused before anything is hashed twice or written', () => {
  const hosts = input().hosts;
  throwsNamed(() => planTree(input({ hosts: [hosts[0]!, { ...hosts[1]!, mac: A }] }), fakeHash), 'PxeInputError', /MAC 52:54:00:00:00:0a is given twice/);
  throwsNamed(() => planTree(input({ cmdline: 'cg.x=${y}' }), fakeHash), 'PxeInputError', /--cmdline word/);
  const noVms: HostInput = { source: '(none)' };
  const p = planTree(input({ hosts: [], fallback: noVms }), fakeHash);
  assert.equal(p.hosts[0]!.modules, []);
  assert.match(text(p, p.hosts[0]!.ipxe), /^kernel .*\nboot$/m);
});

test('a file over the size limit (65535 TFTP blocks of 512 bytes, or --max-file-bytes) is refused, naming it', () => {
  assert.is(TFTP_SAFE_FILE_BYTES, 33_553_920);
  const big: HashFile = (p) => (p === '/w/disk.img' ? { size: TFTP_SAFE_FILE_BYTES + 1, sha256: 'f'.repeat(64) } : fakeHash(p));
  throwsNamed(() => planTree(input(), big), 'PxeInputError', /^\/w\/disk\.img is 33553921 bytes, over the tree's limit of 33553920 bytes a file: 65535 TFTP blocks of 512 bytes, what every TFTP client can fetch; make it smaller, or serve the tree with --http-base and raise --max-file-bytes/);
  // Exactly at the limit is fine; a raised limit lets the big file in.
  const at: HashFile = (p) => (p === '/w/disk.img' ? { size: TFTP_SAFE_FILE_BYTES, sha256: 'f'.repeat(64) } : fakeHash(p));
  planTree(input(), at);
  planTree(input({ maxFileBytes: 64 << 20 }), big);
  // A lower limit catches the monitor too; the biggest is named first.
  throwsNamed(() => planTree(input({ maxFileBytes: 6 }), fakeHash), 'PxeInputError', /^\/w\/a\/k\.elf is 10 bytes, over the tree's limit of 6 bytes a file \(and 2 more\): from --max-file-bytes/);
  throwsNamed(() => planTree(input({ maxFileBytes: 0 }), fakeHash), 'PxeInputError', /--max-file-bytes 0 is not a positive whole number/);
});

test("iPXE's Multiboot limits (8 modules, 512 bytes of command lines): such a host's iPXE script hands over to GRUB", () => {
  const many: Record<string, string> = {};
  for (let i = 0; i < 8; i++) CONTENT[(many[`k${i}`] = `/w/k${i}.elf`)] = `kernel ${i}`;
  const handsOver = (p: TreePlan, why: RegExp) => {
    const h = p.hosts.find((x) => x.mac === A)!;
    const script = text(p, h.ipxe);
    assert.match(script, /^chain \/boot\/grub\/i386-pc\/core\.0$/m);
    assert.not.match(script, /^kernel /m);
    assert.match(script, why);
    assert.ok(p.notes.some((n) => why.test(n)), p.notes.join('\n'));
    assert.match(text(p, h.grub), /^\tmultiboot2 /m, 'GRUB still boots the whole set');
  };
  try {
    const eight = set(Object.keys(many).map((k) => vm(k, `${k}.elf`)));
    handsOver(planTree(input({ hosts: [{ mac: A, source: 'big.json', set: eight }] }), fakeHash), /needs 9 modules, iPXE passes at most 8/);
    // 8 modules fit the count, but not 512 bytes with a 15-character server address.
    const seven = set(Object.keys(many).slice(0, 7).map((k) => vm(k, `${k}.elf`)));
    handsOver(planTree(input({ hosts: [{ mac: A, source: 'seven.json', set: seven }] }), fakeHash), /needs up to 5\d\d bytes of command lines, iPXE passes 512/);
    // vms.cfg and 6 files fit (docs/pxe.md says so).
    const six = set(Object.keys(many).slice(0, 6).map((k) => vm(k, `${k}.elf`)));
    const p = planTree(input({ hosts: [{ mac: A, source: 'ok.json', set: six }] }), fakeHash);
    const bytes = ipxeCmdlineBytes({ id: p.release, monitor: p.monitor, args: ['cg.shell=0'] }, p.hosts[0]!);
    assert.ok(bytes <= IPXE_MULTIBOOT.cmdlineBytes, `${bytes} bytes for 7 modules`);
    assert.match(text(p, p.hosts[0]!.ipxe), /^kernel /m);
    assert.equal(p.notes, []);
    const long = `http://${'h'.repeat(60)}.example`;
    handsOver(planTree(input({ hosts: [{ mac: A, source: 'ok.json', set: six }], httpBase: long }), fakeHash), /bytes of command lines/);
  } finally {
    for (const p of Object.values(many)) delete CONTENT[p];
  }
});

test('each input file is hashed once per plan', () => {
  hashed = [];
  planTree(input(), fakeHash);
  assert.is(hashed.length, new Set(hashed).size);
});

// ---- manifest ----

test('manifest: files sorted, itself left out, the default host is mac null', () => {
  const p = planTree(input(), fakeHash);
  const m = buildManifest(p, [
    { path: 'z', size: 1, sha256: 'a' },
    { path: MANIFEST_NAME, size: 1, sha256: 'b' },
    { path: 'boot.ipxe', size: 2, sha256: 'c' },
  ]);
  assert.equal(m.files.map((f) => f.path), ['boot.ipxe', 'z']);
  assert.equal(m.hosts.map((h) => h.mac), [A, B, null]);
  assert.is(hostFor(m, B).source, 'b.json');
  assert.is(hostFor(m, '52:54:00:99:99:99').source, 'd.json');
  assert.is(m.format, 'crossguard-pxe/1');
});

// ---- dnsmasq ----

/** Which dhcp-boot lines a client with these tags matches. */
function matching(rules: string[], tags: Set<string>): string[] {
  return rules
    .filter((l) => l.startsWith('dhcp-boot='))
    .filter((l) => {
      const parts = l.slice('dhcp-boot='.length).split(',');
      return parts.filter((x) => x.startsWith('tag:')).every((t) => (t.startsWith('tag:!') ? !tags.has(t.slice(5)) : tags.has(t.slice(4))));
    })
    .map((l) => l.split(',').pop()!);
}

test('dnsmasq rules: exactly one boot file per client kind, chosen by option 93 and the iPXE user class', () => {
  const r = bootRules('ipxe');
  assert.ok(r.includes('dhcp-match=set:efi64,option:client-arch,7') && r.includes('dhcp-match=set:efi64,option:client-arch,9'));
  assert.ok(r.includes('dhcp-userclass=set:ipxe,iPXE'));
  assert.equal(matching(r, new Set()), ['undionly.kpxe'], 'BIOS vendor ROM: chainload iPXE');
  assert.equal(matching(r, new Set(['ipxe'])), ['boot.ipxe'], 'BIOS iPXE: the script (the loop is broken)');
  assert.equal(matching(r, new Set(['efi64'])), ['boot/grub/x86_64-efi/core.efi'], 'UEFI vendor PXE: GRUB EFI');
  assert.equal(matching(r, new Set(['efi64', 'ipxe'])), ['boot-efi.ipxe'], 'UEFI iPXE: hands over to GRUB EFI');
  const g = bootRules('grub');
  assert.equal(matching(g, new Set()), ['boot/grub/i386-pc/core.0']);
  assert.equal(matching(g, new Set(['ipxe'])), ['boot/grub/i386-pc/core.0']);
  assert.equal(matching(g, new Set(['efi64'])), ['boot/grub/x86_64-efi/core.efi']);
});

test('dnsmasq snippet and the lab configuration', () => {
  const s = dnsmasqSnippet('/srv/tftp/cg');
  assert.match(s, /^enable-tftp$/m);
  assert.match(s, /^tftp-root=\/srv\/tftp\/cg$/m);
  for (const l of bootRules('ipxe')) assert.ok(s.split('\n').includes(l), l);
  const c = labDnsmasqConf({ iface: 'cgtap0', treeRoot: '/t', leaseFile: '/d/l', pidFile: '/d/p', biosLoader: 'ipxe' }).split('\n');
  for (const l of ['port=0', 'bind-interfaces', 'interface=cgtap0', 'dhcp-leasefile=/d/l', 'enable-ra', 'dhcp-range=fd77::,ra-only,64', 'tftp-root=/t'])
    assert.ok(c.includes(l), l);
  assert.ok(c.some((l) => /^dhcp-range=192\.168\.77\.\d+,192\.168\.77\.\d+,/.test(l)));
  throwsNamed(() => dnsmasqSnippet('/a\nenable-tftp'), 'LabNetworkError');
});

// ---- run --boot pxe ----

test('the QEMU NIC: e1000 with its iPXE ROM on BIOS, virtio-net with OVMF PXE (or iPXE) on UEFI', () => {
  const tap = netArgs({ kind: 'net', mac: A, tap: { netns: 'ns', ifname: 'cgtap0' } });
  assert.equal(tap, ['-netdev', 'tap,id=n0,ifname=cgtap0,script=no,downscript=no', '-device', `e1000,netdev=n0,mac=${A},bootindex=1`]);
  const uefi = netArgs({ kind: 'net', mac: A, user: { tftpRoot: '/t,x', bootfile: 'boot/grub/x86_64-efi/core.efi' } }, 'uefi');
  assert.equal(uefi, ['-netdev', 'user,id=n0,tftp=/t,,x,bootfile=boot/grub/x86_64-efi/core.efi', '-device', `virtio-net-pci,netdev=n0,mac=${A},romfile=,bootindex=1`]);
  assert.is(netArgs({ kind: 'net', mac: A, efiPxe: 'ipxe', user: { tftpRoot: '/t', bootfile: 'b' } }, 'uefi')[3], `virtio-net-pci,netdev=n0,mac=${A},bootindex=1`);
  throwsNamed(() => netArgs({ kind: 'net', mac: '52:54:00:00:00:0A', user: { tftpRoot: '/t', bootfile: 'b' } }), 'BootError');
  assert.is(userBootfile('bios', 'ipxe'), 'boot.ipxe');
  assert.is(userBootfile('bios', 'grub'), 'boot/grub/i386-pc/core.0');
  assert.is(userBootfile('uefi', 'grub'), 'boot/grub/x86_64-efi/core.efi');
  assert.is(userBootfile('uefi', 'ipxe'), 'boot-efi.ipxe');
  assert.match(bootPath('uefi', 'grub'), /OVMF/);
});

test("the Bochs NIC: an e1000 with iPXE's ROM on slirp, TFTP rooted at the tree, DHCP's boot file in the script", () => {
  const rc = bochsrc({ net: { mac: A, tftpRoot: '/srv/tree', slirpConf: '/tmp/b/slirp.conf', bootrom: BOCHS_PXE_ROM }, cpus: 2, memMiB: 512, serialPort: 4000, logPath: '/l' });
  assert.match(rc, /^pci: enabled=1, chipset=i440fx, slot1=e1000$/m);
  assert.match(rc, new RegExp(`^e1000: enabled=1, mac=${A}, ethmod=slirp, ethdev=/srv/tree, script=/tmp/b/slirp.conf, bootrom=${BOCHS_PXE_ROM}$`, 'm'));
  assert.match(rc, /^boot: network$/m);
  assert.not.match(rc, /cdrom/);
  assert.is(slirpConf('boot.ipxe'), '# slirp config\nrestricted = 1\nbootfile = boot.ipxe\n');
  throwsNamed(() => slirpConf('a b'), 'BootError');
  throwsNamed(() => bochsrc({ net: { mac: A, tftpRoot: '/srv/my tree', slirpConf: '/s', bootrom: '/r' }, cpus: 1, memMiB: 64, serialPort: 1, logPath: '/l' }), 'BootError', /TFTP root/);
  throwsNamed(() => bochsrc({ net: { mac: A, tftpRoot: '/a,b', slirpConf: '/s', bootrom: '/r' }, cpus: 1, memMiB: 64, serialPort: 1, logPath: '/l' }), 'BootError', /TFTP root/);
  throwsNamed(() => bochsrc({ net: { mac: 'x', tftpRoot: '/t', slirpConf: '/s', bootrom: '/r' }, cpus: 1, memMiB: 64, serialPort: 1, logPath: '/l' }), 'BootError', /MAC/);
});

const runBase: RunArgs = { emulator: 'qemu', boot: 'pxe', firmware: 'bios', cpus: 2, timeout: 0, build: true, image: '/t' };
test('run --boot pxe: what it refuses', () => {
  assert.equal(planRun(runBase), { timeoutMs: 0 });
  throwsNamed(() => planRun({ ...runBase, image: undefined }), 'UsageError', /--image DIR/);
  throwsNamed(() => planRun({ ...runBase, vms: 'x.json' }), 'UsageError', /VM sets in the tree/);
  throwsNamed(() => planRun({ ...runBase, cmdline: 'x' }), 'UsageError', /--cmdline/);
  assert.equal(planRun({ ...runBase, emulator: 'bochs' }), { timeoutMs: 0 });
  throwsNamed(() => planRun({ ...runBase, emulator: 'bochs', net: 'netns' }), 'UsageError', /Bochs' own slirp/);
  throwsNamed(() => planRun({ ...runBase, emulator: 'bochs', firmware: 'uefi' }), 'UsageError', /--firmware uefi needs QEMU/);
  throwsNamed(() => planRun({ ...runBase, boot: 'iso', mac: A }), 'UsageError', /--mac is for --boot pxe/);
});

// ---- the lab network, with fakes ----

test('lab network: namespace and tap made, dnsmasq started in it, everything removed on close', async () => {
  const calls: string[] = [];
  const runner: CommandRunner = (cmd, args) => (calls.push(`${cmd} ${args.join(' ')}`), { code: 0, output: '' });
  const sp = new FakeSpawner();
  const clock = new FakeClock();
  const signalled: string[] = [];
  const signal = (pgid: number, sig: NodeJS.Signals | 0) => {
    signalled.push(`${pgid} ${sig}`);
    if (sig === 'SIGTERM') sp.children.find((c) => c.pid === pgid)?.exit({ code: 0, signal: null });
    return sig === 'SIGTERM';
  };
  const p = startLabNet({ tree: '/t', biosLoader: 'ipxe', netns: 'cg-test', runner, spawner: sp.spawn, clock, signal });
  await new Promise((r) => setImmediate(r));
  assert.equal(calls, labNetCommands('cg-test').map((a) => `ip ${a.join(' ')}`));
  assert.equal(sp.calls[0]!.args.slice(0, 5), ['netns', 'exec', 'cg-test', 'dnsmasq', '--keep-in-foreground']);
  sp.children[0]!.stderr.write('dnsmasq-tftp[1]: TFTP root is /t\n');
  await new Promise((r) => setImmediate(r));
  clock.advance(20);
  const lab = await p;
  assert.is(lab.netns, 'cg-test');
  assert.match(lab.log(), /TFTP root/);
  await lab.close();
  assert.equal(signalled, ['1000 SIGTERM', '1000 SIGKILL'], 'the group is stopped (TERM, then KILL for any stragglers)');
  assert.is(calls[calls.length - 1], 'ip netns del cg-test');
});

test('lab network: dnsmasq dying at start is an error, and the namespace is removed', async () => {
  const calls: string[] = [];
  const runner: CommandRunner = (cmd, args) => (calls.push(`${cmd} ${args.join(' ')}`), { code: 0, output: '' });
  const sp = new FakeSpawner();
  const clock = new FakeClock();
  const p = startLabNet({ tree: '/t', biosLoader: 'ipxe', netns: 'cg-test', runner, spawner: sp.spawn, clock, signal: () => false });
  await new Promise((r) => setImmediate(r));
  sp.children[0]!.stderr.write('dnsmasq: failed to create listening socket: Address in use\n');
  sp.children[0]!.exit({ code: 2, signal: null });
  await new Promise((r) => setImmediate(r));
  clock.advance(20);
  try {
    await p;
    assert.unreachable();
  } catch (e) {
    assert.is((e as Error).name, 'LabNetworkError');
    assert.match((e as { detail?: string }).detail ?? '', /Address in use/);
  }
  assert.is(calls[calls.length - 1], 'ip netns del cg-test');
  const failing: CommandRunner = (_cmd, args) => (args[0] === 'netns' && args[1] === 'add' ? { code: 1, output: 'Operation not permitted' } : { code: 0, output: '' });
  try {
    await startLabNet({ tree: '/t', biosLoader: 'ipxe', netns: 'x', runner: failing, spawner: sp.spawn });
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /ip netns add x failed: Operation not permitted/);
  }
});

// ---- HTTP ----

test('HTTP: only files inside the tree, query dropped, prefix honoured', () => {
  const root = mkdtempSync(join(tmpdir(), 'cg-pxe-http-'));
  try {
    mkdirSync(join(root, 'releases', 'r'), { recursive: true });
    writeFileSync(join(root, 'releases', 'r', 'f'), 'x');
    writeFileSync(join(root, '..', `${root.split('/').pop()}-secret`), 's');
    symlinkSync('/etc/passwd', join(root, 'out'));
    assert.is(resolveTreePath(root, '/releases/r/f?x=1'), join(root, 'releases', 'r', 'f'));
    assert.is(resolveTreePath(root, '/releases/%72/f'), join(root, 'releases', 'r', 'f'));
    assert.is(resolveTreePath(root, '/pxe/releases/r/f', '/pxe'), join(root, 'releases', 'r', 'f'));
    for (const bad of ['/releases/r/../../x', '/%2e%2e/x', '/out', '/releases', '/releases/r/f%00', '/%E0%A4%A']) assert.is(resolveTreePath(root, bad), null, bad);
    assert.is(resolveTreePath(root, '/releases/r/f', '/pxe'), null);
  } finally {
    rmSync(`${root}-secret`, { force: true });
    rmSync(root, { recursive: true, force: true });
  }
  assert.equal(labHttpBase('http://${next-server}'), { port: 80, prefix: '' });
  assert.equal(labHttpBase('http://${next-server}:8080/pxe/'), { port: 8080, prefix: '/pxe' });
  assert.is(labHttpBase('http://10.0.0.5/pxe'), null);
  assert.is(labHttpBase(null), null);
});

// ---- writing the tree for real ----

const haveTools =
  existsSync(join(DEBIAN_TOOLS.grubBios, 'moddep.lst')) &&
  existsSync(join(DEBIAN_TOOLS.grubEfi, 'moddep.lst')) &&
  IPXE_BINARIES.every((b) => existsSync(join(DEBIAN_TOOLS.ipxeDir, b)));

test('writeTree: every file in the manifest with its real size and SHA-256; GRUB and iPXE loaders in place', async () => {
  if (!haveTools) {
    console.log('  (skipped: grub-pc-bin, grub-efi-amd64-bin or ipxe not installed; toolchain/setup.sh installs them)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'cg-pxe-tree-'));
  try {
    for (const [p, c] of Object.entries(CONTENT)) {
      mkdirSync(join(dir, 'src', p, '..'), { recursive: true });
      writeFileSync(join(dir, 'src', p), c);
    }
    const real = (p: string) => join(dir, 'src', p);
    const fsFiles: VmFileAccess = { exists: (p) => existsSync(p), readHead: () => ELF, size: () => 4096 };
    const s = (vms: object[]) => checkVmDescription({ vms }, join(dir, 'src', 'w'), { files: fsFiles, source: 'set.json' });
    const plan = planTree(
      {
        monitorElf: real('/w/monitor.elf'),
        cmdline: '',
        hosts: [{ mac: A, source: 'a.json', set: s([vm('web', 'a/k.elf')]) }],
        fallback: { source: 'd.json', set: s([vm('spare', 'b/k.elf')]) },
      },
      hashFile,
    );
    const out = join(dir, 'tree');
    const { manifest } = await writeTree(out, plan);
    const m = JSON.parse(readFileSync(join(out, MANIFEST_NAME), 'utf8')) as Manifest;
    assert.equal(m, manifest);
    for (const f of m.files) {
      const data = readFileSync(join(out, f.path));
      assert.is(data.length, f.size, f.path);
      assert.is(createHash('sha256').update(data).digest('hex'), f.sha256, f.path);
    }
    const paths = new Set(m.files.map((f) => f.path));
    for (const p of ['boot/grub/i386-pc/core.0', 'boot/grub/x86_64-efi/core.efi', 'boot/grub/grub.cfg', 'undionly.kpxe', 'ipxe.efi', 'snponly.efi', 'boot.ipxe', 'dnsmasq-crossguard.conf'])
      assert.ok(paths.has(p), p);
    assert.match(readFileSync(join(out, 'boot/grub/grub.cfg'), 'utf8'), /^source \/releases\//m, 'grub-mknetdir left our grub.cfg alone');
    assert.match(readFileSync(join(out, 'dnsmasq-crossguard.conf'), 'utf8'), new RegExp(`^tftp-root=${out}$`, 'm'));
    for (const h of m.hosts) for (const mod of h.modules) assert.ok(paths.has(mod.path), mod.path);

    // A failed rewrite leaves the old tree as it was; a directory that is not a tree is refused.
    const before = readFileSync(join(out, MANIFEST_NAME), 'utf8');
    try {
      await writeTree(out, plan, { ...DEBIAN_TOOLS, mknetdir: 'false' });
      assert.unreachable();
    } catch (e) {
      assert.is((e as Error).name, 'PxeTreeError');
    }
    assert.is(readFileSync(join(out, MANIFEST_NAME), 'utf8'), before);
    await writeTree(out, plan); // replacing our own tree is fine
    mkdirSync(join(dir, 'other'));
    writeFileSync(join(dir, 'other', 'keep.txt'), 'mine');
    try {
      await writeTree(join(dir, 'other'), plan);
      assert.unreachable();
    } catch (e) {
      assert.is((e as Error).name, 'PxeTreeError');
      assert.match((e as Error).message, /nothing was changed/);
    }
    assert.is(readFileSync(join(dir, 'other', 'keep.txt'), 'utf8'), 'mine');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
