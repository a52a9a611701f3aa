// serial:DEVICE[@BAUD]: a local serial port cabled to the lab machine's COM1.
// The line is configured first with `stty -F DEVICE BAUD raw -echo` (the
// monitor does its own echo and line editing; the host's tty layer must pass
// bytes through untouched), then the device is opened read-write.
//
// A terminal device is read through a tty.ReadStream and written with
// fs.write; anything else that can be opened read-write (a FIFO in the
// tests, which loops writes back like a loopback plug) goes through a
// pipe socket.

import { constants, existsSync, openSync, closeSync, write as fsWrite } from 'node:fs';
import { Socket } from 'node:net';
import { isatty, ReadStream } from 'node:tty';
import { Duplex } from 'node:stream';
import { realSpawner, type Spawner } from '../../qemu/process.js';
import { ConnectError } from '../errors.js';
import { formatSpec, type ConnectSpec } from '../spec.js';
import { StreamTransport, type ConnectOptions, type Transport } from '../transport.js';

type SerialSpec = Extract<ConnectSpec, { kind: 'serial' }>;

/** The stty arguments that put DEVICE into raw mode at BAUD. */
export function sttyArgs(s: SerialSpec): string[] {
  return ['-F', s.device, String(s.baud), 'raw', '-echo'];
}

/** Runs stty on the device; throws ConnectError with stty's own words when it fails. */
export async function configureLine(s: SerialSpec, spawner: Spawner = realSpawner): Promise<void> {
  const child = spawner('stty', sttyArgs(s), { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr?.on('data', (b: Buffer) => (err += b.toString()));
  const st = await child.exited;
  const spawnErr = child.spawnError();
  if (spawnErr)
    throw new ConnectError(`cannot configure ${s.device}: stty did not run (${spawnErr.message}); install coreutils`);
  if (st.code !== 0)
    throw new ConnectError(
      `cannot configure ${s.device}: stty ${sttyArgs(s).join(' ')} failed: ${err.trim() || `status ${st.code ?? st.signal}`} (is it a serial port, and may you use it? try the dialout group)`,
    );
}

/** A duplex over a terminal fd: reads from a tty.ReadStream, writes with fs.write. */
function ttyDuplex(fd: number): Duplex {
  const rs = new ReadStream(fd);
  const d = new Duplex({
    read() {
      rs.resume();
    },
    write(chunk: Buffer, _enc, cb) {
      fsWrite(fd, chunk, (e) => cb(e ?? null));
    },
    destroy(e, cb) {
      rs.destroy();
      cb(e);
    },
  });
  rs.on('data', (b: Buffer) => {
    if (!d.push(b)) rs.pause();
  });
  rs.on('end', () => d.push(null));
  rs.on('error', (e) => d.destroy(e));
  return d;
}

export async function openSerial(s: SerialSpec, opts: ConnectOptions = {}): Promise<Transport> {
  if (!existsSync(s.device))
    throw new ConnectError(
      `no serial device ${s.device}: check the name (ls /dev/ttyS* /dev/ttyUSB* /dev/ttyACM*) and that the adapter is plugged in`,
    );
  await configureLine(s, opts.spawner);
  let fd: number;
  try {
    fd = openSync(s.device, constants.O_RDWR | constants.O_NOCTTY);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConnectError(
      `cannot open ${s.device}: ${code === 'EACCES' ? 'permission denied (add yourself to the dialout group)' : code === 'EBUSY' ? 'busy (another program has it open)' : (e as Error).message}`,
    );
  }
  let stream: Duplex;
  try {
    stream = isatty(fd) ? ttyDuplex(fd) : new Socket({ fd, readable: true, writable: true });
  } catch (e) {
    closeSync(fd);
    throw new ConnectError(`cannot use ${s.device}: ${(e as Error).message}`);
  }
  // The socket or the tty stream owns the fd from here on and closes it.
  return new StreamTransport(stream, formatSpec(s));
}
