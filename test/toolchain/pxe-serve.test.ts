// `crossguard pxe serve`'s pure parts: the interface's address, --range
// against its subnet, dnsmasq's configuration for full DHCP and proxy-DHCP,
// the HTTP port, and each host's steps read from dnsmasq's and the HTTP
// server's log lines (mapped to a MAC through the DHCP lease).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { servePort } from '../../toolchain/src/commands/pxe-serve.js';
import { serveTree } from '../../toolchain/src/pxe/http.js';
import { hasGlobalIpv6, parseIpAddr, parseRange, proxyServices, serveDnsmasqConf } from '../../toolchain/src/pxe/serve.js';
import { BootSteps, formatStep } from '../../toolchain/src/pxe/steps.js';
import { throwsNamed } from './named.js';


const NET = { address: '10.77.1.1', prefixLen: 24 };

test("the interface's IPv4 address and whether it has an IPv6 prefix to advertise", () => {
  assert.equal(parseIpAddr('5: eth1    inet 10.77.1.1/24 brd 10.77.1.255 scope global eth1\\       valid_lft forever'), NET);
  assert.is(parseIpAddr(''), null);
  assert.is(parseIpAddr('5: eth1    inet 10.0.0.1/32 scope global eth1'), null, 'a /32 has no clients');
  assert.ok(hasGlobalIpv6('5: eth1    inet6 fd78::1/64 scope global \\       valid_lft forever'));
  assert.not.ok(hasGlobalIpv6('5: eth1    inet6 fe80::1/64 scope link \\       valid_lft forever'));
});

test('--range: two addresses in the subnet, in order, not the server itself', () => {
  assert.equal(parseRange('10.77.1.10,10.77.1.20', NET), { start: '10.77.1.10', end: '10.77.1.20' });
  throwsNamed(() => parseRange('10.77.1.20,10.77.1.10', NET), 'PxeInputError', /FIRST <= LAST/);
  throwsNamed(() => parseRange('10.77.1.10', NET), 'PxeInputError', /not FIRST,LAST/);
  throwsNamed(() => parseRange('10.77.1.10,10.77.1.300', NET), 'PxeInputError', /not FIRST,LAST/);
  throwsNamed(() => parseRange('10.77.2.10,10.77.2.20', NET), 'PxeInputError', /not inside the interface's subnet 10\.77\.1\.0\/24/);
  throwsNamed(() => parseRange('10.77.1.1,10.77.1.20', NET), 'PxeInputError', /server's own address 10\.77\.1\.1/);
});

test('dnsmasq for full DHCP: the range, the tree\'s boot rules, RAs only with an IPv6 prefix, no DNS', () => {
  const conf = serveDnsmasqConf({ iface: 'eth1', net: NET, tree: '/srv/t', leaseFile: '/tmp/l', mode: { kind: 'full', start: '10.77.1.10', end: '10.77.1.20', ra: true } });
  const lines = conf.split('\n');
  for (const l of ['port=0', 'bind-interfaces', 'interface=eth1', 'log-dhcp', 'enable-tftp', 'tftp-root=/srv/t', 'dhcp-range=10.77.1.10,10.77.1.20,255.255.255.0,1h', 'dhcp-range=::,constructor:eth1,ra-only,64', 'enable-ra', 'dhcp-boot=tag:!efi64,tag:ipxe,boot.ipxe'])
    assert.ok(lines.includes(l), l);
  assert.not.match(conf, /proxy|pxe-service/);
  const noRa = serveDnsmasqConf({ iface: 'eth1', net: NET, tree: '/srv/t', leaseFile: '/tmp/l', mode: { kind: 'full', start: '10.77.1.10', end: '10.77.1.20', ra: false } });
  assert.not.match(noRa, /enable-ra|ra-only/);
  throwsNamed(() => serveDnsmasqConf({ iface: 'eth1', net: NET, tree: '/srv/t\nx', leaseFile: '/l', mode: { kind: 'proxy' } }), 'PxeInputError', /line break/);
});

test('dnsmasq for proxy-DHCP: no leases, no RAs, a PXE service per client kind instead of dhcp-boot', () => {
  const conf = serveDnsmasqConf({ iface: 'eth1', net: NET, tree: '/srv/t', leaseFile: '/tmp/l', mode: { kind: 'proxy' } });
  assert.match(conf, /^dhcp-range=10\.77\.1\.0,proxy,255\.255\.255\.0$/m);
  assert.not.match(conf, /^dhcp-boot=|enable-ra|,1h$/m);
  assert.match(conf, /^dhcp-userclass=set:ipxe,iPXE$/m);
  for (const s of proxyServices()) assert.ok(conf.includes(`${s}\n`), s);
  // Every architecture: a vendor ROM gets iPXE or GRUB EFI, iPXE gets a script; exactly one per tag pair.
  assert.match(conf, /^pxe-service=tag:!ipxe,x86PC,.*,undionly\.kpxe$/m);
  assert.match(conf, /^pxe-service=tag:ipxe,x86PC,.*,boot\.ipxe$/m);
  assert.match(conf, /^pxe-service=tag:!ipxe,X86-64_EFI,.*,boot\/grub\/x86_64-efi\/core\.efi$/m);
});

test("the HTTP port: --http-port, else the tree's ${next-server} base; a port the scripts do not use is refused", () => {
  assert.equal(servePort(undefined, 'http://${next-server}'), { port: 80, prefix: '' });
  assert.equal(servePort(undefined, 'http://${next-server}:8080/pxe'), { port: 8080, prefix: '/pxe' });
  assert.is(servePort(undefined, null), null);
  assert.is(servePort(undefined, 'http://10.0.0.5/x'), null);
  assert.equal(servePort(9000, null), { port: 9000, prefix: '' });
  assert.equal(servePort(8080, 'http://${next-server}:8080/pxe'), { port: 8080, prefix: '/pxe' });
  throwsNamed(() => servePort(9000, 'http://${next-server}:8080'), 'UsageError', /fetch from port 8080/);
  throwsNamed(() => servePort(0, null), 'UsageError', /--http-port/);
});

test("each host's steps by MAC: DHCP lines name it, TFTP and HTTP lines are mapped through its lease", () => {
  const s = new BootSteps('/srv/t');
  const A = '52:54:00:00:00:0a';
  const out: string[] = [];
  const feed = (l: string) => {
    const st = s.dnsmasqLine(l);
    if (st) out.push(formatStep(st));
  };
  feed('dnsmasq-dhcp[7]: 1234 available DHCP range: 10.77.1.10 -- 10.77.1.20');
  feed('dnsmasq-dhcp[7]: 1234 DHCPDISCOVER(eth1) 52:54:00:00:00:0A');
  feed('dnsmasq-dhcp[7]: 1234 tags: ipxe, eth1');
  feed('dnsmasq-dhcp[7]: 1234 DHCPOFFER(eth1) 10.77.1.13 52:54:00:00:00:0a');
  feed('dnsmasq-dhcp[7]: 1234 bootfile name: boot.ipxe');
  feed('dnsmasq-dhcp[7]: 1234 sent size: 10 option: 67 bootfile-name  boot.ipxe');
  feed('dnsmasq-dhcp[7]: 99 DHCPREQUEST(eth1) 10.77.1.13 52:54:00:00:00:0a');
  feed('dnsmasq-dhcp[7]: 99 DHCPACK(eth1) 10.77.1.13 52:54:00:00:00:0a');
  feed('dnsmasq-dhcp[7]: 99 sent size: 10 option: 67 bootfile-name  undionly.kpxe');
  feed('dnsmasq-tftp[7]: sent /srv/t/boot.ipxe to 10.77.1.13');
  feed('dnsmasq-tftp[7]: file /srv/t/nope not found for 10.77.1.13');
  feed('dnsmasq-tftp[7]: sent /srv/t/x to 10.77.1.99');
  feed('dnsmasq: started, version 2.90 DNS disabled');
  feed('dnsmasq-tftp[7]: TFTP root is /srv/t');
  assert.equal(out, [
    `${A} dhcp discover`,
    `${A} dhcp offer 10.77.1.13`,
    `${A} dhcp boot file boot.ipxe`,
    `${A} dhcp request 10.77.1.13`,
    `${A} dhcp ack 10.77.1.13`,
    `${A} dhcp boot file undionly.kpxe`,
    `${A} tftp sent boot.ipxe`,
    `${A} tftp file nope not found`,
    '(unknown MAC at 10.77.1.99) tftp sent x',
  ]);
  assert.is(formatStep(s.httpLine('http ::ffff:10.77.1.13 GET /releases/r/crossguard.elf 200 4096')!), `${A} http GET /releases/r/crossguard.elf 200 4096 bytes`);
  assert.is(formatStep(s.httpLine('http 10.77.1.13 GET /x 404')!), `${A} http GET /x 404`);
  assert.is(s.httpLine('listening on 10.77.1.1:80'), null);
  // Proxy-DHCP: the lab's server leased the address; dnsmasq's PXE line names both.
  assert.is(formatStep(s.dnsmasqLine('dnsmasq-dhcp[7]: 5 PXE(eth1) 10.77.1.50 52:54:00:00:00:0b undionly.kpxe')!), '52:54:00:00:00:0b dhcp pxe 10.77.1.50 undionly.kpxe');
});

test("the HTTP server's headers as GRUB's client needs them: Content-Length spelled so, one file per connection", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cg-pxe2-http-'));
  writeFileSync(join(dir, 'f'), 'x'.repeat(1000));
  const server = await serveTree(dir, '127.0.0.1', 0, '', () => {});
  try {
    const port = (server.address() as { port: number }).port;
    const reply = await new Promise<string>((res, rej) => {
      const sock = connect(port, '127.0.0.1', () => sock.write('GET /f HTTP/1.1\r\nHost: x\r\n\r\n'));
      let got = '';
      sock.on('data', (b: Buffer) => (got += b.toString()));
      sock.on('end', () => res(got)); // the server closes: GRUB reads to the end
      sock.on('error', rej);
      setTimeout(() => rej(new Error(`no close; got ${got.slice(0, 200)}`)), 3000);
    });
    assert.match(reply, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(reply, /\r\nContent-Length: 1000\r\n/);
    assert.match(reply, /\r\nConnection: close\r\n/);
    assert.ok(reply.endsWith('x'.repeat(1000)));
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
