// An emulated machine's serial line (qemu/emulator.ts Serial) as a
// Transport, in-process: for the boot tests and for tools that own the
// Machine. It closes with the machine, or when close() is called (after
// which bytes from the line are no longer delivered).

import type { Serial } from '../../qemu/emulator.js';
import type { CloseInfo, Transport } from '../transport.js';

export function machineTransport(serial: Serial, exited?: Promise<unknown>, description = 'machine serial line'): Transport {
  let open = true;
  let settle!: (c: CloseInfo) => void;
  const closed = new Promise<CloseInfo>((r) => (settle = r));
  const subscribers: ((b: Buffer) => void)[] = [];
  serial.onData((b) => {
    if (open) for (const cb of subscribers) cb(b);
  });
  const finish = (c: CloseInfo) => {
    if (!open) return;
    open = false;
    settle(c);
  };
  void exited?.then(() => finish({ by: 'remote' }));
  return {
    description,
    write: (b) => {
      if (open) serial.write(b);
    },
    onData: (cb) => void subscribers.push(cb),
    close: () => finish({ by: 'local' }),
    closed,
  };
}
