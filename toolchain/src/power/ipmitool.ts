// Running the real ipmitool against a BMC over IPMI v2 (`-I lanplus`, RMCP+)
// and turning its failures into one clear error each. The argument list is
// built here (pure) and never holds the password (auth.ts).
//
// ipmitool says "Unable to establish IPMI v2 / RMCP+ session" for every
// session failure, whatever the cause. With -v it says which: no answer to
// Get Channel Authentication Capabilities (nobody at that address and port),
// "RAKP 2 HMAC is invalid" (wrong password), "unauthorized name" (unknown
// user), on stderr. Commands that print a short answer run with -v; a
// session that must stay clean (sol activate) runs without, and a failure is
// followed by one -v probe that only opens a session and reads the power
// state (no side effect) to name the cause.

import { realClock, realSpawner, killGroup, type Clock, type Spawner } from '../../../qemu/process.js';
import type { BmcAuth } from './auth.js';
import { formatBmc, type BmcAddress } from './bmc.js';
import { BmcAuthError, BmcCommandError, BmcUnreachableError, IpmitoolMissingError } from './errors.js';
import type { CrossguardError } from '../../../qemu/errors.js';

export interface IpmiTarget {
  bmc: BmcAddress;
  auth: BmcAuth;
}

/** Seconds between retransmissions and how many: with these an unreachable BMC is reported in about 2.5 s (13 s with -R 3: ipmitool retries each step of the session setup). */
export const IPMI_TIMING = { timeoutS: 1, retries: 1 } as const;

/** ipmitool's arguments for `command` on this BMC (pure). */
export function ipmitoolArgs(t: IpmiTarget, command: readonly string[], o: { verbose?: boolean } = {}): string[] {
  return [
    '-I', 'lanplus',
    '-H', t.bmc.host,
    '-p', String(t.bmc.port),
    '-U', t.bmc.user,
    ...(t.bmc.cipher !== undefined ? ['-C', String(t.bmc.cipher)] : []),
    ...t.auth.args,
    '-N', String(IPMI_TIMING.timeoutS),
    '-R', String(IPMI_TIMING.retries),
    ...(o.verbose ? ['-v'] : []),
    ...command,
  ];
}

/** ipmitool lines that are noise, not causes (cipher-suite probing of old BMCs, no tty on stdin, -v chatter). */
const NOISE = [/^Unable to Get Channel Cipher Suites/, /^tcgetattr: /, /^Loading IANA PEN Registry/, /^Running Get VSO Capabilities/, /^Invalid completion code received: Invalid command$/, /^Discovered IPMB address/, /^>>/, /^\s*$/];

/** The lines of ipmitool's stderr worth showing (pure). */
export function meaningfulLines(text: string): string[] {
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => !NOISE.some((r) => r.test(l)));
}

/** Names the cause of a session failure from a -v probe's stderr (pure); null when it names none. */
export function sessionFailure(t: IpmiTarget, verboseStderr: string): CrossguardError | null {
  const where = formatBmc(t.bmc);
  if (/RAKP 2 HMAC is invalid/i.test(verboseStderr))
    return new BmcAuthError(`${where}: the BMC refused the password of user ${t.bmc.user} (from ${t.auth.source}); check it`);
  if (/unauthorized name/i.test(verboseStderr))
    return new BmcAuthError(`${where}: the BMC has no user "${t.bmc.user}" (or it is disabled); check the user in the address`);
  if (/insufficient privilege|privilege level/i.test(verboseStderr) && /Set Session Privilege Level/i.test(verboseStderr))
    return new BmcAuthError(`${where}: user ${t.bmc.user} may not log in with ADMINISTRATOR privilege, which power control needs`);
  if (/Get Auth Capabilities error|No response from remote controller|Error issuing Get Channel Authentication Capabilities/i.test(verboseStderr))
    return new BmcUnreachableError(
      `${where}: no answer from the BMC (UDP port ${t.bmc.port}): check the address and port, that the BMC has IPMI over LAN enabled, and the firewall`,
    );
  return null;
}

export interface IpmiResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunIpmiOptions {
  spawner?: Spawner;
  clock?: Clock;
  /** Kill ipmitool after this long; default 30 s. */
  limitMs?: number;
}

/** Runs ipmitool once to its end; IpmitoolMissingError when it is not installed. */
export async function runIpmitool(t: IpmiTarget, command: readonly string[], o: RunIpmiOptions & { verbose?: boolean } = {}): Promise<IpmiResult> {
  const spawner = o.spawner ?? realSpawner;
  const clock = o.clock ?? realClock;
  const child = spawner('ipmitool', ipmitoolArgs(t, command, o), { env: t.auth.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  let timedOut = false;
  const timer = clock.setTimeout(() => {
    timedOut = true;
    if (child.pid !== undefined) void killGroup(child.pid, child.exited, { clock, graceMs: 500 });
  }, o.limitMs ?? 30_000);
  const st = await child.exited;
  clock.clearTimeout(timer);
  const err = child.spawnError();
  if (err && (err as NodeJS.ErrnoException).code === 'ENOENT')
    throw new IpmitoolMissingError('ipmitool is not installed: apt-get install ipmitool (toolchain/setup.sh installs it)');
  if (err) throw new BmcCommandError(`cannot run ipmitool: ${err.message}`);
  if (timedOut) throw new BmcUnreachableError(`${formatBmc(t.bmc)}: ipmitool ${command.join(' ')} did not finish within ${Math.round((o.limitMs ?? 30_000) / 1000)} s`);
  return { code: st.code, stdout, stderr };
}

/** The error for a failed run: the probe's cause for a session failure, else ipmitool's own words (pure but for the probe). */
export async function failureOf(t: IpmiTarget, command: readonly string[], r: IpmiResult, o: RunIpmiOptions = {}): Promise<CrossguardError> {
  if (/Unable to establish IPMI v2|Unable to establish LAN session|Error: Unable to establish/i.test(r.stderr)) {
    const known = sessionFailure(t, r.stderr);
    if (known) return known;
    const probe = await runIpmitool(t, ['chassis', 'power', 'status'], { ...o, verbose: true });
    const cause = sessionFailure(t, probe.stderr);
    if (cause) return cause;
  }
  const said = meaningfulLines(r.stderr).slice(-3).join('; ') || `status ${r.code}`;
  return new BmcCommandError(`${formatBmc(t.bmc)}: ipmitool ${command.join(' ')} failed: ${said}`);
}

/** Runs `command` (with -v: its stdout stays the answer, the causes go to stderr) and returns its stdout; the named error when it fails. */
export async function ipmi(t: IpmiTarget, command: readonly string[], o: RunIpmiOptions = {}): Promise<string> {
  const r = await runIpmitool(t, command, { ...o, verbose: true });
  if (r.code !== 0) throw await failureOf(t, command, r, o);
  return r.stdout;
}
