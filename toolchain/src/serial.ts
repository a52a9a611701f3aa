// The monitor's serial port as its command line chooses it
// (`cg.serial=com1|com2|0xPORT[,BAUD]`, firmware/init/cmdline.c): the same
// reading the monitor makes, so the tools put GRUB's console on that port
// and wire the emulator's UART there. A malformed value: the monitor uses
// COM1 at 115200 and says so on COM1, and so do we (pure).

import { UsageError } from '../../qemu/errors.js';

export const COM_PORTS = [0x3f8, 0x2f8, 0x3e8, 0x2e8] as const;
export const SERIAL_BASE_BAUD = 115200;

export interface MonitorSerial {
  /** I/O port of the 16550. */
  port: number;
  baud: number;
  /** 1-4 when the port is a standard COM port (what emulators and GRUB's --unit count), else null. */
  unit: number | null;
  /** The cg.serial= value was malformed (the defaults are used). */
  bad: boolean;
}

/** One cg.serial= value, or null when the monitor would refuse it. */
export function parseSerialValue(v: string): { port: number; baud: number } | null {
  const m = /^(com1|com2|0x[0-9A-Fa-f]{1,4})(?:,(\d{1,6}))?$/.exec(v);
  if (!m) return null;
  const port = m[1] === 'com1' ? COM_PORTS[0] : m[1] === 'com2' ? COM_PORTS[1] : parseInt(m[1]!.slice(2), 16);
  if (port === 0 || port > 0xfff8) return null;
  const baud = m[2] === undefined ? SERIAL_BASE_BAUD : Number(m[2]);
  if (baud < 1 || baud > SERIAL_BASE_BAUD || SERIAL_BASE_BAUD % baud || SERIAL_BASE_BAUD / baud > 0xffff) return null;
  return { port, baud };
}

/** The serial port a monitor with this command line uses (as firmware/init/cmdline.c: last word wins, any bad word keeps the default). */
export function monitorSerial(cmdline = ''): MonitorSerial {
  let port: number = COM_PORTS[0];
  let baud = SERIAL_BASE_BAUD;
  let bad = false;
  for (const w of cmdline.split(/[ \t]+/)) {
    if (!w.startsWith('cg.serial=')) continue;
    const v = bad ? null : parseSerialValue(w.slice('cg.serial='.length));
    if (v) ({ port, baud } = v);
    else {
      bad = true;
      port = COM_PORTS[0];
      baud = SERIAL_BASE_BAUD;
    }
  }
  const i = (COM_PORTS as readonly number[]).indexOf(port);
  return { port, baud, unit: i < 0 ? null : i + 1, bad };
}

/** Refuses a command line whose cg.serial= the monitor would not take (image and run check before they build anything). */
export function checkSerialCmdline(cmdline: string | undefined, what: string): MonitorSerial {
  const s = monitorSerial(cmdline);
  if (s.bad)
    throw new UsageError(`${what}: cg.serial= takes com1, com2 or 0xPORT[,BAUD] with BAUD dividing 115200 (e.g. cg.serial=com2,57600)`);
  return s;
}

/** GRUB's `serial` command for the monitor's port: GRUB's console and the monitor's on one line. */
export function grubSerialLine(cmdline = ''): string {
  const s = monitorSerial(cmdline);
  const where = s.unit !== null ? `--unit=${s.unit - 1}` : `--port=0x${s.port.toString(16)}`;
  return `serial ${where} --speed=${s.baud}`;
}

/**
 * The command line with `--serial VALUE` folded in as cg.serial=VALUE
 * (image --serial); UsageError when the value is bad or the command line
 * already chooses another port.
 */
export function withSerial(cmdline: string | undefined, serial: string | undefined): string | undefined {
  if (serial === undefined) return cmdline;
  if (!parseSerialValue(serial))
    throw new UsageError(`--serial ${serial}: give com1, com2 or 0xPORT[,BAUD] with BAUD dividing 115200 (e.g. --serial com2)`);
  const words = (cmdline ?? '').split(/\s+/).filter(Boolean);
  const other = words.find((w) => w.startsWith('cg.serial=') && w !== `cg.serial=${serial}`);
  if (other) throw new UsageError(`--serial ${serial} and --cmdline's ${other} disagree; give the port once`);
  return words.includes(`cg.serial=${serial}`) ? words.join(' ') : [...words, `cg.serial=${serial}`].join(' ');
}

/** Which of the emulator's UARTs (1-4) the Machine's serial line must be for this monitor; UsageError when it has none there. */
export function emulatorSerialUnit(cmdline: string | undefined): number {
  const s = monitorSerial(cmdline);
  if (s.unit === null)
    throw new UsageError(
      `cg.serial=0x${s.port.toString(16)}: the emulators have UARTs at 0x3f8, 0x2f8, 0x3e8 and 0x2e8 only; use com1 or com2 (or one of those ports) here`,
    );
  return s.unit;
}
