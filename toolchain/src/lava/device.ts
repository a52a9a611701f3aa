// The LAVA device dictionary of an emulated board (pure): the rendered
// device file lava-run takes, in which an emulated machine plays a lab
// board so the whole job runs on one host. Two boards:
//
//   bochs  the only place VMs really run here (Bochs emulates VT-x). LAVA's
//          `minimal` boot method: `hard_reset` starts Bochs booting the
//          monitor image that holds the VM set, `power_off` stops it, and
//          `connect` reaches its serial line. All three are board.ts's
//          commands (build/js/lava-board.mjs, or `crossguard lava board …`)
//          reading one board file.
//   qemu   QEMU TCG, for the boot paths: the `qemu` method (LAVA starts QEMU
//          itself with -kernel, the serial line on its stdio), and `ipxe`
//          and `grub`, where the board command starts QEMU network-booting
//          from QEMU's own TFTP server over LAVA's TFTP directory. QEMU has
//          no VT-x: the monitor comes up and each VM ends create-failed.
//
// `constants` are what lava-server's base template would give (2023.01 reads
// failure_retry and boot_retry from there); `kernel-start-message` is the
// monitor's first line, so a bootloader's end shows in the log. The lab
// form of the same device (a device-type template and a dictionary) is in
// lava/ (docs/lava.md).

import type { LavaBoot } from './job.js';
import { KERNEL_START, MONITOR_END } from './monitor.js';

export type BoardEmulator = 'bochs' | 'qemu';

/** iPXE's own prompt; the NIC ROM's earlier "Press Ctrl-B to configure iPXE" opens its settings menu instead. */
export const IPXE_INTERRUPT = 'Press Ctrl-B for the iPXE command line';
/** GRUB's prompt on a serial line, which its vt100 output may cut with cursor moves (`gr\e[09;02H\e[09;03Hub>`). */
export const GRUB_PROMPT = ['g', 'r', 'u', 'b', '>'].join(String.raw`(?:\x1b\[[0-9;]*H)*`);

export interface DeviceInput {
  emulator: BoardEmulator;
  /** The boot method this device offers (bochs: minimal; qemu: qemu, ipxe or grub). */
  boot: LavaBoot;
  /** `crossguard lava board` as argv words (node, the CLI bundle, lava, board), for connect and power. */
  boardCommand: readonly string[];
  /** The board file those commands read (board.ts). */
  boardFile: string;
  cpus: number;
  memMiB: number;
  /** Seconds each power command may take. */
  powerTimeoutS?: number;
}

/** Quotes a word for the shell-like splitting LAVA does on commands (shlex). */
export function shellWord(w: string): string {
  return /^[A-Za-z0-9._=,:/@+-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
}

const boardCmd = (i: DeviceInput, verb: string) => [...i.boardCommand, verb, '--board', i.boardFile].map(shellWord).join(' ');

/** QEMU's options when LAVA starts it (the `qemu` method): the serial line on stdio, as LAVA expects. */
export function qemuMethodOptions(cpus: number, memMiB: number): string[] {
  return [
    '-accel tcg', '-cpu max', `-smp ${cpus}`, `-m ${memMiB}`, '-display none', '-vga none', '-monitor none',
    '-parallel none', '-serial stdio', '-no-reboot', '-device isa-debug-exit,iobase=0xf4,iosize=4',
  ];
}

/** The device dictionary (a plain object; write it as JSON, which is YAML). */
export function renderDevice(i: DeviceInput): Record<string, unknown> {
  const power = i.powerTimeoutS ?? 90;
  const constants: Record<string, unknown> = {
    'kernel-start-message': KERNEL_START,
    'shutdown-message': MONITOR_END,
    'default-shell-prompt': 'cg> ',
    spawn_maxread: '4092',
    failure_retry: 1,
    boot_retry: 1,
    posix: { lava_test_results_dir: '/lava-%s', lava_test_sh_cmd: '/bin/sh', lava_test_shell_file: '~/.bashrc' },
    ipxe: { 'interrupt-prompt': IPXE_INTERRUPT, 'interrupt-character': 'b', 'error-messages': ['No such file or directory', 'Exec format error', 'Connection timed out'] },
    grub: { 'interrupt-prompt': 'GNU GRUB', 'interrupt-character': 'c', 'error-messages': ['error: '] },
  };
  const device: Record<string, unknown> = {
    constants,
    available_architectures: ['x86_64'],
    parameters: {},
    timeouts: {
      actions: { 'power-off': { seconds: power }, 'hard-reset': { seconds: power }, 'pdu-reboot': { seconds: power } },
      connections: { 'bootloader-commands': { seconds: 60 }, 'bootloader-interrupt': { seconds: 60 } },
    },
  };
  const deployMethods: Record<string, unknown> = {};
  const bootMethods: Record<string, unknown> = {};
  if (i.boot === 'qemu') {
    deployMethods.image = { parameters: {} };
    bootMethods.qemu = { parameters: { command: 'qemu-system-x86_64', options: qemuMethodOptions(i.cpus, i.memMiB) } };
  } else {
    device.commands = { connect: boardCmd(i, 'connect'), hard_reset: boardCmd(i, 'power-on'), power_on: boardCmd(i, 'power-on'), power_off: boardCmd(i, 'power-off') };
    if (i.boot === 'minimal') bootMethods.minimal = {};
    else {
      deployMethods.tftp = {};
      bootMethods[i.boot] =
        i.boot === 'ipxe'
          ? { parameters: { bootloader_prompt: 'iPXE>', interrupt_prompt: IPXE_INTERRUPT, interrupt_ctrl_list: ['b'] } }
          : // GRUB's netboot image has no grub.cfg here: it stops at its prompt by itself, nothing to interrupt.
            { parameters: { bootloader_prompt: GRUB_PROMPT, interrupt_prompt: 'GNU GRUB', interrupt_char: 'c', needs_interrupt: false } };
      // GRUB and iPXE poll the UART: typed at full speed on a loaded host they drop characters
      // (seen: `tftp-dloy` for `tftp-deploy`); 5 ms apiece they take them all.
      device.character_delays = { boot: 5 };
    }
  }
  device.actions = { deploy: { methods: deployMethods }, boot: { connections: { serial: {} }, methods: bootMethods } };
  return device;
}
