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
// form of the same device (a device-type template and a dictionary that
// lava-server renders with its base template) is template.ts's.

import type { LavaBoot } from './job.js';
import { KERNEL_START, MONITOR_END } from './monitor.js';

export type BoardEmulator = 'bochs' | 'qemu';

/** iPXE's own prompt; the NIC ROM's earlier "Press Ctrl-B to configure iPXE" opens its settings menu instead. */
export const IPXE_INTERRUPT = 'Press Ctrl-B for the iPXE command line';
/** GRUB's prompt on a serial line, which cursor moves may cut (`gr\e[09;02H\e[09;03Hub>`: SeaBIOS's serial console; GRUB's own vt100 output moves the cursor too). */
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

/** The device's `constants` (what lava-server's base template would give, with crossguard's boot loader prompts and errors). */
export function deviceConstants(): Record<string, unknown> {
  return {
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
}

/** Seconds a power command (power-off, the reset that powers on) may take, unless the board says otherwise. */
export const POWER_TIMEOUT_S = 90;
/** Seconds LAVA waits for each boot loader prompt. */
export const BOOTLOADER_TIMEOUT_S = 60;

/** The deploy method a boot method needs, or null (minimal: the board's power-on boots the set). */
export function deployMethod(boot: LavaBoot): [string, Record<string, unknown>] | null {
  if (boot === 'qemu') return ['image', { parameters: {} }];
  return boot === 'minimal' ? null : ['tftp', {}];
}

/** A boot method's entry in the device (its parameters). */
export function bootMethod(boot: LavaBoot, cpus: number, memMiB: number): Record<string, unknown> {
  switch (boot) {
    case 'minimal':
      return {};
    case 'qemu':
      return { parameters: { command: 'qemu-system-x86_64', options: qemuMethodOptions(cpus, memMiB) } };
    case 'ipxe':
      return { parameters: { bootloader_prompt: 'iPXE>', interrupt_prompt: IPXE_INTERRUPT, interrupt_ctrl_list: ['b'] } };
    case 'grub':
      // The board's grub.cfg has no menu: GRUB stops at its prompt by itself, nothing to interrupt.
      return { parameters: { bootloader_prompt: GRUB_PROMPT, interrupt_prompt: 'GNU GRUB', interrupt_char: 'c', needs_interrupt: false } };
  }
}

/**
 * Milliseconds between typed characters for a boot method, or 0. iPXE reads keys through
 * SeaBIOS's serial console, which drops what it cannot buffer (16 bytes) while iPXE is busy
 * (seen: `tftp-dloy` for `tftp-deploy`): typed one character at a time (LAVA then waits 5 ms
 * and pexpect 50 ms apiece) it takes them all. The grub board's GRUB has the UART to itself
 * (files.ts), where QEMU holds input back until it is read: whole lines, about 5 s less per
 * command.
 */
export const bootCharacterDelay = (boot: LavaBoot): number => (boot === 'ipxe' ? 5 : 0);

/** The board's commands LAVA runs (the QEMU method has none: LAVA starts QEMU itself). */
export function boardCommands(i: DeviceInput): Record<string, string> | null {
  if (i.boot === 'qemu') return null;
  return { connect: boardCmd(i, 'connect'), hard_reset: boardCmd(i, 'power-on'), power_on: boardCmd(i, 'power-on'), power_off: boardCmd(i, 'power-off') };
}

/** The device dictionary (a plain object; write it as JSON, which is YAML). */
export function renderDevice(i: DeviceInput): Record<string, unknown> {
  const power = i.powerTimeoutS ?? POWER_TIMEOUT_S;
  const device: Record<string, unknown> = {
    constants: deviceConstants(),
    available_architectures: ['x86_64'],
    parameters: {},
    timeouts: {
      // pdu-reboot runs hard_reset (the board's power-on) inside reset-device.
      actions: { 'power-off': { seconds: power }, 'reset-device': { seconds: power }, 'pdu-reboot': { seconds: power } },
      connections: { 'bootloader-commands': { seconds: BOOTLOADER_TIMEOUT_S }, 'bootloader-interrupt': { seconds: BOOTLOADER_TIMEOUT_S } },
    },
  };
  const commands = boardCommands(i);
  if (commands) device.commands = commands;
  const delay = bootCharacterDelay(i.boot);
  if (delay) device.character_delays = { boot: delay };
  const deploy = deployMethod(i.boot);
  device.actions = {
    deploy: { methods: deploy ? { [deploy[0]]: deploy[1] } : {} },
    boot: { connections: { serial: {} }, methods: { [i.boot]: bootMethod(i.boot, i.cpus, i.memMiB) } },
  };
  return device;
}
