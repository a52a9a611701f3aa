// The byte pipe to the operator line, whatever carries it. Every transport
// (console/transports/*.ts) is one Transport; the session, the exec command
// and the interactive modes only ever see this interface.

import type { Duplex } from 'node:stream';
import type { Spawner } from '../qemu/process.js';
import { formatSpec, parseSpec, type ConnectSpec } from './spec.js';

/** Why a transport's `closed` promise resolved. */
export interface CloseInfo {
  /** 'local': close() was called; 'remote': the far end or the device went away. */
  by: 'local' | 'remote';
  /** The error that ended it, if any. */
  error?: Error;
}

export interface Transport {
  /** The spec it was opened from, for messages (tcp:127.0.0.1:4555). */
  readonly description: string;
  /** Sends bytes to the monitor. Writes after close are dropped. */
  write(b: Buffer | string): void;
  /** Subscribes to bytes from the monitor. */
  onData(cb: (b: Buffer) => void): void;
  /** Closes the connection; `closed` resolves with by 'local'. Idempotent. */
  close(): void;
  /** Resolves once, when the line is gone for whatever reason (never rejects). */
  readonly closed: Promise<CloseInfo>;
  /** After close: resolves once the far end is let go (ipmi-sol: the BMC's SOL session ended). Absent when there is nothing to wait for. */
  settled?(): Promise<void>;
}

/** What opening a transport may need from outside (all optional; tests inject). */
export interface ConnectOptions {
  /** Give up connecting after this long (ms); 0 = the OS default. */
  timeoutMs?: number;
  /** serial: runs stty; ipmi-sol: runs ipmitool. */
  spawner?: Spawner;
  /** ssh: private key file. */
  identity?: string;
  /** ssh: known_hosts file to verify the host key against (default ~/.ssh/known_hosts). */
  knownHosts?: string;
  /** ssh: accept any host key (its fingerprint is reported through `notice`). */
  insecureHostKey?: boolean;
  /** ipmi-sol: file holding the BMC password (else CG_BMC_PASSWORD or IPMI_PASSWORD from env). */
  passwordFile?: string;
  /** Environment for SSH_AUTH_SOCK, CROSSGUARD_SSH_PASSWORD, CG_BMC_PASSWORD (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** One-line notices for the person (default: stderr). */
  notice?: (line: string) => void;
}

/**
 * A Transport over a Node duplex stream (a socket, a pipe, an SSH channel).
 * `onClose` runs once when the stream ends, after `closed` is settled.
 */
export class StreamTransport implements Transport {
  readonly closed: Promise<CloseInfo>;
  private settle!: (c: CloseInfo) => void;
  private done = false;
  private readonly subscribers: ((b: Buffer) => void)[] = [];

  constructor(
    private readonly stream: Duplex,
    readonly description: string,
    private readonly onClose?: () => void,
  ) {
    this.closed = new Promise((r) => (this.settle = r));
    stream.on('data', (b: Buffer | string) => {
      const buf = typeof b === 'string' ? Buffer.from(b) : b;
      for (const cb of this.subscribers) cb(buf);
    });
    stream.on('error', (e: Error) => this.finish({ by: 'remote', error: e }));
    stream.on('end', () => this.finish({ by: 'remote' }));
    stream.on('close', () => this.finish({ by: 'remote' }));
  }

  write(b: Buffer | string): void {
    if (!this.done && this.stream.writable) this.stream.write(b);
  }

  onData(cb: (b: Buffer) => void): void {
    this.subscribers.push(cb);
  }

  close(): void {
    this.finish({ by: 'local' });
  }

  private finish(c: CloseInfo): void {
    if (this.done) return;
    this.done = true;
    this.settle(c);
    this.stream.destroy();
    this.onClose?.();
  }
}

/** Opens the transport a --connect spec names (string or parsed). Throws ConnectError. */
export async function connect(spec: string | ConnectSpec, opts: ConnectOptions = {}): Promise<Transport> {
  const s = typeof spec === 'string' ? parseSpec(spec) : spec;
  switch (s.kind) {
    case 'tcp':
    case 'unix':
      return (await import('./transports/net.js')).connectNet(s, opts);
    case 'serial':
      return (await import('./transports/serial.js')).openSerial(s, opts);
    case 'ssh':
      return (await import('./transports/ssh.js')).connectSsh(s, opts);
    case 'ipmi-sol':
      return (await import('./transports/ipmi-sol.js')).connectSol(s, opts);
  }
}

export { formatSpec };
