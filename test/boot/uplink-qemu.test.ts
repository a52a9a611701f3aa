// The monitor's own NIC driver and its host interrupt path, under QEMU TCG
// (seconds, no VT-x needed): the uplinks start before the VT-x check, so
// the monitor drives the machine's NIC as the uplink of a network even
// where it can run no guest. Two machines, one NIC each, wired to this
// test by UDP datagrams on loopback (QEMU's socket netdev: one Ethernet
// frame per datagram):
//  - an e1000e (82574L), which lists MSI: the monitor takes its interrupts
//    (irq=msi) while idle in HLT;
//  - an e1000 (82540EM), which lists none: the monitor polls it (irq=poll).
// Both ways through each: frames the test sends arrive in the network's
// switch (the `net` answer counts them, every one of a burst that overruns
// the NIC's 64-descriptor ring and the 32-frame poll budget), and `net
// probe` sends a frame out of the NIC that arrives here, byte for byte as
// the monitor built it (from the NIC's MAC, to broadcast, Ethertype 0x88b5).
// Interrupts counted for the e1000e and none for the e1000 show which path
// carried the frames. Not covered here: an interrupt while a guest runs
// (the external-interrupt exit needs VT-x: Bochs or nested KVM).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findOnPath } from '../../qemu/which.js';
import { writeVmsCfg } from '../../toolchain/src/vmcfg.js';
import { checkVmDescription } from '../../toolchain/src/vms.js';
import { boot, ELF, explain, markersOf, request, ROOT, type BootOutcome } from './pool.js';

const QEMU = 'qemu-system-x86_64';
const BURST = 200;
const PEER_MAC = Buffer.from([0x02, 0x00, 0x00, 0x00, 0x00, 0x99]);

interface Wire {
  sock: Socket;
  peerPort: number;
  qemuPort: number;
  got: Buffer[];
}

/** The test's end of the wire: bound first, so its port is known; QEMU's port is a free one found the same way. */
async function wire(): Promise<Wire> {
  const bind = (s: Socket) => new Promise<number>((res) => s.bind(0, '127.0.0.1', () => res(s.address().port)));
  const sock = createSocket('udp4');
  const peerPort = await bind(sock);
  const probe = createSocket('udp4');
  const qemuPort = await bind(probe);
  await new Promise<void>((r) => probe.close(() => r()));
  const w: Wire = { sock, peerPort, qemuPort, got: [] };
  sock.on('message', (m) => w.got.push(m));
  return w;
}

/** One frame from the LAN: broadcast, from PEER_MAC, Ethertype 0x88b5, tagged with its number. */
function lanFrame(i: number): Buffer {
  const f = Buffer.alloc(60);
  f.fill(0xff, 0, 6);
  PEER_MAC.copy(f, 6);
  f.writeUInt16BE(0x88b5, 12);
  f.write(`cg-uplink-test ${i}`, 14, 'latin1');
  return f;
}

interface Seen {
  o: BootOutcome;
  /** `net`'s uplink object after the burst, and again after the probe. */
  afterBurst: Record<string, unknown>;
  afterProbe: Record<string, unknown>;
  probeReply: Record<string, unknown>;
  wire: Wire;
}

const dir = mkdtempSync(join(tmpdir(), 'cg-uplink-qemu-'));
const modules = writeVmsCfg(
  checkVmDescription(
    { networks: [{ name: 'wan', uplink: 'nic0' }], vms: [{ name: 'web1', memory_mib: 16, kernel: 'echo.elf', nics: [{ network: 'wan' }] }] },
    join(ROOT, 'build', 'guests'),
    { source: 'test' },
  ),
  dir,
);

const uplinkOf = (reply: string) => {
  const r = JSON.parse(reply.slice('@cg-rsp '.length)) as { ok: boolean; data: { networks: { name: string; uplink?: Record<string, unknown> }[] } };
  assert.ok(r.ok, reply);
  return r.data.networks.find((n) => n.name === 'wan')?.uplink ?? {};
};

async function run(model: 'e1000' | 'e1000e', mac: string): Promise<Seen> {
  const w = await wire();
  let afterBurst: Record<string, unknown> = {};
  let afterProbe: Record<string, unknown> = {};
  let probeReply: Record<string, unknown> = {};
  const o = await boot({
    emulator: 'qemu',
    image: { kind: 'elf', path: ELF, modules },
    cpus: 1,
    uplink: { mac, model, udp: { qemuPort: w.qemuPort, peerPort: w.peerPort } },
    until: /^@cg (vms-done|fatal) /,
    timeoutMs: 60_000,
    interact: async (m, waitFor) => {
      for (let i = 0; i < BURST; i++) w.sock.send(lanFrame(i), w.qemuPort, '127.0.0.1');
      // Every frame in, however many passes it takes (QEMU holds what the ring cannot take).
      const deadline = Date.now() + 20_000;
      for (;;) {
        afterBurst = uplinkOf(await request(m, waitFor, 'net'));
        if (afterBurst.from_wire_frames === BURST || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      const got = w.got.length;
      const reply = JSON.parse((await request(m, waitFor, 'net probe wan')).slice('@cg-rsp '.length)) as { ok: boolean; data: Record<string, unknown>; error?: string };
      probeReply = reply.ok ? reply.data : { error: reply.error };
      const until = Date.now() + 10_000;
      while (w.got.length === got && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      afterProbe = uplinkOf(await request(m, waitFor, 'net'));
    },
  });
  return { o, afterBurst, afterProbe, probeReply, wire: w };
}

const why = !findOnPath(QEMU) ? `${QEMU} is not installed` : null;
const runs = why
  ? null
  : { e1000e: run('e1000e', '52:54:00:12:34:e1'), e1000: run('e1000', '52:54:00:12:34:e0') };
for (const p of Object.values(runs ?? {})) p.catch(() => {});

function check(s: Seen, driver: string, id: string, mac: string, irq: 'msi' | 'poll') {
  const { o } = s;
  const ctx = (what: string) => explain(o, `${what}\n--- interaction ---\n${o.interaction.split('\n').slice(-12).join('\n')}`);
  assert.is(o.status, 'matched', ctx('no vms-done line'));
  assert.is(markersOf(o, 'fatal').length, 0, ctx('no fatal'));
  const nic = markersOf(o, 'host-nic')[0]?.fields;
  assert.equal(nic && [nic.index, nic.driver, nic.id, nic.mac, nic.msi, nic.irq], ['0', driver, id, mac, irq === 'msi' ? '1' : '0', irq], ctx(`host-nic: ${JSON.stringify(nic)}`));
  const up = markersOf(o, 'net-uplink')[0]?.fields;
  assert.equal(up && [up.network, up.nic, up.driver, up.mac, up.state, up.irq], ['wan', 'nic0', driver, mac, 'up', irq], ctx(`net-uplink: ${JSON.stringify(up)}`));
  // From the wire: every frame of the burst entered the switch.
  const b = s.afterBurst;
  assert.is(b.from_wire_frames, BURST, ctx(`all ${BURST} frames from the wire: ${JSON.stringify(b)}`));
  assert.is(b.from_wire_bytes, BURST * 60, ctx('their bytes (FCS stripped)'));
  assert.is(b.bad, 0, ctx('none bad'));
  assert.is(b.irq, irq, ctx('the console says how the NIC signals'));
  if (irq === 'msi') assert.ok(Number(b.interrupts) > 0, ctx(`the frames came with interrupts: ${JSON.stringify(b)}`));
  else assert.is(b.interrupts, 0, ctx('a polled NIC takes no interrupt'));
  // Onto the wire: the probe, exactly as built.
  assert.equal(s.probeReply, { network: 'wan', sent: true }, ctx(`net probe: ${JSON.stringify(s.probeReply)}`));
  const probes = s.wire.got.filter((f) => f.length >= 14 && f.readUInt16BE(12) === 0x88b5);
  assert.is(probes.length, 1, ctx(`one probe frame on the wire (${s.wire.got.length} datagrams)`));
  const f = probes[0]!;
  assert.is(f.subarray(0, 6).toString('hex'), 'ffffffffffff', 'to broadcast');
  assert.is(f.subarray(6, 12).toString('hex'), mac.replace(/:/g, ''), "from the NIC's own MAC");
  assert.ok(f.length >= 60, `padded to the Ethernet minimum (${f.length})`);
  assert.is(f.subarray(14).toString('latin1').replace(/\0+$/, ''), 'crossguard uplink probe network=wan nic=nic0 seq=1', 'its payload');
  assert.is(s.afterProbe.probes, 1, ctx('net counts the probe'));
  // Nothing the LAN sent came back onto it (a one-port switch floods to no one).
  assert.is(s.wire.got.length, 1, ctx(`only the probe left the machine (${s.wire.got.length} datagrams)`));
}

test('QEMU e1000e (82574L, MSI): frames from the wire on interrupts, a probe onto it', async () => {
  if (why) return console.log(`  (skipped: ${why})`);
  const s = await runs!.e1000e;
  s.wire.sock.close();
  check(s, 'e1000e', '8086:10d3', '52:54:00:12:34:e1', 'msi');
});

test('QEMU e1000 (82540EM, no MSI): the same, polled', async () => {
  if (why) return console.log(`  (skipped: ${why})`);
  const s = await runs!.e1000;
  s.wire.sock.close();
  check(s, 'e1000', '8086:100e', '52:54:00:12:34:e0', 'poll');
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
