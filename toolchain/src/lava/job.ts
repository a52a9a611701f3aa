// A LAVA job definition for a crossguard VM set (pure). The job deploys the
// monitor and the set the way its boot method needs them, boots, and reads
// the serial line with the `monitors` test action (monitor.ts):
//
//   minimal  no deploy: the board's power-on command boots a monitor image
//            that already holds the set (the Bochs board, device.ts)
//   qemu     deploy to tmpfs; QEMU -kernel with the set as -initrd modules
//   ipxe     deploy to tftp; iPXE's `kernel`/`module` (Multiboot1)
//   grub     deploy to tftp; GRUB's `multiboot2`/`module2`
//
// A tftp deploy has fixed slots, each substituted into the boot commands:
// kernel (the monitor), ramdisk (vms.cfg), then dtb, tee and preseed for at
// most three payloads (kernels, modules, disk images). A set that needs more
// is refused with the way out (the qemu or minimal method, or a netboot tree
// the lab's own PXE serves, docs/pxe.md).
//
// The job is written as JSON, which is YAML too: lava-run and lava-server
// read it as it is.

import { LavaInputError } from './errors.js';
import { BOOT_PROMPT, monitorAction } from './monitor.js';

export type LavaBoot = 'minimal' | 'qemu' | 'ipxe' | 'grub';
export const LAVA_BOOTS: readonly LavaBoot[] = ['minimal', 'qemu', 'ipxe', 'grub'];

/** The tftp deploy's slots after kernel and ramdisk, with the boot-command substitution of each. */
export const TFTP_EXTRA_SLOTS = [
  { slot: 'dtb', sub: '{DTB}' },
  { slot: 'tee', sub: '{TEE}' },
  { slot: 'preseed', sub: '{PRESEED_CONFIG}' },
] as const;

export interface JobModule {
  name: string;
  url: string;
}

export interface JobInput {
  boot: LavaBoot;
  deviceType: string;
  jobName: string;
  /** The whole job, and the test action: the VM set's own time (VM sets have no timeout of their own). */
  timeoutS: number;
  /** Power-on to the monitor's `@cg mem` line. */
  bootTimeoutS: number;
  /** The monitor's command line. */
  cmdline: string;
  /** The VMs of the set, in order (metadata: what `lab run` expects to end). */
  vms: readonly string[];
  /** qemu/ipxe/grub: where the deploy fetches the monitor (file:// or http://). */
  monitorUrl?: string;
  /** qemu/ipxe/grub: vms.cfg first, then each payload. */
  modules?: readonly JobModule[];
}

/** Why a timeout value is unusable, or null (whole seconds, at least 1). */
function checkSeconds(what: string, v: number): void {
  if (!Number.isInteger(v) || v < 1 || v > 86_400)
    throw new LavaInputError(`${what} ${v} is not a whole number of seconds from 1 to 86400; give e.g. ${what} 600`);
}

const quoted = (s: string) => (/^[A-Za-z0-9._=,:/-]*$/.test(s) ? s : `"${s.replace(/(["\\$`])/g, '\\$1')}"`);

function deploy(i: JobInput, modules: readonly JobModule[], monitorUrl: string, timeout: object): Record<string, unknown> {
  if (i.boot === 'qemu') {
    const labels = modules.map((_, n) => `m${n}`);
    const images: Record<string, unknown> = {
      kernel: {
        url: monitorUrl,
        // LAVA substitutes every {label} it downloaded; the others' image_arg is empty so only this one adds arguments.
        image_arg: `-kernel {kernel}${i.cmdline ? ` -append ${quoted(i.cmdline)}` : ''} -initrd ${labels.map((l) => `{${l}}`).join(',')}`,
      },
    };
    modules.forEach((m, n) => (images[labels[n]!] = { url: m.url, image_arg: '' }));
    return { deploy: { to: 'tmpfs', timeout, images } };
  }
  const d: Record<string, unknown> = { to: 'tftp', timeout, kernel: { url: monitorUrl, type: 'image' },
    // vms.cfg rides in the ramdisk slot: a plain file, not an initramfs for LAVA to unpack and add to.
    ramdisk: { url: modules[0]!.url, install_overlay: false, install_modules: false } };
  modules.slice(1).forEach((m, n) => (d[TFTP_EXTRA_SLOTS[n]!.slot] = { url: m.url }));
  return { deploy: d };
}

/** Refuses what LAVA cannot take as a device type or hostname (LavaInputError). */
export function checkLavaName(what: string, v: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$/.test(v))
    throw new LavaInputError(`${what} ${JSON.stringify(v)} is not a LAVA ${what.slice(2).replace('-', ' ')} name; use letters, digits, _ . and -`);
}

/** The boot commands for ipxe and grub: each module by its slot's substitution. */
export function bootCommands(boot: 'ipxe' | 'grub', cmdline: string, modules: readonly JobModule[]): string[] {
  const subs = ['{RAMDISK}', ...TFTP_EXTRA_SLOTS.map((s) => s.sub)].slice(0, modules.length);
  const tail = cmdline ? ` ${cmdline}` : '';
  if (boot === 'ipxe')
    // iPXE names a module by its URI; the monitor takes the basename, the file name LAVA kept.
    return ['dhcp', `kernel tftp://{SERVER_IP}/{KERNEL}${tail}`, ...subs.map((s) => `module tftp://{SERVER_IP}/${s}`), 'boot'];
  // GRUB passes a module only its arguments: give each its name.
  return [
    'net_bootp',
    `multiboot2 (tftp,{SERVER_IP})/{KERNEL}${tail}`,
    ...subs.map((s, n) => `module2 (tftp,{SERVER_IP})/${s} ${modules[n]!.name}`),
    'boot',
  ];
}

/** The job definition (a plain object; write it as JSON). Throws LavaInputError on what LAVA could not run. */
export function renderJob(i: JobInput): Record<string, unknown> {
  checkSeconds('--timeout', i.timeoutS);
  checkSeconds('--boot-timeout', i.bootTimeoutS);
  checkLavaName('--device-type', i.deviceType);
  const actions: Record<string, unknown>[] = [];
  const bootTimeout = { seconds: i.bootTimeoutS };
  const prompts = [BOOT_PROMPT];
  if (i.boot !== 'minimal') {
    const modules = i.modules ?? [];
    if (!i.monitorUrl || modules.length === 0) throw new LavaInputError(`--boot ${i.boot} deploys the monitor and the VM set; give --vms FILE`);
    if (i.boot !== 'qemu' && modules.length > 1 + TFTP_EXTRA_SLOTS.length)
      throw new LavaInputError(
        `--boot ${i.boot}: the set needs ${modules.length - 1} payload files but LAVA's tftp deploy has slots for ${TFTP_EXTRA_SLOTS.length} (dtb, tee, preseed); use --boot qemu or minimal, or fewer distinct kernels`,
      );
    actions.push(deploy(i, modules, i.monitorUrl, { seconds: 120 }));
    if (i.boot === 'qemu') actions.push({ boot: { method: 'qemu', media: 'tmpfs', timeout: bootTimeout, prompts } });
    else actions.push({ boot: { method: i.boot, commands: bootCommands(i.boot, i.cmdline, modules), timeout: bootTimeout, prompts } });
  } else actions.push({ boot: { method: 'minimal', timeout: bootTimeout, prompts } });
  actions.push(monitorAction(i.timeoutS));
  return {
    job_name: i.jobName,
    device_type: i.deviceType,
    visibility: 'public',
    priority: 'medium',
    // The job's own budget: deploy, boot, the set's time and LAVA's finalize.
    timeouts: { job: { seconds: i.timeoutS + i.bootTimeoutS + 180 }, action: { seconds: Math.max(i.timeoutS, i.bootTimeoutS, 120) }, connection: { seconds: 60 } },
    context: { arch: 'x86_64' },
    metadata: { 'crossguard.boot': i.boot, 'crossguard.vms': i.vms.join(',') },
    actions,
  };
}
