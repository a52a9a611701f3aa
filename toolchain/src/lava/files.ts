// The files of a LAVA job for a VM set, written to one directory: the job
// definition, and for an emulated board its device file and board file (and
// the payloads the deploy fetches, or the Bochs board's monitor image). Both
// `crossguard lava job|device` and `crossguard lab run` write through here.

import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { makeIso, runCaptured } from '../image.js';
import { writeVmsCfg } from '../vmcfg.js';
import type { VmSet } from '../vms.js';
import type { BoardFile } from './board.js';
import { renderDevice, type BoardEmulator } from './device.js';
import { BoardError, LavaInputError } from './errors.js';
import { checkLavaName, renderJob, type LavaBoot } from './job.js';
import { writePayload } from './payload.js';
import { deviceDictionary, deviceTypeTemplate } from './template.js';

/** LAVA's TFTP directory (Debian's tftpd-hpa default, which LAVA reads from /etc/default/tftpd-hpa). */
export const TFTP_ROOT = '/srv/tftp';
/** The address QEMU's user network gives its own TFTP server: the dispatcher as the QEMU board sees it. */
export const QEMU_USER_SERVER_IP = '10.0.2.2';
/**
 * The QEMU grub board's GRUB netboot directory, under the TFTP root (its
 * prefix names this path). Named for its grub.cfg: an older directory
 * without one (GRUB on SeaBIOS's serial console) is left alone.
 */
export const GRUB_NETDIR = 'crossguard-grub-serial';
const GRUB_CORE = `${GRUB_NETDIR}/boot/grub/i386-pc/core.0`;

/**
 * The board's grub.cfg: GRUB reads and writes the UART itself, and the board
 * has no SeaBIOS serial console (boardArgv). GRUB on the BIOS console, which
 * SeaBIOS's serial console carried over the line, lost bytes both ways: that
 * console sends the screen lazily (a character waits for the next or for a
 * timer tick; seen: GRUB's first `grub>` never reached the line, once in
 * four runs on a loaded host), and it keeps 16 bytes of typed input while
 * GRUB is not reading and drops the rest (so LAVA had to type a character
 * at a time, 55 ms apiece with pexpect's own delay: 5 s a command). On the
 * UART alone QEMU holds typed input back until GRUB reads it: LAVA types
 * whole lines. No menu entries: GRUB stops at `grub>`, where LAVA types the
 * boot commands.
 */
export const GRUB_BOARD_CFG = [
  '# crossguard lava board (QEMU grub board): GRUB on the serial line itself, no menu',
  'serial --unit=0 --speed=115200',
  'terminal_input serial',
  'terminal_output serial',
  '',
].join('\n');

/**
 * Installs GRUB's BIOS netboot image and the board's grub.cfg in LAVA's
 * TFTP directory once, as a lab installs a board's boot loader:
 * grub-mknetdir into a scratch directory beside it, renamed into place whole.
 */
async function ensureGrubNetdir(): Promise<void> {
  if (existsSync(join(TFTP_ROOT, GRUB_CORE))) return;
  const tmp = mkdtempSync(join(TFTP_ROOT, '.crossguard-grub-'));
  try {
    const r = await runCaptured('grub-mknetdir', [`--net-directory=${tmp}`, `--subdir=${GRUB_NETDIR}/boot/grub`, '-d', '/usr/lib/grub/i386-pc', '--locales=', '--themes=', '--fonts=']);
    if (r.code !== 0) throw new BoardError(`grub-mknetdir into ${TFTP_ROOT} failed (install grub-pc-bin and tftpd-hpa); its output is above`, r.output);
    writeFileSync(join(tmp, GRUB_NETDIR, 'boot', 'grub', 'grub.cfg'), GRUB_BOARD_CFG);
    if (!existsSync(join(TFTP_ROOT, GRUB_CORE))) renameSync(join(tmp, GRUB_NETDIR), join(TFTP_ROOT, GRUB_NETDIR));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export interface JobFilesInput {
  set: VmSet;
  boot: LavaBoot;
  deviceType?: string;
  jobName?: string;
  timeoutS: number;
  bootTimeoutS: number;
  cmdline: string;
  elf: string;
  /** The job file to write. */
  out: string;
  /** Where the deploy's payloads go (default: beside the job, <job>.files). */
  filesDir?: string;
  /** Where the lab fetches them from (default: file:// URLs of filesDir). */
  urlBase?: string;
}

export const defaultDeviceType = (boot: LavaBoot) => (boot === 'minimal' ? 'crossguard-bochs' : 'crossguard-qemu');

const writeJson = (path: string, v: unknown) => {
  mkdirSync(dirname(resolve(path)), { recursive: true });
  writeFileSync(path, `${JSON.stringify(v, null, 2)}\n`);
};

/** Writes the job (and the payloads its deploy fetches); returns the job object. */
export function writeJobFiles(i: JobFilesInput): Record<string, unknown> {
  const vms = i.set.vms.map((v) => v.name);
  let monitorUrl: string | undefined;
  let modules: { name: string; url: string }[] | undefined;
  if (i.boot !== 'minimal') {
    const dir = resolve(i.filesDir ?? `${i.out.replace(/\.(ya?ml|json)$/, '')}.files`);
    const p = writePayload(i.set, i.elf, dir);
    const url = (path: string) => (i.urlBase ? `${i.urlBase.replace(/\/+$/, '')}/${basename(path)}` : pathToFileURL(path).href);
    if (i.urlBase !== undefined && !/^(https?|file):\/\/\S+$/.test(i.urlBase))
      throw new LavaInputError(`--url-base ${JSON.stringify(i.urlBase)} is not an http:// or file:// URL; give the URL the lab serves ${dir} at`);
    monitorUrl = url(p.monitor);
    modules = p.modules.map((m) => ({ name: m.name, url: url(m.path) }));
  }
  const job = renderJob({
    boot: i.boot,
    deviceType: i.deviceType ?? defaultDeviceType(i.boot),
    jobName: i.jobName ?? `crossguard ${i.boot}: ${vms.join(', ')}`,
    timeoutS: i.timeoutS,
    bootTimeoutS: i.bootTimeoutS,
    cmdline: i.cmdline,
    vms,
    ...(monitorUrl ? { monitorUrl } : {}),
    ...(modules ? { modules } : {}),
  });
  writeJson(i.out, job);
  return job;
}

export interface DeviceFilesInput {
  emulator: BoardEmulator;
  boot: LavaBoot;
  /** The device file to write; the board file and state go beside it. */
  out: string;
  port: number;
  cpus: number;
  memMiB: number;
  /** How to run `crossguard` (node and the CLI bundle). */
  cli: readonly string[];
  /** The board's power and serial commands (argv words before the verb). */
  boardCli: readonly string[];
  /** bochs: the set the board boots, the monitor and its command line. */
  set?: VmSet;
  elf: string;
  cmdline: string;
  /** The lab form's device type and hostname (default defaultDeviceType(boot), `<type>-01`). */
  deviceType?: string;
  hostname?: string;
}

/** Where the lab form goes: `<device>.lava/`, laid out as lava-server's dispatcher-config directory. */
export const labFormDir = (deviceFile: string) => `${resolve(deviceFile).replace(/\.(ya?ml|json)$/, '')}.lava`;

/** The emulator's argv for a board that LAVA powers on (bochs: minimal; qemu: ipxe, grub). */
function boardArgv(i: DeviceFilesInput, iso: string): string[] {
  if (i.emulator === 'bochs')
    return [...i.cli, 'run', '--emulator', 'bochs', '--no-build', '--image', iso, '--console', `tcp:127.0.0.1:${i.port}`, '--cpus', String(i.cpus), '--mem', String(i.memMiB)];
  return [
    'qemu-system-x86_64', '-accel', 'tcg', '-cpu', 'max', '-smp', String(i.cpus), '-m', String(i.memMiB),
    // ipxe: graphics=off makes SeaBIOS carry the screen and keyboard over the serial line
    // (its serial console), where LAVA interrupts the NIC's iPXE ROM. grub: not so, since
    // SeaBIOS's serial console reads the UART on timer ticks too and took keys typed to GRUB
    // (seen: `net_bootp` arrived as `nt_bootp` with its newline gone); GRUB has the UART alone.
    '-display', 'none', '-vga', 'none', ...(i.boot === 'ipxe' ? ['-machine', 'graphics=off'] : []), '-monitor', 'none', '-parallel', 'none', '-no-reboot',
    // The machine starts once the serial client (connect) is there: nothing is printed to nobody.
    '-serial', `tcp:127.0.0.1:${i.port},server=on,wait=on`,
    '-device', 'isa-debug-exit,iobase=0xf4,iosize=4',
    '-netdev', `user,id=n0,tftp=${TFTP_ROOT}${i.boot === 'grub' ? `,bootfile=${GRUB_CORE}` : ''}`, '-device', 'e1000,netdev=n0', '-boot', 'n',
  ];
}

/**
 * Writes the device file and, for a board LAVA powers, the board file (and
 * the Bochs board's ISO); and the lab form of the same device (template.ts)
 * under labFormDir.
 */
export async function writeDeviceFiles(i: DeviceFilesInput): Promise<{ device: Record<string, unknown>; boardFile?: string; labDir: string }> {
  if (i.emulator === 'bochs' && i.boot !== 'minimal')
    throw new LavaInputError(`the Bochs board boots by LAVA's minimal method (its power-on boots the monitor with the set); use --boot minimal, or --emulator qemu for --boot ${i.boot}`);
  if (i.emulator === 'qemu' && i.boot === 'minimal')
    throw new LavaInputError('--boot minimal is the Bochs board (the only one here where VMs run); use --emulator bochs, or --boot qemu|ipxe|grub');
  const type = i.deviceType ?? defaultDeviceType(i.boot);
  const hostname = i.hostname ?? `${type}-01`;
  checkLavaName('--device-type', type);
  checkLavaName('--hostname', hostname);
  const base = resolve(i.out).replace(/\.(ya?ml|json)$/, '');
  const stateDir = `${base}.board`;
  const boardPath = `${base}.board.json`;
  let iso = '';
  if (i.emulator === 'bochs') {
    if (!i.set) throw new LavaInputError('the Bochs board boots a monitor image with the VM set in it; give --vms FILE');
    mkdirSync(stateDir, { recursive: true });
    iso = join(stateDir, 'crossguard.iso');
    await makeIso({ elf: i.elf, out: iso, cmdline: i.cmdline, modules: writeVmsCfg(i.set, stateDir) });
  }
  const input = { emulator: i.emulator, boot: i.boot, boardCommand: i.boardCli, boardFile: boardPath, cpus: i.cpus, memMiB: i.memMiB };
  const device = renderDevice(input);
  writeJson(i.out, device);
  const lab = labFormDir(i.out);
  mkdirSync(join(lab, 'device-types'), { recursive: true });
  mkdirSync(join(lab, 'devices'), { recursive: true });
  writeFileSync(join(lab, 'device-types', `${type}.jinja2`), deviceTypeTemplate(type));
  writeFileSync(join(lab, 'devices', `${hostname}.jinja2`), deviceDictionary(hostname, type, input));
  if (i.boot === 'qemu') return { device, labDir: lab };
  if (i.boot === 'grub') await ensureGrubNetdir();
  const board: BoardFile = {
    format: 'crossguard-lava-board/1',
    emulator: i.emulator,
    boot: i.boot as BoardFile['boot'],
    host: '127.0.0.1',
    port: i.port,
    stateDir,
    argv: boardArgv(i, iso),
    ...(i.emulator === 'bochs' ? { readyLine: 'serial console on tcp:' } : {}),
  };
  writeJson(boardPath, board);
  return { device, boardFile: boardPath, labDir: lab };
}
