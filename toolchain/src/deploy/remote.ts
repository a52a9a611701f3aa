// The PXE server as deploy sees it: one SSH connection with an SFTP session
// (and exec channels when the server allows them), every path relative to
// the target directory. Each SFTP failure becomes one named error: no
// permission → DeployAccessError, a broken connection →
// DeployConnectionLostError, anything else → DeployServerError, each naming
// the step and the path.

import { closeSync, openSync, readSync } from 'node:fs';
import { posix } from 'node:path';
import type { Client, SFTPWrapper, Stats } from 'ssh2';
import { openSshClient, type SshClientOptions } from '../../../console/transports/ssh-client.js';
import { DeployAccessError, DeployConnectError, DeployConnectionLostError, DeployServerError } from './errors.js';
import { formatTarget, type DeployTarget } from './target.js';

/** SFTP status codes (draft-ietf-secsh-filexfer-02 section 7). */
const FX_NO_SUCH_FILE = 2;
const FX_PERMISSION_DENIED = 3;

/** Bytes per SFTP write and how many are in flight at once (OpenSSH's sftp client uses 32 KiB × 64). */
const WRITE_CHUNK = 32 * 1024;
const WRITE_WINDOW = 16;

export interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export class Remote {
  /** Set when the connection closed or failed: every later failure is a lost connection. */
  private lost: string | undefined;

  private constructor(
    readonly client: Client,
    readonly sftp: SFTPWrapper,
    readonly target: DeployTarget,
  ) {
    client.on('close', () => (this.lost ??= 'the server closed the connection'));
    client.on('error', (e: Error) => (this.lost ??= e.message));
  }

  /** Connects (host key checked, ssh-client.ts) and opens SFTP. */
  static async open(target: DeployTarget, opts: SshClientOptions): Promise<Remote> {
    const where = formatTarget(target);
    const client = await openSshClient(target, opts, { where, server: 'the PXE server', error: (m) => new DeployConnectError(m) });
    const sftp = await new Promise<SFTPWrapper>((res, rej) =>
      client.sftp((err, s) => (err ? rej(new DeployConnectError(`${where}: the server has no SFTP subsystem (${err.message}); enable "Subsystem sftp" in its sshd_config`)) : res(s))),
    ).catch((e) => {
      client.end();
      throw e;
    });
    return new Remote(client, sftp, target);
  }

  get where(): string {
    return formatTarget(this.target);
  }

  /** Absolute server path of a path relative to the target. */
  abs(rel: string): string {
    return rel === '' || rel === '.' ? this.target.path : posix.join(this.target.path, rel);
  }

  /** Extensions the server's SFTP announced (hardlink@openssh.com, fsync@openssh.com, …). */
  has(ext: string): boolean {
    return Object.prototype.hasOwnProperty.call((this.sftp as unknown as { _extensions: object })._extensions ?? {}, ext);
  }

  /** The named error for an SFTP failure of `step` on `rel`. */
  fail(step: string, rel: string, e: unknown): Error {
    const code = (e as { code?: unknown }).code;
    const msg = (e as Error).message ?? String(e);
    if (this.lost !== undefined || /No response from server|Not connected|channel|closed/i.test(msg))
      return new DeployConnectionLostError(
        `${this.where}: the connection was lost while ${step} ${rel || '.'} (${this.lost ?? msg}); the live release was not touched — run the same deploy again, it keeps what was uploaded`,
      );
    if (code === FX_PERMISSION_DENIED)
      return new DeployAccessError(`${this.where}: no write access (${step} ${this.abs(rel)}: permission denied); give a path user ${this.target.user} can write, or fix its owner or mode on the server (nothing was changed there)`);
    return new DeployServerError(`${this.where}: ${step} ${this.abs(rel)} failed: ${msg}`);
  }

  private call<T>(step: string, rel: string, f: (cb: (err: Error | null | undefined, v?: T) => void) => void): Promise<T> {
    return new Promise<T>((res, rej) => {
      if (this.lost !== undefined) return rej(this.fail(step, rel, new Error(this.lost)));
      f((err, v) => (err ? rej(this.fail(step, rel, err)) : res(v as T)));
    });
  }

  /** stat (follows links), null when missing. */
  async stat(rel: string): Promise<Stats | null> {
    return this.missingAsNull('stat', rel, (cb) => this.sftp.stat(this.abs(rel), cb));
  }

  /** lstat, null when missing. */
  async lstat(rel: string): Promise<Stats | null> {
    return this.missingAsNull('lstat', rel, (cb) => this.sftp.lstat(this.abs(rel), cb));
  }

  private missingAsNull<T>(step: string, rel: string, f: (cb: (err: Error | null | undefined, v?: T) => void) => void): Promise<T | null> {
    return new Promise<T | null>((res, rej) => {
      if (this.lost !== undefined) return rej(this.fail(step, rel, new Error(this.lost)));
      f((err, v) => {
        if (!err) return res(v as T);
        if ((err as { code?: unknown }).code === FX_NO_SUCH_FILE) return res(null);
        rej(this.fail(step, rel, err));
      });
    });
  }

  /** The target of symlink `rel`, null when it does not exist. */
  readlink(rel: string): Promise<string | null> {
    return this.missingAsNull('reading the link', rel, (cb) => this.sftp.readlink(this.abs(rel), cb));
  }

  /** Entry names of directory `rel`, [] when missing. */
  async readdir(rel: string): Promise<{ name: string; dir: boolean }[]> {
    const list = await this.missingAsNull('listing', rel, (cb: (err: Error | null | undefined, v?: { filename: string; attrs: Stats }[]) => void) =>
      this.sftp.readdir(this.abs(rel), cb),
    );
    return (list ?? []).map((e) => ({ name: e.filename, dir: e.attrs.isDirectory() }));
  }

  /** The text of file `rel`, null when missing. */
  async readText(rel: string, maxBytes = 64 << 20): Promise<string | null> {
    const st = await this.stat(rel);
    if (!st) return null;
    if (st.size > maxBytes) throw new DeployServerError(`${this.where}: ${this.abs(rel)} is ${st.size} bytes, more than the ${maxBytes} expected`);
    const buf = await this.call<Buffer>('reading', rel, (cb) => this.sftp.readFile(this.abs(rel), cb));
    return buf.toString('utf8');
  }

  /** mkdir -p. */
  async mkdirp(rel: string): Promise<void> {
    const st = await this.stat(rel);
    if (st?.isDirectory()) return;
    if (st) throw new DeployServerError(`${this.where}: ${this.abs(rel)} exists and is not a directory; move it away`);
    const parent = posix.dirname(rel);
    if (parent !== '.' && parent !== rel) await this.mkdirp(parent);
    await this.call<void>('making the directory', rel, (cb) => this.sftp.mkdir(this.abs(rel), { mode: 0o755 }, cb)).catch(async (e) => {
      if ((await this.stat(rel))?.isDirectory()) return; // made meanwhile
      throw e;
    });
  }

  /**
   * Writes `rel` from `source` (a local file path or bytes): the data, fsync
   * (fsync@openssh.com, when offered) and close. Calls `onBytes` as data is
   * acknowledged. The caller renames it into place.
   */
  async writeFile(rel: string, source: { file: string } | { data: Buffer }, onBytes: (n: number) => void = () => {}): Promise<void> {
    const handle = await this.call<Buffer>('creating', rel, (cb) => this.sftp.open(this.abs(rel), 'w', { mode: 0o644 }, cb));
    let fd: number | undefined;
    try {
      if ('file' in source) fd = openSync(source.file, 'r');
      let pos = 0;
      let done = false;
      const next = (): Buffer | null => {
        if (done) return null;
        let chunk: Buffer;
        if (fd !== undefined) {
          const b = Buffer.allocUnsafe(WRITE_CHUNK);
          const n = readSync(fd, b, 0, WRITE_CHUNK, pos);
          chunk = b.subarray(0, n);
        } else chunk = (source as { data: Buffer }).data.subarray(pos, pos + WRITE_CHUNK);
        if (chunk.length === 0) {
          done = true;
          return null;
        }
        return chunk;
      };
      // Up to WRITE_WINDOW writes in flight, each at its own offset.
      await new Promise<void>((res, rej) => {
        let inFlight = 0;
        let failed = false;
        const pump = () => {
          while (!failed && inFlight < WRITE_WINDOW) {
            const chunk = next();
            if (!chunk) break;
            const at = pos;
            pos += chunk.length;
            inFlight++;
            this.sftp.write(handle, chunk, 0, chunk.length, at, (err) => {
              inFlight--;
              if (failed) return;
              if (err) {
                failed = true;
                return rej(this.fail('writing', rel, err));
              }
              onBytes(chunk.length);
              pump();
            });
          }
          if (!failed && inFlight === 0 && done) res();
        };
        if (this.lost !== undefined) return rej(this.fail('writing', rel, new Error(this.lost)));
        pump();
      });
      if (this.has('fsync@openssh.com')) await this.call<void>('fsync of', rel, (cb) => this.sftp.ext_openssh_fsync(handle, cb));
    } finally {
      if (fd !== undefined) closeSync(fd);
      await this.call<void>('closing', rel, (cb) => this.sftp.close(handle, cb)).catch((e) => {
        if (this.lost === undefined) throw e;
      });
    }
  }

  /** Atomic replace (posix-rename@openssh.com); plain rename where it is missing and `to` does not exist. */
  async rename(from: string, to: string): Promise<void> {
    if (this.has('posix-rename@openssh.com')) return this.call<void>('renaming', from, (cb) => this.sftp.ext_openssh_rename(this.abs(from), this.abs(to), cb));
    if (await this.lstat(to))
      throw new DeployServerError(`${this.where}: the SFTP server has no posix-rename@openssh.com, so ${this.abs(to)} cannot be replaced atomically; use an OpenSSH server`);
    return this.call<void>('renaming', from, (cb) => this.sftp.rename(this.abs(from), this.abs(to), cb));
  }

  /** Symlink `link` → `target` (target stored as given, relative). */
  symlink(target: string, link: string): Promise<void> {
    return this.call<void>('making the link', link, (cb) => this.sftp.symlink(target, this.abs(link), cb));
  }

  /** Server-side hard link (hardlink@openssh.com); false when the server does not offer it. */
  async hardlink(from: string, to: string): Promise<boolean> {
    if (!this.has('hardlink@openssh.com')) return false;
    await this.call<void>('linking', to, (cb) => this.sftp.ext_openssh_hardlink(this.abs(from), this.abs(to), cb));
    return true;
  }

  /**
   * Copies `from` to `to` on the server where it cannot link: read back in
   * pieces and written (fsync'd) as writeFile does, never whole in memory
   * (disk images are large).
   */
  async copy(from: string, to: string, onBytes: (n: number) => void = () => {}): Promise<void> {
    const src = await this.call<Buffer>('opening', from, (cb) => this.sftp.open(this.abs(from), 'r', cb));
    const dst = await this.call<Buffer>('creating', to, (cb) => this.sftp.open(this.abs(to), 'w', { mode: 0o644 }, cb));
    try {
      const buf = Buffer.allocUnsafe(WRITE_CHUNK);
      for (let pos = 0; ; ) {
        const n = await this.call<number>('reading', from, (cb) => this.sftp.read(src, buf, 0, WRITE_CHUNK, pos, (err, got) => cb(err, got)));
        if (!n) break;
        await this.call<void>('writing', to, (cb) => this.sftp.write(dst, buf, 0, n, pos, cb));
        pos += n;
        onBytes(n);
      }
      if (this.has('fsync@openssh.com')) await this.call<void>('fsync of', to, (cb) => this.sftp.ext_openssh_fsync(dst, cb));
    } finally {
      for (const [h, rel] of [[src, from], [dst, to]] as const)
        await this.call<void>('closing', rel, (cb) => this.sftp.close(h, cb)).catch((e) => {
          if (this.lost === undefined) throw e;
        });
    }
  }

  /** unlink, ignoring a missing file. */
  async unlink(rel: string): Promise<void> {
    await this.missingAsNull('removing', rel, (cb) => this.sftp.unlink(this.abs(rel), cb));
  }

  /** rm -r of directory `rel` (never follows links). */
  async removeTree(rel: string): Promise<void> {
    const st = await this.lstat(rel);
    if (!st) return;
    if (!st.isDirectory()) return this.unlink(rel);
    for (const e of await this.readdir(rel)) {
      if (e.name === '.' || e.name === '..') continue;
      const p = posix.join(rel, e.name);
      if (e.dir) await this.removeTree(p);
      else await this.unlink(p);
    }
    await this.call<void>('removing', rel, (cb) => this.sftp.rmdir(this.abs(rel), cb));
  }

  /** Runs `command` over an exec channel with stdin closed; null when the server refuses exec channels. */
  exec(command: string, timeoutMs = 60_000): Promise<ExecResult | null> {
    return new Promise((res, rej) => {
      if (this.lost !== undefined) return rej(this.fail('running', command, new Error(this.lost)));
      this.client.exec(command, (err, ch) => {
        if (err) return res(null);
        let stdout = '';
        let stderr = '';
        const timer = setTimeout(() => {
          ch.close();
          res(null);
        }, timeoutMs);
        ch.on('data', (b: Buffer) => (stdout += b.toString('latin1')));
        ch.stderr.on('data', (b: Buffer) => (stderr += b.toString('latin1')));
        ch.on('close', (code: number | null) => {
          clearTimeout(timer);
          if (this.lost !== undefined) return rej(this.fail('running', command, new Error(this.lost)));
          res({ code: typeof code === 'number' ? code : null, stdout, stderr });
        });
        ch.end();
      });
    });
  }

  close(): void {
    this.client.end();
  }
}
