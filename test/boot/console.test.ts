// The console client against the real monitor under Bochs: most checks
// through an in-process transport on the machine's serial line (the client
// code is the same as over TCP), and one end to end with real processes:
// `crossguard run --console tcp:…` serving the line and `crossguard console
// --connect tcp:… exec vms --json` asking it.
//
// Each check records its own result, so one failure does not hide the rest.
//
// The `flood` VM (test/guests/console_flood.c) floods its console through
// the UART, port 0xE9 and the console_write hypercall and checks its own
// output was paced to its share of the line; it also writes lines that
// would be markers or replies (each with FORGED in it), and the check
// below makes sure no parser here takes any of them: tagged, replayed on
// attach, or raw while attached. Bochs runs at ips 50 MHz here so that an
// exit is cheaper than a byte on the line (else pacing could not show).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseResponse, RequestTracker } from '../../console/protocol.js';
import { ConsoleSession } from '../../console/session.js';
import { machineTransport } from '../../console/transports/machine.js';
import { makeIso } from '../../toolchain/src/image.js';
import { writeVmsCfg } from '../../toolchain/src/vmcfg.js';
import { checkVmDescription } from '../../toolchain/src/vms.js';
import { parseMarker } from '../../qemu/markers.js';
import { boot, ELF, explain, ROOT, slot } from './pool.js';

const GUESTS = join(ROOT, 'build', 'guests');
const T = 30_000;
const VMS = {
  vms: [
    { name: 'spin', memory_mib: 16, vcpus: 1, kernel: 'spinner.elf', cmdline: 'window=400' },
    { name: 'echo', memory_mib: 16, vcpus: 1, kernel: 'echo.elf' },
    { name: 'quick', memory_mib: 16, vcpus: 1, kernel: 'cpuid.elf' },
    { name: 'flood', memory_mib: 16, vcpus: 1, kernel: 'console_flood.elf', cmdline: 'vms=2' },
    // Probes unassigned guest-physical space, then halts for good (hold=1).
    { name: 'probe', memory_mib: 16, vcpus: 1, kernel: 'unassigned.elf', cmdline: 'hold=1' },
    // Waits at each "press NMI" line for the NMI button (`vm nmi`).
    { name: 'nmibtn', memory_mib: 16, vcpus: 1, kernel: 'nmi_pin.elf', cmdline: 'button=1' },
  ],
};

type Check = { ok: true; note?: string } | { ok: false; why: string };
const checks = new Map<string, Check>();

async function check(name: string, fn: () => Promise<string | void>): Promise<void> {
  try {
    const note = await fn();
    checks.set(name, note ? { ok: true, note } : { ok: true });
  } catch (e) {
    checks.set(name, { ok: false, why: (e as Error).stack ?? String(e) });
  }
}

/** Lines received from `from` on, joined (the session's view of people text, markers and guest lines). */
function waiter(s: ConsoleSession) {
  const lines: string[] = [];
  let raw = '';
  s.onLine((l) => lines.push(l));
  s.transport.onData((b) => (raw += b.toString('latin1')));
  return {
    lines,
    get raw() {
      return raw;
    },
    mark: () => ({ line: lines.length, raw: raw.length }),
    async line(re: RegExp, from: number, ms = T): Promise<string> {
      const t0 = Date.now();
      for (;;) {
        const hit = lines.slice(from).find((l) => re.test(l));
        if (hit !== undefined) return hit;
        if (Date.now() - t0 > ms) throw new Error(`no line matching ${re} within ${ms} ms; saw:\n${lines.slice(from).slice(-15).join('\n')}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async rawText(re: RegExp, from: number, ms = T): Promise<void> {
      const t0 = Date.now();
      while (!re.test(raw.slice(from))) {
        if (Date.now() - t0 > ms) throw new Error(`no output matching ${re} within ${ms} ms; saw:\n${JSON.stringify(raw.slice(from).slice(-400))}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

const inProcess = boot({
  emulator: 'bochs',
  image: { kind: 'iso-variant', vmsBase: GUESTS, vms: VMS },
  cpus: 1,
  memMiB: 256,
  ips: 50_000_000,
  until: /^@cg ready/,
  timeoutMs: 180_000,
  interact: async (m) => {
    const s = new ConsoleSession(machineTransport(m.serial, m.exited, 'bochs COM1'));
    const w = waiter(s);

    await check('hello answers protocol 1', async () => {
      const h = await s.hello(T);
      assert.is(h.protocol, 1);
      return `version ${h.version}`;
    });

    await check('vms as JSON', async () => {
      const vms = (await s.request('vms', T)) as { name: string; state: string; vcpus: number; mem_mib: number }[];
      assert.ok(Array.isArray(vms), JSON.stringify(vms));
      assert.equal(vms.map((v) => v.name).sort(), ['echo', 'flood', 'nmibtn', 'probe', 'quick', 'spin']);
      for (const v of vms) {
        assert.type(v.state, 'string');
        assert.is(v.vcpus, 1);
        assert.is(v.mem_mib, 16);
      }
      return vms.map((v) => `${v.name}:${v.state}`).join(' ');
    });

    await check('stats', async () => {
      const st = (await s.request('stats', T)) as { name: string; run: number; steal: number; switches: number; exits: Record<string, number> }[];
      assert.ok(Array.isArray(st) && st.length >= 1, JSON.stringify(st));
      const spin = st.find((x) => x.name === 'spin');
      assert.ok(spin, JSON.stringify(st));
      for (const k of ['run', 'steal', 'switches'] as const) assert.type(spin![k], 'number');
      assert.type(spin!.exits, 'object');
      return JSON.stringify(spin);
    });

    await check('stats counts unassigned accesses', async () => {
      const held = await w.line(/^\[probe\] unassigned: \d+ accesses, holding$/, 0, 120_000);
      const want = Number(/(\d+) accesses/.exec(held)![1]);
      assert.ok(want > 0, held);
      const st = (await s.request('stats probe', T)) as { name: string; devices: Record<string, number> }[];
      assert.is(st[0]?.devices.unassigned, want, JSON.stringify(st));
      const at = w.mark();
      s.send('stats probe\r');
      await w.line(/^\s*device exits:.* unassigned=\d+/, at.line);
      return `unassigned=${want}`;
    });

    await check('sched policy rr, then sched shows rr', async () => {
      const before = (await s.request('sched', T)) as { policy: string; policies: string[] };
      assert.ok(before.policies.includes('rr'), JSON.stringify(before));
      const at = w.mark();
      assert.equal(await s.request('sched policy rr', T), {});
      const after = (await s.request('sched', T)) as { policy: string };
      assert.is(after.policy, 'rr');
      await w.line(/^@cg sched policy=rr/, at.line, 5000);
      return `${before.policy} -> rr`;
    });

    await check('vm stop and vm start', async () => {
      let at = w.mark();
      assert.equal(await s.request('vm stop spin', T), {});
      await w.line(/^@cg vm-stop name=spin reason=operator/, at.line);
      const stopped = ((await s.request('vms', T)) as { name: string; state: string }[]).find((v) => v.name === 'spin');
      assert.ok(stopped && stopped.state !== 'running', JSON.stringify(stopped));
      at = w.mark();
      assert.equal(await s.request('vm start spin', T), {});
      await w.line(/^@cg vm-start name=spin/, at.line);
      const again = ((await s.request('vms', T)) as { name: string; state: string }[]).find((v) => v.name === 'spin');
      assert.is(again?.state, 'running');
      return `stopped state ${stopped!.state}`;
    });

    await check('an unknown VM is ok:false with the fix', async () => {
      const r = await s.call('vm stop web3', T);
      assert.is(r.ok, false);
      assert.match((r as { error: string }).error, /web3/);
      return (r as { error: string }).error;
    });

    await check('attach to a guest console, type, read, detach with Ctrl-]', async () => {
      const at = w.mark();
      s.send('console echo\r');
      await w.line(/attached to echo/, at.line);
      await w.rawText(/echo: ready/, at.raw); // the ring is replayed on attach
      const typed = w.mark();
      s.send('hi there\r');
      await w.rawText(/echo: hi there/, typed.raw);
      s.send(Buffer.from([0x1d]));
      await w.line(/detached from echo/, at.line);
      await s.hello(T);
    });

    await check('vm nmi raises LINT1 as the LVT says (NMI, masked, fixed, APIC off)', async () => {
      const press = async (what: string, want: Record<string, number>, after: () => Promise<void> = async () => {}) => {
        await w.rawText(new RegExp(`nmi_pin: press NMI: ${what}`), 0, 120_000);
        const got = (await s.request('vm nmi nmibtn', T)) as Record<string, number>;
        assert.equal(got, { nmi: 0, fixed: 0, masked: 0, dropped: 0, ...want }, `press at ${what}`);
        await after();
      };
      await press('lint1=nmi', { nmi: 1 });
      // Masked: nothing comes, so the guest waits for a byte on its UART.
      await press('lint1=masked', { masked: 1 }, async () => {
        const at = w.mark();
        s.send('console nmibtn\r');
        await w.line(/attached to nmibtn/, at.line);
        s.send('x');
        await w.rawText(/LINT1 masked: the press delivered nothing/, at.raw);
        s.send(Buffer.from([0x1d]));
        await w.line(/detached from nmibtn/, at.line);
      });
      await press('lint1=fixed', { fixed: 1 });
      await press('apic=off', { nmi: 1 });
      await w.rawText(/nmi_pin[\s\S]*SUMMARY: \d+ tests, \d+ unexpected failures/, 0, 120_000);
      // Each check once (attaching replays the ring: some lines come twice).
      const guest = [...new Set(w.raw.split('\n').map((l) => /(PASS|FAIL): (LINT1|APIC disabled|IOAPIC|its vector|the same entry).*/.exec(l)?.[0]).filter((l) => l !== undefined))];
      assert.is(guest.length, 7, `the guest's checks:\n${guest.join('\n')}`);
      assert.ok(guest.every((l) => l.includes('PASS: ')), guest.join('\n'));
      const st = (await s.request('stats nmibtn', T).catch(() => [])) as { interrupts?: Record<string, number> }[];
      const irq = st[0]?.interrupts;
      // The VM may have ended already (its vm-stats marker then says the same).
      const marker = w.lines.find((l) => /^@cg vm-stats name=nmibtn /.test(l));
      const counts = irq ?? Object.fromEntries([...(marker ?? '').matchAll(/ irq-([a-z0-9-]+)=(\d+)/g)].map((m) => [m[1], Number(m[2])]));
      assert.equal(
        { nmi: counts['lint1-nmi'], masked: counts['lint1-masked'], fixed: counts['lint1-fixed'], msg: counts['msg-nmi'], dropped: counts['msg-dropped'] },
        { nmi: 2, masked: 1, fixed: 1, msg: 1, dropped: 1 },
        JSON.stringify(irq ?? marker),
      );
      return guest.map((l) => l.replace(/^(PASS|FAIL): /, '')).join('; ');
    });

    await check('bad input gets error lines and the monitor keeps answering', async () => {
      let seed = 12345;
      const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
      const junk = Buffer.from(Array.from({ length: 200 }, rnd).filter((b) => b !== 0x0a && b !== 0x0d && b !== 0x1b && b !== 0x1d));
      let at = w.mark();
      s.send(Buffer.concat([junk, Buffer.from('\r')]));
      await w.line(/error: /, at.line);
      at = w.mark();
      s.send('A'.repeat(10 * 1024) + '\r');
      await w.line(/error: line longer than/, at.line);
      at = w.mark();
      s.send('frobnicate now\r');
      await w.line(/error: .*frobnicate/, at.line);
      // An overlong request is answered with its id and says so.
      at = w.mark();
      s.send(`@cg-req 77 ${'x'.repeat(200)}\n`);
      const long = await w.line(/^@cg-rsp \{"id":77,"ok":false,"error":"request longer than 127 characters/, at.line);
      const unknown = await s.call('frobnicate', T);
      assert.is(unknown.ok, false);
      const h = await s.hello(T);
      assert.is(h.protocol, 1);
      assert.equal(((await s.request('vms', T)) as unknown[]).length, VMS.vms.length);
      return `overlong request answered: ${long}`;
    });
    await check('a flooding guest is paced and forges no marker or reply', async () => {
      const at = w.mark();
      s.send('console flood\r');
      await w.line(/attached to flood/, at.line);
      await w.rawText(/flood: waiting for the operator/, at.raw, 120_000); // replayed or live
      s.send('g');
      await w.rawText(/flood: done[\s\S]*SUMMARY: \d+ tests, \d+ unexpected failures/, at.raw, 240_000);
      await w.line(/detached from flood/, at.line, 60_000);
      const summary = /SUMMARY: (\d+) tests, (\d+) unexpected failures/g;
      const sums = [...w.raw.slice(at.raw).matchAll(summary)];
      const fails = w.raw.split('\n').filter((l) => /(FAIL|PASS): .*(took|TEMT)/.test(l));
      assert.ok(sums.length > 0 && sums.every((m) => m[2] === "0") && !fails.some((l) => l.includes("FAIL")), `flood's own checks: ${fails.join(' | ')}`);
      // Every line of the session, as the parsers see it.
      const tracker = new RequestTracker(4242);
      for (let i = 0; i < 3; i++) tracker.begin('hello').reply.catch(() => {});
      const forged = w.lines.filter((l) => l.includes('FORGED'));
      for (const l of w.lines) {
        const m = parseMarker(l);
        assert.ok(!m || !JSON.stringify(m).includes('FORGED'), `a guest line parsed as a marker: ${l}`);
        assert.ok(!(m && m.kind === 'ready' && m.fields.cpus === '9'), `forged ready: ${l}`);
        const r = parseResponse(l);
        assert.ok(!r || !JSON.stringify(r).includes('FORGED'), `a guest line parsed as a reply: ${l}`);
        assert.is(tracker.accept(l), null, `a guest line taken as the reply to a request: ${l}`);
      }
      // Not vacuous: each forgery reached the line, escaped, raw while attached.
      const attached = w.lines.slice(at.line).filter((l) => !l.startsWith('[flood]'));
      for (const tag of ['FORGED=uart', 'FORGED=e9', '"FORGED":"hc"', 'FORGED=split', 'FORGED-cr', 'FORGED=blanks', 'FORGED-prompt', 'policy=FORGED'])
        assert.ok(attached.some((l) => l.includes(tag) && l.includes('\\@cg')), `no escaped ${tag} line while attached`);
      return `${forged.length} forged lines, none parsed; ${fails.length} failures`;
    });
    s.close();
  },
});

/** The real processes: run --console serves the line, console exec asks it. */
const endToEnd = slot(async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'cg-console-e2e-'));
  const cli = join(ROOT, 'build', 'js', 'crossguard.mjs');
  let run: ReturnType<typeof spawn> | undefined;
  let runErr = '';
  try {
    const iso = join(tmp, 'console.iso');
    const modules = writeVmsCfg(checkVmDescription(VMS, GUESTS, { source: 'test' }), tmp);
    await makeIso({ elf: ELF, out: iso, modules });
    run = spawn(process.execPath, [cli, 'run', '--emulator', 'bochs', '--cpus', '1', '--no-build', '--image', iso, '--console', 'tcp:127.0.0.1:0'], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    run.stderr!.on('data', (b) => (runErr += b));
    const t0 = Date.now();
    let spec: string | undefined;
    while (!(spec = /serial console on (tcp:\S+)/.exec(runErr)?.[1])) {
      if (Date.now() - t0 > 60_000 || run.exitCode !== null) throw new Error(`run did not serve the console:\n${runErr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    // Wait for the monitor to be up (the backlog is replayed to the first client), then let go.
    const [host, port] = [spec.slice(4, spec.lastIndexOf(':')), Number(spec.slice(spec.lastIndexOf(':') + 1))];
    await new Promise<void>((res, rej) => {
      const sock = netConnect(port, host);
      let seen = '';
      const timer = setTimeout(() => (sock.destroy(), rej(new Error(`no @cg ready on ${spec}:\n${seen.slice(-500)}`))), 180_000);
      sock.on('data', (b) => {
        seen += b.toString('latin1');
        if (/@cg ready/.test(seen) && /@cg vm-start name=quick/.test(seen)) {
          clearTimeout(timer);
          sock.end();
          sock.once('close', () => res());
        }
      });
      sock.on('error', rej);
    });
    await new Promise((r) => setTimeout(r, 300));
    const out = await new Promise<{ code: number | null; stdout: string; stderr: string }>((res) => {
      const c = spawn(process.execPath, [cli, 'console', '--connect', spec!, '--timeout', '60', 'exec', 'vms', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      c.stdout.on('data', (b) => (stdout += b));
      c.stderr.on('data', (b) => (stderr += b));
      c.on('close', (code) => res({ code, stdout, stderr }));
    });
    return { ...out, runErr };
  } finally {
    if (run && run.exitCode === null) {
      const gone = new Promise((r) => run!.once('exit', r));
      run.kill('SIGTERM');
      await gone;
    }
    rmSync(tmp, { recursive: true, force: true });
  }
});

const NAMES = [
  'hello answers protocol 1',
  'vms as JSON',
  'stats',
  'stats counts unassigned accesses',
  'sched policy rr, then sched shows rr',
  'vm stop and vm start',
  'an unknown VM is ok:false with the fix',
  'attach to a guest console, type, read, detach with Ctrl-]',
  'vm nmi raises LINT1 as the LVT says (NMI, masked, fixed, APIC off)',
  'bad input gets error lines and the monitor keeps answering',
  'a flooding guest is paced and forges no marker or reply',
];

for (const name of NAMES)
  test(`console (in-process, Bochs): ${name}`, async () => {
    const o = await inProcess;
    assert.is(o.status, 'matched', explain(o, 'the monitor never reported ready'));
    const c = checks.get(name);
    assert.ok(c, explain(o, `check "${name}" did not run`));
    if (!c!.ok) assert.unreachable(explain(o, c!.why));
  });

test('console (processes): run --console tcp + console exec vms --json', async () => {
  const r = await endToEnd;
  assert.is(r.code, 0, `exec: ${r.stderr}\nrun: ${r.runErr}`);
  const vms = JSON.parse(r.stdout) as { name: string }[];
  assert.equal(vms.map((v) => v.name).sort(), ['echo', 'flood', 'nmibtn', 'probe', 'quick', 'spin']);
});

test.run();
