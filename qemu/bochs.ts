// Bochs back end: the one that emulates VT-x (Haswell model, with EPT and
// VPID), so the monitor's VMX paths run here when the host has no nested
// VMX. Slow (~130 M instructions/s), exactly repeatable with sync=none.
//
// Bochs cannot load an ELF: it boots the GRUB ISO from an ATAPI CD-ROM, or
// a netboot tree through an e1000 whose option ROM is QEMU's iPXE and its
// built-in slirp network (DHCP and a TFTP server rooted at the tree). Its
// COM1 (or the monitor's cg.serial= UART) is a TCP server on localhost; Bochs waits for our client before the
// machine starts, and that socket is the serial line in both directions.

import { existsSync, rmSync, openSync, closeSync, readFileSync, writeFileSync, mkdtempSync, createReadStream, constants as fsConstants, type ReadStream } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  SerialChannel,
  tailLines,
  type Availability,
  type BootDeps,
  type BootOptions,
  type Emulator,
  type Machine,
} from './emulator.js';
import { BootError, UnsupportedImageError } from './errors.js';
import { ProcessMachine } from './machine.js';
import { realClock, realSpawner, sleep, type Clock, type ExitStatus } from './process.js';
import { findOnPath } from './which.js';

export const BOCHS_BIOS = '/usr/share/bochs/BIOS-bochs-latest';
export const BOCHS_VGABIOS = '/usr/share/vgabios/vgabios.bin';
export const BOCHS_PACKAGES = 'bochs bochsbios vgabios bochs-term';

/** iPXE's e1000 option ROM (Debian's ipxe-qemu): Bochs' e1000 gets it as bootrom= for a network boot. */
export const BOCHS_PXE_ROM = '/usr/lib/ipxe/qemu/pxe-e1000.rom';

/** A network boot: Bochs' e1000 on its slirp network, the TFTP root and the script file slirpConf wrote. */
export interface BochsNet {
  mac: string;
  tftpRoot: string;
  slirpConf: string;
  bootrom: string;
}

export interface BochsrcParams {
  /** The ISO to boot, or `net` for a network boot. */
  iso?: string;
  net?: BochsNet;
  cpus: number;
  memMiB: number;
  /** TCP port of the serial line's socket server on localhost. */
  serialPort: number;
  /** Which UART (1-4) that socket is: the monitor's cg.serial= port (default 1, COM1). */
  serialUnit?: number;
  /** Path of Bochs' own log file. */
  logPath: string;
  /** Emulated instructions per second (the TSC rate); Bochs' default when absent. */
  ips?: number;
  /** An e1000 on slirp for the monitor's own driver (BootOptions.uplink), with the script slirpConf wrote. */
  uplink?: { mac: string; tftpRoot: string; slirpConf: string };
}

function serialUnit(u = 1): number {
  if (!Number.isInteger(u) || u < 1 || u > 4) throw new BootError(`serial unit ${u} is not 1-4 (COM1-COM4)`);
  return u;
}

/** A path inside a bochsrc option list: Bochs splits at ',' and blanks, and reads no quoting there. */
function rcPath(what: string, p: string): string {
  if (!/^[A-Za-z0-9_./+@:=-]+$/.test(p)) throw new BootError(`${what} ${p} has characters a bochsrc option cannot hold; use a path of [A-Za-z0-9_./+@:=-] (set TMPDIR if it is a temp dir)`);
  return p;
}

/**
 * Bochs' slirp script (pure): its DHCP hands out `bootfile`, and only its
 * own services answer (restricted: nothing from the guest reaches the host's
 * network). Bochs reads a script only when its first line is this comment.
 */
export function slirpConf(bootfile: string): string {
  if (!/^[A-Za-z0-9_./-]+$/.test(bootfile)) throw new BootError(`boot file ${bootfile} is not a plain path`);
  return ['# slirp config', 'restricted = 1', `bootfile = ${bootfile}`, ''].join('\n');
}

function checkMac(mac: string): void {
  if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(mac)) throw new BootError(`MAC ${mac} is not lowercase with colons`);
}

/**
 * Bochs' slirp script for an uplink NIC (pure): restricted, so only slirp's
 * own DHCP and TFTP answer and nothing reaches the host's networks.
 */
export function uplinkSlirpConf(): string {
  return ['# slirp config', 'restricted = 1', ''].join('\n');
}

/** The machine's boot device lines (pure): the ISO on ATAPI, or the e1000 network boot. */
function bootLines(p: BochsrcParams): string[] {
  if (p.net) {
    const n = p.net;
    if (p.uplink) throw new BootError('bochsrc: a network boot has its own e1000; an uplink NIC goes with an ISO boot');
    checkMac(n.mac);
    return [
      `pci: enabled=1, chipset=i440fx, slot1=e1000`,
      `e1000: enabled=1, mac=${n.mac}, ethmod=slirp, ethdev=${rcPath('the TFTP root', n.tftpRoot)}, script=${rcPath('the slirp script', n.slirpConf)}, bootrom=${rcPath('the option ROM', n.bootrom)}`,
      `boot: network`,
    ];
  }
  if (p.iso === undefined) throw new BootError('bochsrc: neither an ISO nor a network boot');
  const nic = p.uplink ? uplinkLines(p.uplink) : [];
  return [
    ...nic,
    `ata0: enabled=1, ioaddr1=0x1f0, ioaddr2=0x3f0, irq=14`,
    `ata0-master: type=cdrom, path="${p.iso}", status=inserted`,
    `boot: cdrom`,
  ];
}

/** An uplink e1000 (no option ROM: the machine boots from the CD) on slirp. */
function uplinkLines(u: NonNullable<BochsrcParams['uplink']>): string[] {
  checkMac(u.mac);
  return [
    `pci: enabled=1, chipset=i440fx, slot1=e1000`,
    `e1000: enabled=1, mac=${u.mac}, ethmod=slirp, ethdev=${rcPath('the TFTP root', u.tftpRoot)}, script=${rcPath('the slirp script', u.slirpConf)}`,
  ];
}

/** The bochsrc text for one run (pure). */
export function bochsrc(p: BochsrcParams): string {
  return [
    `# generated by crossguard; one run only`,
    `megs: ${p.memMiB}`,
    // reset_on_triple_fault=0: a triple fault panics (fatal) instead of rebooting forever.
    `cpu: model=corei7_haswell_4770, count=${p.cpus}, reset_on_triple_fault=0${p.ips ? `, ips=${p.ips}` : ''}`,
    `romimage: file=${BOCHS_BIOS}`,
    `vgaromimage: file=${BOCHS_VGABIOS}`,
    ...bootLines(p),
    `com${serialUnit(p.serialUnit)}: enabled=1, mode=socket-server, dev=localhost:${p.serialPort}`,
    `port_e9_hack: enabled=1`,
    `clock: sync=none, time0=local`,
    `log: ${p.logPath}`,
    `display_library: term`,
    `plugin_ctrl: speaker=false, sb16=false, es1370=false, gameport=false, parallel=false`,
    `panic: action=fatal`,
    `error: action=report`,
    `info: action=report`,
    `debug: action=ignore`,
    ``,
  ].join('\n');
}

/** The pty Bochs' term display draws on, from its stderr (`Bochs connected to screen "/dev/pts/N"`), or null. */
export function bochsScreenTty(stderr: string): string | null {
  return /connected to screen "(\/dev\/pts\/\d+)"/.exec(stderr)?.[1] ?? null;
}

/** Log lines worth showing when a Bochs run fails (the last `n` of them). */
export function bochsLogDiagnostics(log: string, n = 20): string {
  const interesting = /VMFAIL|VMENTER FAIL|VMEXIT FAIL|VMRUN|PANIC|ERROR|\d+[ep]\[|triple fault|3rd .* exception/i;
  const lines = log.split('\n').filter((l) => interesting.test(l));
  return lines.slice(-n).join('\n');
}

/** Asks the OS for a free TCP port on 127.0.0.1 (racy but adequate for a test box). */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

/** Connects to 127.0.0.1:port, retrying until it accepts, `giveUp` resolves, or the deadline. */
async function connectWithRetry(
  port: number,
  clock: Clock,
  deadlineMs: number,
  gaveUp: () => boolean,
): Promise<Socket | null> {
  const end = clock.now() + deadlineMs;
  while (clock.now() < end && !gaveUp()) {
    const sock = await new Promise<Socket | null>((res) => {
      const s = connect({ port, host: '127.0.0.1' });
      s.once('connect', () => {
        s.removeAllListeners('error');
        res(s);
      });
      s.once('error', () => {
        s.destroy();
        res(null);
      });
    });
    if (sock) return sock;
    await sleep(clock, 50);
  }
  return null;
}

export class BochsEmulator implements Emulator {
  readonly kind = 'bochs' as const;

  constructor(private readonly binary = 'bochs') {}

  describe(): string {
    return 'Bochs (emulated VT-x, Haswell model; slow)';
  }

  async available(): Promise<Availability> {
    if (!findOnPath(this.binary))
      return { ok: false, reason: `bochs not found on PATH; install it: apt-get install ${BOCHS_PACKAGES}` };
    if (!existsSync(BOCHS_BIOS))
      return { ok: false, reason: `${BOCHS_BIOS} missing; install it: apt-get install ${BOCHS_PACKAGES}` };
    return { ok: true };
  }

  async boot(opts: BootOptions, deps: BootDeps = {}): Promise<Machine> {
    const img = opts.image;
    if (img.kind === 'net' && !img.user)
      throw new UnsupportedImageError("Bochs boots from the network through its own slirp DHCP/TFTP, not a tap device; use --net user (or --emulator qemu for a lab namespace)");
    if (img.kind === 'net' && !existsSync(BOCHS_PXE_ROM))
      throw new UnsupportedImageError(`${BOCHS_PXE_ROM} (iPXE's e1000 option ROM) is missing; apt-get install ipxe-qemu`);
    if (img.kind === 'elf')
      throw new UnsupportedImageError(
        'Bochs cannot load an ELF directly; boot the GRUB ISO instead (--boot iso, or crossguard image to build one)',
      );
    if (opts.firmware === 'uefi')
      throw new UnsupportedImageError('Bochs has no UEFI firmware; use --emulator qemu for a UEFI boot');
    const spawner = deps.spawner ?? realSpawner;
    const clock = deps.clock ?? realClock;
    const dir = mkdtempSync(join(tmpdir(), 'crossguard-bochs-'));
    const logPath = join(dir, 'bochs.log');
    const port = await freePort();
    let boot: Pick<BochsrcParams, 'iso' | 'net'>;
    try {
      if (img.kind === 'net') {
        const slirp = join(dir, 'slirp.conf');
        writeFileSync(slirp, slirpConf(img.user!.bootfile));
        boot = { net: { mac: img.mac, tftpRoot: resolve(img.user!.tftpRoot), slirpConf: slirp, bootrom: BOCHS_PXE_ROM } };
      } else boot = { iso: resolve(img.path) };
      let uplink: BochsrcParams['uplink'];
      if (opts.uplink) {
        if (opts.uplink.udp || (opts.uplink.model ?? 'e1000') !== 'e1000')
          throw new BootError('Bochs has one uplink NIC: an e1000 on its slirp network (a UDP wire or an e1000e is QEMU only)');
        const conf = join(dir, 'uplink-slirp.conf');
        writeFileSync(conf, uplinkSlirpConf());
        uplink = { mac: opts.uplink.mac, tftpRoot: resolve(opts.uplink.tftpRoot), slirpConf: conf };
      }
      writeFileSync(
        join(dir, 'bochsrc'),
        bochsrc({
          ...boot,
          cpus: opts.cpus,
          memMiB: opts.memMiB,
          serialPort: port,
          ...(opts.serialUnit ? { serialUnit: opts.serialUnit } : {}),
          logPath,
          ...(opts.ips ? { ips: opts.ips } : {}),
          ...(uplink ? { uplink } : {}),
        }),
      );
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
    writeFileSync(join(dir, 'cmds'), 'c\n');
    const out = openSync(join(dir, 'stdout.txt'), 'w');
    const err = openSync(join(dir, 'stderr.txt'), 'w');
    const child = spawner(this.binary, ['-q', '-f', 'bochsrc', '-rc', 'cmds'], {
      cwd: dir,
      stdio: ['ignore', out, err],
      env: { ...process.env, TERM: process.env.TERM || 'xterm' },
    });
    closeSync(out);
    closeSync(err);

    const readTail = (name: string) => {
      try {
        return readFileSync(join(dir, name), 'utf8');
      } catch {
        return '';
      }
    };
    const diagnostics = () => {
      const parts = [bochsLogDiagnostics(readTail('bochs.log'))];
      const stderr = tailLines(readTail('stderr.txt'), 10);
      if (stderr.trim()) parts.push(stderr);
      return parts.filter((p) => p.trim()).join('\n') || '(bochs.log has no error lines)';
    };

    let procDone = false;
    const procExited = child.exited.then((s) => {
      procDone = true;
      return s;
    });
    if (child.pid === undefined) {
      await procExited;
      throw new BootError(`could not start ${this.binary}: ${child.spawnError()?.message ?? 'unknown error'}`);
    }

    let sock: Socket | null = null;
    const serial = new SerialChannel((b) => sock?.write(b), opts.serialLog);
    const machineParts = {
      kind: this.kind,
      pid: child.pid,
      serial,
      tempDir: dir,
      diagnostics,
      clock,
      ...(deps.signal ? { signal: deps.signal } : {}),
      // Bochs ignores SIGTERM: a long grace only delays the SIGKILL.
      graceMs: 500,
      onStop: () => {
        sock?.destroy();
        screen?.destroy();
      },
    };
    let screen: ReadStream | null = null;

    sock = await connectWithRetry(port, clock, 30_000, () => procDone);
    if (!sock) {
      const m = new ProcessMachine({ ...machineParts, exited: procExited });
      const why = procDone ? 'bochs exited before its serial port accepted' : 'no connection to the bochs serial port in 30 s';
      const diag = m.diagnostics();
      await m.stop();
      throw new BootError(`${why}; its log lines are above`, diag);
    }
    // The term display writes its screen into a pty it opened itself and
    // nobody reads: once the pty's 4 KiB input buffer is full, Bochs blocks
    // in write() and the whole machine stops. Read and drop it.
    const tty = bochsScreenTty(readTail('stderr.txt'));
    if (tty) {
      try {
        screen = createReadStream('', { fd: openSync(tty, fsConstants.O_RDONLY | fsConstants.O_NOCTTY) });
        screen.on('data', () => {});
        screen.on('error', () => {});
      } catch {
        screen = null; // not ours to open: long runs may then stall, as before
      }
    }
    const s = sock;
    s.on('data', (b: Buffer) => serial.emit(b));
    s.on('error', () => {});
    const sockClosed = new Promise<void>((r) => s.once('close', () => r()));
    // Exit = process gone and its last serial bytes read (socket closed, at most 1 s later).
    const exited: Promise<ExitStatus> = procExited.then(async (st) => {
      await Promise.race([sockClosed, sleep(clock, 1000)]);
      return st;
    });
    return new ProcessMachine({ ...machineParts, exited });
  }
}
