// crossguard lava job|device|board: the LAVA job definition for a VM set,
// the device file of an emulated board (and its board file), and the board's
// power and serial commands the device file names (docs/lava.md).

import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from '../../../qemu/errors.js';
import { defaultElf } from '../paths.js';
import { connectSerial, powerOff, powerOn, readBoardFile } from '../lava/board.js';
import type { BoardEmulator } from '../lava/device.js';
import { writeDeviceFiles, writeJobFiles } from '../lava/files.js';
import type { LavaBoot } from '../lava/job.js';
import { readVmsFile, VMS_DEFAULT_MACHINE_MEM } from './run-vms.js';

/** The monitor's command line in a lab: no operator shell (the board's line is LAVA's). */
export const LAB_CMDLINE = 'cg.shell=0';

/** How this process runs crossguard again: node and the CLI bundle. */
export function selfCommand(): string[] {
  return [process.execPath, resolve(process.argv[1]!)];
}

/** The board's power and serial commands: the small lava-board bundle beside the CLI when built, else `crossguard lava board`. */
export function boardCommand(): string[] {
  const small = join(dirname(resolve(process.argv[1]!)), 'lava-board.mjs');
  return existsSync(small) ? [process.execPath, small] : [...selfCommand(), 'lava', 'board'];
}

export interface LavaJobArgs {
  vms: string;
  boot: LavaBoot;
  deviceType?: string;
  timeout: number;
  bootTimeout: number;
  out: string;
  files?: string;
  urlBase?: string;
  elf?: string;
  cmdline?: string;
  mem?: number;
}

export async function job(a: LavaJobArgs): Promise<void> {
  const set = readVmsFile(a.vms, a.mem ?? VMS_DEFAULT_MACHINE_MEM);
  writeJobFiles({
    set,
    boot: a.boot,
    ...(a.deviceType !== undefined ? { deviceType: a.deviceType } : {}),
    timeoutS: a.timeout,
    bootTimeoutS: a.bootTimeout,
    cmdline: a.cmdline ?? LAB_CMDLINE,
    elf: a.elf ?? defaultElf(),
    out: a.out,
    ...(a.files !== undefined ? { filesDir: a.files } : {}),
    ...(a.urlBase !== undefined ? { urlBase: a.urlBase } : {}),
  });
  process.stderr.write(`crossguard: wrote ${a.out} (LAVA job, boot ${a.boot})\n`);
}

export interface LavaDeviceArgs {
  emulator: BoardEmulator;
  boot?: LavaBoot;
  vms?: string;
  out: string;
  port: number;
  cpus: number;
  mem?: number;
  elf?: string;
  cmdline?: string;
  deviceType?: string;
  hostname?: string;
}

export async function device(a: LavaDeviceArgs): Promise<void> {
  const boot = a.boot ?? (a.emulator === 'bochs' ? 'minimal' : 'qemu');
  if (!Number.isInteger(a.port) || a.port < 1 || a.port > 65535) throw new UsageError('--port must be a TCP port from 1 to 65535');
  const mem = a.mem ?? VMS_DEFAULT_MACHINE_MEM;
  const set = a.vms !== undefined ? readVmsFile(a.vms, mem) : undefined;
  const r = await writeDeviceFiles({
    emulator: a.emulator,
    boot,
    out: a.out,
    port: a.port,
    cpus: a.cpus,
    memMiB: mem,
    cli: selfCommand(),
    boardCli: boardCommand(),
    ...(set ? { set } : {}),
    elf: a.elf ?? defaultElf(),
    cmdline: a.cmdline ?? LAB_CMDLINE,
    ...(a.deviceType !== undefined ? { deviceType: a.deviceType } : {}),
    ...(a.hostname !== undefined ? { hostname: a.hostname } : {}),
  });
  process.stderr.write(`crossguard: wrote ${a.out} (LAVA device, ${a.emulator} board, boot ${boot})${r.boardFile ? `, ${r.boardFile}` : ''} and, for a lab, its device-type template and dictionary in ${r.labDir}/\n`);
}

export async function board(a: { verb: 'power-on' | 'power-off' | 'connect'; board: string }): Promise<number> {
  const b = readBoardFile(a.board);
  if (a.verb === 'power-on') await powerOn(b);
  else if (a.verb === 'power-off') await powerOff(b);
  else return connectSerial(b);
  return 0;
}
