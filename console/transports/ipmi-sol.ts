// ipmi-sol://USER@BMC[:PORT]: the lab server's serial line through its BMC's
// serial-over-LAN (IPMI v2), carried by the real `ipmitool -I lanplus sol
// activate` as a child process: its stdout is the line from the server, its
// stdin the line to it. The password reaches ipmitool through its
// environment (-E) or --password-file (-f), never its command line
// (toolchain/src/power/auth.ts).
//
// Opening waits for ipmitool's "[SOL Session operational" banner (dropped
// from the stream). ipmitool writes through stdio, which a pipe makes fully
// buffered: the banner (and the line's bytes) would sit in its buffer, so it
// runs under coreutils' `stdbuf -o0`. Closing ends ipmitool's stdin: ipmitool then deactivates
// the SOL payload and closes the session itself, so the next session (ours or
// anyone's) is not refused with "payload already active". If it has not gone
// within 3 s it is killed and a separate `sol deactivate` frees the payload.
// ipmitool's escape sequences (Enter, then `~.`) still work on the line.

import { Duplex } from 'node:stream';
import { bmcAuth } from '../../toolchain/src/power/auth.js';
import { formatBmc } from '../../toolchain/src/power/bmc.js';
import { failureOf, ipmitoolArgs, meaningfulLines, runIpmitool, type IpmiTarget } from '../../toolchain/src/power/ipmitool.js';
import { IpmitoolMissingError } from '../../toolchain/src/power/errors.js';
import { killGroup, realSpawner, type Child } from '../../qemu/process.js';
import { findOnPath } from '../../qemu/which.js';
import { ConnectError } from '../errors.js';
import type { ConnectSpec } from '../spec.js';
import { StreamTransport, type ConnectOptions, type Transport } from '../transport.js';

type SolSpec = Extract<ConnectSpec, { kind: 'ipmi-sol' }>;

const BANNER = /\[SOL Session operational[^\n]*\n/;
const CLOSE_GRACE_MS = 3000;

/** Why `sol activate` ended before the banner, as one ConnectError. */
async function activationFailure(t: IpmiTarget, stderr: string, code: number | null, opts: ConnectOptions): Promise<ConnectError> {
  const where = formatBmc(t.bmc, 'ipmi-sol');
  if (/payload already active|already active on another session/i.test(stderr))
    return new ConnectError(
      `${where}: serial-over-LAN is in use by another session; end that session (its ipmitool: Enter ~ .), or free it with: ` +
        `ipmitool -I lanplus -H ${t.bmc.host} -p ${t.bmc.port} -U ${t.bmc.user} -E sol deactivate`,
    );
  if (/payload is disabled|SOL payload disabled/i.test(stderr))
    return new ConnectError(`${where}: serial-over-LAN is disabled on this BMC; enable it (ipmitool … sol set enabled true) or in the BMC's web UI`);
  const e = await failureOf(t, ['sol', 'activate'], { code, stdout: '', stderr }, opts.spawner ? { spawner: opts.spawner } : {});
  return new ConnectError(e.message.replace(/^ipmi:\/\//, 'ipmi-sol://'));
}

export async function connectSol(s: SolSpec, opts: ConnectOptions = {}): Promise<Transport> {
  const t: IpmiTarget = { bmc: { user: s.user, host: s.host, port: s.port, ...(s.cipher !== undefined ? { cipher: s.cipher } : {}) }, auth: bmcAuth(opts.passwordFile, opts.env ?? process.env) };
  const where = formatBmc(t.bmc, 'ipmi-sol');
  const spawner = opts.spawner ?? realSpawner;
  const notice = opts.notice ?? ((l: string) => process.stderr.write(`crossguard: ${l}\n`));
  const args = ipmitoolArgs(t, ['sol', 'activate']);
  const unbuffered = findOnPath('stdbuf', t.auth.env.PATH ?? '') !== null;
  const child: Child = unbuffered
    ? spawner('stdbuf', ['-o0', 'ipmitool', ...args], { env: t.auth.env, stdio: ['pipe', 'pipe', 'pipe'] })
    : spawner('ipmitool', args, { env: t.auth.env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => {
    stderr += b.toString();
    if (stderr.length > 16384) stderr = stderr.slice(-8192);
  });
  let exitedEarly = false;
  void child.exited.then(() => (exitedEarly = true));

  // Until the banner: collect stdout, watch for an early end or the timeout.
  let head = '';
  const banner = await new Promise<'ok' | 'exited' | 'timeout'>((resolve) => {
    const onData = (b: Buffer) => {
      head += b.toString('latin1');
      if (BANNER.test(head)) {
        child.stdout?.off('data', onData);
        resolve('ok');
      }
    };
    child.stdout?.on('data', onData);
    void child.exited.then(() => resolve('exited'));
    if (opts.timeoutMs && opts.timeoutMs > 0) setTimeout(() => resolve('timeout'), opts.timeoutMs).unref();
  });
  if (banner !== 'ok') {
    const err = child.spawnError();
    const st0 = banner === 'exited' ? await child.exited : null;
    if ((err && (err as NodeJS.ErrnoException).code === 'ENOENT') || (st0?.code === 127 && /failed to run command .ipmitool/.test(stderr)))
      throw new IpmitoolMissingError('ipmitool is not installed: apt-get install ipmitool (toolchain/setup.sh installs it)');
    if (child.pid !== undefined && !exitedEarly) await killGroup(child.pid, child.exited, { graceMs: 500 });
    if (banner === 'timeout') throw new ConnectError(`${where}: no serial-over-LAN session within ${opts.timeoutMs} ms${meaningfulLines(stderr).length ? `: ${meaningfulLines(stderr).join('; ')}` : ''}`);
    const st = await child.exited;
    throw await activationFailure(t, stderr, st.code, opts);
  }

  // What came after the banner is the line's first bytes.
  const rest = Buffer.from(head.replace(/^[\s\S]*?\[SOL Session operational[^\n]*\n/, ''), 'latin1');
  let closing = false;
  const line = new Duplex({
    read() {
      child.stdout?.resume();
    },
    write(chunk: Buffer, _enc, cb) {
      if (child.stdin?.writable) child.stdin.write(chunk, (e) => cb(e ?? null));
      else cb();
    },
  });
  if (rest.length) line.push(rest);
  child.stdout?.on('data', (b: Buffer) => {
    if (!line.push(b)) child.stdout?.pause();
  });
  void child.exited.then(() => {
    if (!closing) {
      const said = meaningfulLines(stderr).filter((l) => !/SOL Session/i.test(l));
      if (said.length) notice(`${where}: ${said.slice(-2).join('; ')}`);
    }
    line.push(null);
  });
  line.on('error', () => {});

  const deactivate = async () => {
    closing = true;
    child.stdin?.end();
    let gone = false;
    await Promise.race([child.exited.then(() => (gone = true)), new Promise((r) => setTimeout(r, CLOSE_GRACE_MS).unref())]);
    if (gone || child.pid === undefined) return;
    await killGroup(child.pid, child.exited, { graceMs: 500 });
    const r = await runIpmitool(t, ['sol', 'deactivate'], { limitMs: 10_000 }).catch((e: Error) => ({ code: -1, stdout: '', stderr: e.message }));
    if (r.code !== 0 && !/already de-?activated/i.test(r.stderr)) notice(`${where}: sol deactivate failed: ${meaningfulLines(r.stderr).join('; ') || `status ${r.code}`}`);
  };
  return new SolTransport(line, where, deactivate);
}

/** A StreamTransport whose close also waits until the BMC's SOL session is released. */
class SolTransport extends StreamTransport {
  private released: Promise<void> | undefined;

  constructor(stream: Duplex, description: string, deactivate: () => Promise<void>) {
    super(stream, description, () => {
      this.released ??= deactivate();
    });
  }

  /** Resolves once ipmitool has ended the session (after close or the far end's hangup). */
  async settled(): Promise<void> {
    await this.closed;
    await this.released;
  }
}
