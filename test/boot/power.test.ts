// Power control, the SOL console and `crossguard flash`, end to end against
// a simulated BMC (test/boot/bmc-sim.ts: OpenIPMI's ipmi_sim on 127.0.0.1
// whose chassis script starts and stops the "server"), through the real
// ipmitool:
//   power status/on/off change the chassis and start/stop a QEMU;
//   a wrong password, an unknown user, an unreachable BMC and a missing
//   ipmitool each give their one clear error and change nothing;
//   power pxe sets the next boot device and cycles: the server boots from the
//   netboot tree exactly as `run --boot pxe` does (it is that command: QEMU,
//   dnsmasq and a network namespace), and `console --connect ipmi-sol://…`
//   shows the monitor's serial lines; the password is never on a command line;
//   flash writes the tree, deploys it over SFTP, powers the server into it
//   and follows its console to `@cg ready`. QEMU TCG has no VT-x, so the
//   host's VM ends create-failed and flash fails at its vms step, naming it;
//   flash --tree-dir puts the tree in a directory, and a refused BMC
//   password stops it at the console step with the power left alone;
//   a request typed into the ipmi-sol console reaches the monitor's shell
//   and its answer comes back over SOL.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Manifest } from '../../toolchain/src/pxe/manifest.js';
import { BMC_PASSWORD, bmcSimUnavailable, startBmcSim, type BmcSim } from './bmc-sim.js';
import { userInfo } from 'node:os';
import { freePort, publicKey, startSshd, type TestSshd } from '../console/sshd.js';
import { cannotMakeNamespaces } from './netns.js';
import { CLI, startCli, type CliRun as Run } from './cli.js';
import { ROOT, slot } from './pool.js';

const GUESTS = join(ROOT, 'build', 'guests');
const MAC = '52:54:00:00:13:0a';

const bmcEnv = () => ({ ...process.env, CG_BMC_PASSWORD: BMC_PASSWORD });
const cli = (args: string[], o: { env?: NodeJS.ProcessEnv; timeoutMs?: number; stdin?: 'pipe' } = {}) => startCli(args, { ...o, env: o.env ?? bmcEnv() });
const run = (args: string[], o: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}) => cli(args, o).done;

const skip = cannotMakeNamespaces('cg-power') ?? bmcSimUnavailable();
const dir = mkdtempSync(join(tmpdir(), 'cg-power-'));
const tree = join(dir, 'tree');
const vmsFile = join(dir, 'web.json');
writeFileSync(vmsFile, JSON.stringify({ vms: [{ name: 'web-a', memory_mib: 16, kernel: join(GUESTS, 'echo.elf') }] }));
let sim: BmcSim | undefined;
// The PXE server flash deploys to: OpenSSH's sshd on 127.0.0.1 (SFTP), whose `tree` the simulated server boots from.
let sshd: TestSshd | undefined;
const sshDir = join(dir, 'ssh');
let sshPort = 0;
const until = async (cond: () => boolean, ms: number) => {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
  return cond();
};
const explain = (r: Run, what: string) => `${what}\n--- stdout ---\n${r.stdout.slice(-2000)}\n--- stderr ---\n${r.stderr.slice(-3000)}\n--- chassis ---\n${sim?.chassisLog()}\n--- server ---\n${sim?.serverLog().slice(-3000)}`;

// uvu reports a failing hook as nothing at all: say what failed, and let every test fail on it.
let setupError: string | undefined;
test.before(async () => {
  if (skip) return;
  try {
    // The monitor's shell on (no cg.shell=0): the SOL console's input is tried against it.
    const made = await run(['image', '--format', 'pxe', '--out', tree, '--host', `${MAC}=${vmsFile}`]);
    assert.is(made.status, 0, explain(made, 'image --format pxe'));
    sim = await startBmcSim({ tree, mac: MAC, node: process.execPath, cli: CLI, cwd: ROOT });
    spawnSync('mkdir', ['-p', sshDir]);
    sshPort = await freePort();
    sshd = await startSshd(sshDir, [sshPort], ['Subsystem sftp internal-sftp'], 'power');
    writeFileSync(join(sshDir, 'known_hosts'), `[127.0.0.1]:${sshPort} ${publicKey(sshDir, 'host_key')}\n`);
  } catch (e) {
    setupError = (e as Error).message;
    console.error(`power.test setup failed: ${setupError}`);
  }
});
const ready = () => assert.is(setupError, undefined, `setup failed: ${setupError}`);

test.after(async () => {
  await sim?.stop();
  await sshd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const timed = (name: string, fn: () => Promise<void>) =>
  test(name, async () => {
    const t0 = Date.now();
    await fn();
    if (!skip) console.log(`  ${name.split(':')[0]}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });

timed('power status, on, off: the chassis and the server follow', async () => {
  if (skip) {
    console.log(`  (skipped: ${skip})`);
    return;
  }
  ready();
  const s = sim!;
  // The password from a file this time (ipmitool -f), IPMI_PASSWORD from the environment the rest.
  const pwFile = join(dir, 'pw');
  writeFileSync(pwFile, `${BMC_PASSWORD}\n`, { mode: 0o600 });
  const viaFile = { ...process.env, CG_BMC_PASSWORD: '', IPMI_PASSWORD: '' };
  let r = await run(['power', 'status', '--bmc', s.url, '--password-file', pwFile], { env: viaFile });
  assert.is(r.status, 0, explain(r, 'status'));
  assert.is(r.stdout.trim(), `${s.url}: power off`);
  r = await run(['power', 'on', '--bmc', s.url]);
  assert.is(r.status, 0, explain(r, 'on'));
  assert.ok(await s.waitLog(/server start pid=\d+ disk boot/, 10_000), explain(r, 'power on started no server'));
  assert.ok(s.serverPid() !== null, 'the server runs');
  r = await run(['power', 'status', '--bmc', s.url]);
  assert.is(r.stdout.trim(), `${s.url}: power on`, explain(r, 'status after on'));
  r = await run(['power', 'off', '--bmc', s.url]);
  assert.is(r.status, 0, explain(r, 'off'));
  assert.ok(await until(() => s.serverPid() === null, 10_000), explain(r, 'the server still runs after power off'));
  r = await run(['power', 'status', '--bmc', s.url]);
  assert.is(r.stdout.trim(), `${s.url}: power off`, explain(r, 'status after off'));
});

timed('bad credentials, an unreachable BMC, no ipmitool: one clear line each, nothing changes', async () => {
  if (skip) return;
  ready();
  const s = sim!;
  const before = s.chassisLog();
  const env = (pw: string) => ({ ...process.env, CG_BMC_PASSWORD: pw });
  let r = await run(['power', 'on', '--bmc', s.url], { env: env('not-the-password') });
  assert.is(r.status, 4, explain(r, 'wrong password'));
  assert.match(r.stderr, /the BMC refused the password of user admin \(from CG_BMC_PASSWORD\)/);
  // An unknown user's words are checked in test/toolchain/power.test.ts (captured from this BMC).
  r = await run(['power', 'status', '--bmc', `ipmi://admin@127.0.0.1:${s.port === 65535 ? 65534 : s.port + 1}?cipher=3`]);
  assert.is(r.status, 4, explain(r, 'unreachable'));
  assert.match(r.stderr, /no answer from the BMC \(UDP port \d+\)/);
  r = await run(['power', 'status', '--bmc', s.url], { env: { ...process.env, CG_BMC_PASSWORD: BMC_PASSWORD, PATH: '/nonexistent' } });
  assert.is(r.status, 1, explain(r, 'no ipmitool'));
  assert.match(r.stderr, /ipmitool is not installed: apt-get install ipmitool/);
  assert.is(s.chassisLog(), before, 'no failed attempt reached the chassis');
});

timed('power pxe boots the server from the tree; console over ipmi-sol shows its serial lines; no password in ps', async () => {
  if (skip) return;
  ready();
  const s = sim!;
  const con = cli(['console', '--connect', s.url.replace('ipmi://', 'ipmi-sol://')], { stdin: 'pipe', timeoutMs: 120_000 });
  // A failed assertion must not leave the SOL session held for the next test.
  const end = () => con.child.exitCode === null && con.child.kill('SIGTERM');
  try {
  let out = '';
  con.child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  let err = '';
  con.child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  assert.ok(await until(() => /connected to ipmi-sol:/.test(err), 30_000), `console did not connect: ${err}`);
  // The ipmitool behind it: -E, and the password nowhere on its command line.
  const cmdlines = readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .map((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
      } catch {
        return [];
      }
    })
    .filter((c) => c[0]?.endsWith('ipmitool') && c.includes('sol'));
  assert.ok(cmdlines.length >= 1, 'ipmitool sol activate runs');
  for (const c of cmdlines) {
    assert.ok(c.includes('-E'), c.join(' '));
    assert.not.ok(c.join(' ').includes(BMC_PASSWORD), `password on a command line: ${c.join(' ')}`);
  }
  const r = await slot(async () => {
    const p = await run(['power', 'pxe', '--bmc', s.url]);
    await until(() => /@cg ready/.test(out), 90_000);
    return p;
  });
  assert.is(r.status, 0, explain(r, 'power pxe'));
  assert.match(r.stdout, /booting from the network: power on \(it was off\)/);
  assert.match(s.chassisLog(), /boot pxe\n.*power 1\n.*server start pid=\d+ pxe boot/);
  assert.match(out, /^@cg boot .*loader=multiboot1/m, `console output:\n${out.slice(-3000)}\n${err}\n${s.serverLog().slice(-2000)}`);
  assert.match(out, /^@cg ready cpus=2 vmx=0/m, 'the monitor came up over SOL');
  // The other direction: a request typed into the console reaches the monitor over SOL and its answer comes back.
  // ipmi_sim may drop the first bytes a session sends (docs/lab.md): up to three tries, each its own id.
  let answered = false;
  for (let id = 7; id < 10 && !answered; id++) {
    con.child.stdin!.write(`@cg-req ${id} version\n`);
    answered = await until(() => new RegExp(`^@cg-rsp \\{"id":${id},"ok":true,"data":\\{"version":"[^"]+"\\}\\}\\r?$`, 'm').test(out), 10_000);
  }
  assert.ok(answered, `no answer to a request typed over SOL:\n${out.slice(-2000)}`);
  assert.match(s.serverLog(), /MAC 52:54:00:00:13:0a boots its own VM set/);
  } catch (e) {
    end();
    throw e;
  }
  con.child.stdin!.end();
  const c = await con.done;
  assert.is(c.status, 0, `console exit ${c.status}: ${c.stderr}`);
  // The SOL session was released: another one opens at once.
  const again = cli(['console', '--connect', s.url.replace('ipmi://', 'ipmi-sol://')], { stdin: 'pipe', timeoutMs: 20_000 });
  let err2 = '';
  again.child.stderr!.on('data', (b: Buffer) => (err2 += b.toString()));
  assert.ok(await until(() => /connected to ipmi-sol:/.test(err2) || again.child.exitCode !== null, 15_000), err2);
  again.child.stdin!.end();
  assert.is((await again.done).status, 0, err2);
  const off = await run(['power', 'off', '--bmc', s.url]);
  assert.is(off.status, 0, explain(off, 'power off'));
  assert.ok(await until(() => s.serverPid() === null, 15_000), 'run --boot pxe stopped');
  // run --boot pxe names its namespace cg-pxe-<its pid>-<n>; other tests' runs may have theirs meanwhile.
  const pid = /server start pid=(\d+) pxe boot/.exec(s.chassisLog())![1];
  const left = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
  assert.not.match(left, new RegExp(`^cg-pxe-${pid}-`, 'm'), `the server's namespace was left behind:\n${left}`);
});

timed('flash: tree, deploy over SFTP, PXE, power cycle, @cg ready over SOL; no VT-x under TCG fails the vms step by name', async () => {
  if (skip) return;
  ready();
  const s = sim!;
  const serialLog = join(dir, 'serial.log');
  const r = await slot(() =>
    run(
      ['flash', '--bmc', s.url, '--mac', MAC.toUpperCase().replace(/:/g, '-'), '--vms', vmsFile, '--cmdline', 'cg.shell=0', '--timeout', '90', '--serial-log', serialLog,
        '--to', `sftp://${userInfo().username}@127.0.0.1:${sshPort}${tree}`, '--identity', join(sshDir, 'user_key'), '--known-hosts', join(sshDir, 'known_hosts')],
      { timeoutMs: 150_000 },
    ),
  );
  const man = JSON.parse(readFileSync(join(tree, 'manifest.json'), 'utf8')) as Manifest;
  assert.is(r.status, 1, explain(r, 'flash must fail at the vms step under TCG'));
  assert.match(r.stderr, new RegExp(`\\[tree\\] release [0-9a-f]{12}: ${MAC} runs web-a`), explain(r, 'tree'));
  assert.match(r.stderr, new RegExp(`\\[deploy\\] .*serves release ${man.release}`), explain(r, 'deploy'));
  assert.match(r.stderr, /\[console\] serial-over-LAN open/);
  assert.match(r.stderr, /\[power\] .*power was (on|off): power (cycle|on)/);
  assert.match(r.stderr, /\[boot\] @cg ready: 2 CPUs, 0 in VMX root/, explain(r, 'ready'));
  assert.match(r.stderr, /flash failed at step vms: 52:54:00:00:13:0a: VM web-a did not start \(create-failed\): the host has no usable VT-x/, explain(r, 'the failing step'));
  assert.match(readFileSync(serialLog, 'utf8'), new RegExp(`@cg boot .*releases/${man.release}/crossguard\\.elf`), 'the host booted the release just deployed');
  assert.is(man.hosts.find((h) => h.mac === MAC)?.vms.join(','), 'web-a');
  assert.ok(existsSync(tree));
});

timed('flash --tree-dir: the tree replaces the directory; a BMC that refuses the password stops flash at its console step, the power left alone', async () => {
  if (skip) return;
  ready();
  const s = sim!;
  const before = s.chassisLog();
  const dest = join(dir, 'tftp-root');
  const r = await run(['flash', '--bmc', s.url, '--mac', MAC, '--vms', vmsFile, '--tree-dir', dest, '--timeout', '30'], { env: { ...process.env, CG_BMC_PASSWORD: 'not-the-password' } });
  assert.is(r.status, 4, explain(r, 'flash must fail at the console step'));
  const man = JSON.parse(readFileSync(join(dest, 'manifest.json'), 'utf8')) as Manifest;
  assert.match(r.stderr, new RegExp(`\\[deploy\\] ${dest.replace(/[.]/g, '\\.')} serves release ${man.release}`), explain(r, 'deploy'));
  assert.is(man.hosts.find((h) => h.mac === MAC)?.vms.join(','), 'web-a');
  assert.ok(existsSync(join(dest, man.monitor.path)), 'the monitor is in the directory');
  assert.match(r.stderr, /flash failed at step console: .*refused the password/, explain(r, 'the failing step'));
  assert.is(s.chassisLog(), before, 'no power command reached the chassis');
});

test.run();
