// crossguard lab run: one VM set through a lab engine, here LAVA. Renders
// the job and an emulated board's device (files.ts), runs the job with
// lava-run, reads its results (lava-run exits 0 when a case fails) and
// prints one line per test case and a summary; exits 1 when a case failed
// or a LAVA step (deploy, boot) did, naming it.

import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../../../qemu/bochs.js';
import { UsageError } from '../../../qemu/errors.js';
import { defaultElf } from '../paths.js';
import { powerOff, readBoardFile } from '../lava/board.js';
import { LabFailedError } from '../lava/errors.js';
import { QEMU_USER_SERVER_IP, writeDeviceFiles, writeJobFiles } from '../lava/files.js';
import type { LavaBoot } from '../lava/job.js';
import { formatReport, labReport, parseLavaLog } from '../lava/results.js';
import { runLava } from '../lava/runner.js';
import { boardCommand, LAB_CMDLINE, selfCommand } from './lava.js';
import { readVmsFile, VMS_DEFAULT_MACHINE_MEM } from './run-vms.js';

export interface LabRunArgs {
  engine: 'lava';
  vms: string;
  boot: LavaBoot;
  timeout: number;
  bootTimeout: number;
  dir?: string;
  cpus: number;
  mem?: number;
  elf?: string;
  cmdline?: string;
  quiet?: boolean;
}

export default async function main(a: LabRunArgs): Promise<number> {
  if (a.engine !== 'lava') throw new UsageError(`--engine ${a.engine}: only lava is supported`);
  const mem = a.mem ?? VMS_DEFAULT_MACHINE_MEM;
  const set = readVmsFile(a.vms, mem);
  const dir = resolve(a.dir ?? mkdtempSync(join(tmpdir(), 'crossguard-lab-')));
  mkdirSync(dir, { recursive: true });
  const say = (l: string) => process.stderr.write(`crossguard: ${l}\n`);
  const elf = a.elf ?? defaultElf();
  const cmdline = a.cmdline ?? LAB_CMDLINE;
  const emulator = a.boot === 'minimal' ? 'bochs' : 'qemu';
  const jobFile = join(dir, 'job.yaml');
  const devFile = join(dir, 'device.yaml');
  writeJobFiles({ set, boot: a.boot, timeoutS: a.timeout, bootTimeoutS: a.bootTimeout, cmdline, elf, out: jobFile });
  const { boardFile } = await writeDeviceFiles({ emulator, boot: a.boot, out: devFile, port: await freePort(), cpus: a.cpus, memMiB: mem, cli: selfCommand(), boardCli: boardCommand(), set, elf, cmdline });
  say(`lab run: LAVA job ${jobFile} on a ${emulator} board (${devFile}), boot ${a.boot}…`);
  let out;
  try {
    out = await runLava({
      job: jobFile,
      device: devFile,
      dir,
      jobId: process.pid,
      ...(a.boot === 'ipxe' || a.boot === 'grub' ? { dispatcherIp: QEMU_USER_SERVER_IP } : {}),
      ...(a.quiet ? {} : { progress: (l: string) => process.stderr.write(`${l}\n`) }),
    });
  } finally {
    // LAVA powers the board off at the end; make sure of it when lava-run itself failed.
    if (boardFile) await powerOff(readBoardFile(boardFile));
  }
  const report = labReport(parseLavaLog(out.log), set.vms.map((v) => v.name));
  const boot = report.step ? `LAVA step ${report.step} failed (${report.jobError})${report.boardSays ? `: ${report.boardSays}` : ''}` : '';
  for (const l of formatReport(report)) process.stdout.write(`${l}\n`);
  say(`lab run: lava-run took ${(out.ms / 1000).toFixed(1)} s (exit ${out.exitCode}); its log is ${out.logFile}`);
  if (report.ok) return 0;
  const failed = report.failed.map((c) => c.name);
  throw new LabFailedError(
    report.step
      ? `${boot}${failed.length ? `; failed cases: ${failed.join(', ')}` : ''}; the log is ${out.logFile}`
      : `${failed.length} test case${failed.length === 1 ? '' : 's'} failed: ${failed.join(', ')}; the log is ${out.logFile}`,
  );
}
