// BMC addresses, the password sources, ipmitool's arguments and failure
// causes (from ipmitool's real words, captured against ipmi_sim), the power
// actions' command sequences (scripted ipmitool), flash's serial watcher and
// its target choice, and the console's ipmi-sol:// spec. No processes, no
// network: test/boot/power.test.ts runs the real parts.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bmcAuth } from '../../toolchain/src/power/auth.js';
import { formatBmc, parseBmcAddress, type BmcAddress } from '../../toolchain/src/power/bmc.js';
import { parsePowerStatus, powerAction } from '../../toolchain/src/power/chassis.js';
import { ipmitoolArgs, meaningfulLines, sessionFailure, type IpmiTarget } from '../../toolchain/src/power/ipmitool.js';
import { BootWatch } from '../../toolchain/src/flash/watch.js';
import { flashTarget } from '../../toolchain/src/commands/flash.js';
import { parseSpec, formatSpec } from '../../console/spec.js';
import type { Spawner } from '../../qemu/process.js';
import { fakeChild } from '../qemu/fakes.js';

const PW = 'pw-never-in-argv';
const bmc = (o: Partial<BmcAddress> = {}): BmcAddress => ({ user: 'admin', host: 'bmc1.lab', port: 623, ...o });
const target = (o: Partial<BmcAddress> = {}): IpmiTarget => ({ bmc: bmc(o), auth: bmcAuth(undefined, { CG_BMC_PASSWORD: PW }) });

test('BMC addresses: user, host, port, cipher; no password, no junk', () => {
  assert.equal(parseBmcAddress('ipmi://admin@bmc1.lab', 'ipmi'), bmc());
  assert.equal(parseBmcAddress('ipmi://root@10.0.0.9:6230?cipher=17', 'ipmi'), { user: 'root', host: '10.0.0.9', port: 6230, cipher: 17 });
  assert.equal(parseBmcAddress('ipmi-sol://a%40b@[fd00::1]:700', 'ipmi-sol'), { user: 'a@b', host: 'fd00::1', port: 700 });
  const why = (s: string) => parseBmcAddress(s, 'ipmi') as string;
  assert.match(why('ipmi://admin:secret@bmc1'), /do not put a password in the address/);
  assert.match(why('ipmi://bmc1'), /name the BMC user/);
  assert.match(why('ipmi://admin@bmc1:99999'), /expected ipmi:\/\/USER@HOST\[:PORT\]/);
  assert.match(why('ipmi://admin@bmc1?cipher=18'), /cipher "18"/);
  assert.match(why('ipmi://admin@bmc1?port=1'), /unknown parameter "port"/);
  assert.match(why('ipmi://admin@bmc1/x'), /unexpected "\/x"/);
  assert.match(why('ssh://admin@bmc1'), /expected ipmi:\/\/USER@HOST/);
  assert.is(formatBmc(bmc({ port: 6230, cipher: 3 })), 'ipmi://admin@bmc1.lab:6230?cipher=3');
  assert.is(formatBmc(bmc(), 'ipmi-sol'), 'ipmi-sol://admin@bmc1.lab');
});

test('password sources: file over env, CG_BMC_PASSWORD over IPMI_PASSWORD, none is an error; never an argument', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cg-power-unit-'));
  try {
    const f = join(dir, 'pw');
    writeFileSync(f, `${PW}\n`);
    const file = bmcAuth(f, { IPMI_PASSWORD: 'stale', CG_BMC_PASSWORD: 'other' });
    assert.equal(file.args, ['-f', f]);
    assert.is(file.env.IPMI_PASSWORD, undefined, 'a stale IPMI_PASSWORD does not override the file');
    const own = bmcAuth(undefined, { CG_BMC_PASSWORD: PW, IPMI_PASSWORD: 'other' });
    assert.equal(own.args, ['-E']);
    assert.is(own.env.IPMI_PASSWORD, PW);
    assert.is(bmcAuth(undefined, { IPMI_PASSWORD: PW }).source, 'IPMI_PASSWORD');
    assert.throws(() => bmcAuth(undefined, {}), /no BMC password: set CG_BMC_PASSWORD/);
    assert.throws(() => bmcAuth(join(dir, 'none'), {}), /--password-file .*: no such file/);
    assert.throws(() => bmcAuth(dir, {}), /not a regular file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ipmitool arguments: lanplus, the address, -E or -f, -C when asked; the password nowhere', () => {
  const a = ipmitoolArgs(target({ cipher: 3 }), ['chassis', 'power', 'status'], { verbose: true });
  assert.equal(a.slice(0, 8), ['-I', 'lanplus', '-H', 'bmc1.lab', '-p', '623', '-U', 'admin']);
  assert.ok(a.includes('-E') && a.includes('-v'));
  assert.equal(a.slice(a.indexOf('-C'), a.indexOf('-C') + 2), ['-C', '3']);
  assert.equal(a.slice(-3), ['chassis', 'power', 'status']);
  assert.not.ok(a.join(' ').includes(PW));
  assert.not.ok(ipmitoolArgs(target(), ['sol', 'activate']).includes('-C'));
});

test('session failures named from what ipmitool -v says', () => {
  const t = target();
  const hmac = 'Loading IANA PEN Registry...\n> RAKP 2 HMAC is invalid\nError: Unable to establish IPMI v2 / RMCP+ session\n';
  const name = 'RAKP 2 message indicates an error : unauthorized name\nError: Unable to establish IPMI v2 / RMCP+ session\n';
  const none = 'Get Auth Capabilities error\nError issuing Get Channel Authentication Capabilities request\nError: Unable to establish IPMI v2 / RMCP+ session\n';
  assert.is(sessionFailure(t, hmac)?.name, 'BmcAuthError');
  assert.match(sessionFailure(t, hmac)!.message, /refused the password of user admin \(from CG_BMC_PASSWORD\)/);
  assert.match(sessionFailure(t, name)!.message, /has no user "admin"/);
  assert.is(sessionFailure(t, none)?.name, 'BmcUnreachableError');
  assert.is(sessionFailure(t, none)?.exitCode, 4);
  assert.is(sessionFailure(t, 'Error: Unable to establish IPMI v2 / RMCP+ session\n'), null);
  assert.equal(meaningfulLines('Unable to Get Channel Cipher Suites\ntcgetattr: Inappropriate ioctl for device\nSet Chassis Power Control to Cycle failed: Command not supported in present state\n'), [
    'Set Chassis Power Control to Cycle failed: Command not supported in present state',
  ]);
});

/** ipmitool played by a script: power state kept here, every command recorded. */
function scriptedIpmitool(initial: 'on' | 'off') {
  let state = initial;
  const commands: string[] = [];
  const spawner: Spawner = (_cmd, args) => {
    const c = fakeChild();
    const cmd = args.slice(args.lastIndexOf('-v') + 1).join(' ');
    commands.push(cmd);
    setImmediate(() => {
      if (cmd === 'chassis power status') c.stdout.write(`Chassis Power is ${state}\n`);
      else if (cmd === 'chassis power on') state = 'on';
      else if (cmd === 'chassis power off') state = 'off';
      else if (cmd === 'chassis power cycle' && state === 'off') {
        c.stderr.write('Set Chassis Power Control to Cycle failed: Command not supported in present state\n');
        c.stdout.end();
        c.stderr.end();
        return c.exit({ code: 1, signal: null });
      }
      c.stdout.end();
      c.stderr.end();
      c.exit({ code: 0, signal: null });
    });
    return c;
  };
  return { spawner, commands };
}

test('power actions: pxe sets the boot device then cycles a running machine, powers on one that is off', async () => {
  const on = scriptedIpmitool('on');
  assert.match(await powerAction(target(), 'pxe', () => {}, { spawner: on.spawner }), /booting from the network: power cycled/);
  assert.equal(on.commands, ['chassis bootdev pxe', 'chassis power status', 'chassis power cycle']);
  const off = scriptedIpmitool('off');
  assert.match(await powerAction(target(), 'cycle', () => {}, { spawner: off.spawner }), /power on \(it was off\)/);
  assert.equal(off.commands, ['chassis power status', 'chassis power on']);
  const st = scriptedIpmitool('off');
  assert.is(await powerAction(target(), 'status', () => {}, { spawner: st.spawner }), 'ipmi://admin@bmc1.lab: power off');
  assert.is(parsePowerStatus('Chassis Power is on\n'), 'on');
  assert.is(parsePowerStatus('garbage'), null);
});

test('flash watcher: ready, then every VM started; a VM stopping first, fatal, vms-done or another release fail', () => {
  const ok = new BootWatch(['web', 'db'], 'abc123');
  ok.push('@cg boot version=x loader=multiboot1 efi=0 cmdline="http://10.0.0.1/releases/abc123/crossguard.elf"');
  assert.equal(ok.push('@cg ready cpus=4 vmx=4 ticks=1'), { kind: 'ready', cpus: '4', vmx: '4' });
  ok.push('[web] hello');
  ok.push('@cg vm-start name=db vcpus=1 mem=16 overhead=1 apicv=0');
  assert.is(ok.result.status, 'waiting');
  ok.push('@cg vm-start name=db vcpus=1 mem=16 overhead=1 apicv=0');
  ok.push('@cg vm-start name=stranger vcpus=1 mem=16 overhead=1 apicv=0');
  assert.equal(ok.missing(), ['web']);
  ok.push('@cg vm-start name=web vcpus=1 mem=16 overhead=1 apicv=0');
  assert.equal(ok.result, { status: 'done' });

  const tcg = new BootWatch(['web'], 'r1');
  tcg.push('@cg ready cpus=2 vmx=0 ticks=1');
  tcg.push('@cg vm-stop name=web reason=create-failed');
  assert.equal(tcg.result, { status: 'failed', step: 'vms', why: 'VM web did not start (create-failed): the host has no usable VT-x (enable it in the firmware setup)' });

  const old = new BootWatch(['web'], 'new1');
  old.push('@cg boot version=x loader=multiboot1 efi=0 cmdline="tftp://10.0.0.1/releases/old9/crossguard.elf"');
  assert.is(old.result.status === 'failed' && old.result.step, 'boot');

  const fatal = new BootWatch(['web'], 'r');
  fatal.push('@cg fatal reason=x');
  assert.is(fatal.result.status === 'failed' && fatal.result.step, 'boot');
  const done = new BootWatch(['web'], 'r');
  done.push('@cg ready cpus=1 vmx=1');
  done.push('@cg vms-done count=0');
  assert.match(done.result.status === 'failed' ? done.result.why : '', /web never started/);
  const none = new BootWatch([], 'r');
  none.push('@cg ready cpus=1 vmx=1');
  assert.is(none.result.status, 'done');
});

test('flash target: exactly one of --to and --tree-dir', () => {
  assert.throws(() => flashTarget({}), /--to sftp:\/\/USER@HOST\/PATH or --tree-dir DIR/);
  assert.throws(() => flashTarget({ to: 'sftp://a@b/x', treeDir: '/tmp/x' }), /one of them/);
  assert.throws(() => flashTarget({ to: 'ftp://a@b/x' }), /sftp:\/\//);
  assert.throws(() => flashTarget({ treeDir: '/srv/tftp/cg', identity: 'k' }), /--identity goes with --to/);
  assert.is(flashTarget({ treeDir: '/srv/tftp/cg' }).description, '/srv/tftp/cg');
  assert.is(flashTarget({ to: 'sftp://pxe@boot.lab/srv/tftp/cg' }).description, 'sftp://pxe@boot.lab/srv/tftp/cg');
});

test('console spec: ipmi-sol://', () => {
  const s = parseSpec('ipmi-sol://admin@bmc1.lab:6230?cipher=3');
  assert.equal(s, { kind: 'ipmi-sol', user: 'admin', host: 'bmc1.lab', port: 6230, cipher: 3 });
  assert.is(formatSpec(s), 'ipmi-sol://admin@bmc1.lab:6230?cipher=3');
  assert.throws(() => parseSpec('ipmi-sol://admin:pw@bmc1'), /--connect ipmi-sol:\/\/admin:pw@bmc1: do not put a password/);
});

test.run();
