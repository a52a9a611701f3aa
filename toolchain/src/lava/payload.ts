// The files a LAVA deploy hands the board: the monitor ELF, the set's
// vms.cfg and each kernel, module and disk image under the name the monitor
// finds it by (docs/vm-config.md), all in one directory. Each loader hands
// the monitor those names: QEMU's -initrd and iPXE give a module's path or
// URI, whose basename is its file name; GRUB gets the name as the module's
// argument. LAVA downloads every file into a directory of its own and keeps
// its basename, so the names survive the deploy.

import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeVmsCfg, VMCFG_NAME } from '../vmcfg.js';
import type { VmSet } from '../vms.js';

export const MONITOR_FILE = 'crossguard.elf';

export interface PayloadFile {
  /** The module name (and file name in the payload directory). */
  name: string;
  /** Absolute path in the payload directory. */
  path: string;
}

export interface Payload {
  dir: string;
  monitor: string;
  /** vms.cfg first, then every payload, each once. */
  modules: PayloadFile[];
}

/** Writes the payload directory (replacing what was there) for a checked set. */
export function writePayload(set: VmSet, elf: string, dir: string): Payload {
  const root = resolve(dir);
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  const monitor = join(root, MONITOR_FILE);
  copyFileSync(elf, monitor);
  const modules = writeVmsCfg(set, root).map((m) => {
    const path = join(root, m.name);
    if (m.name !== VMCFG_NAME) copyFileSync(m.path, path);
    return { name: m.name, path };
  });
  return { dir: root, monitor, modules };
}
