// crossguard image --format pxe: a netboot tree (pxe/tree.ts) for a TFTP/HTTP
// server, with the default VM set (--vms) and one per host (--host MAC=FILE).

import { existsSync } from 'node:fs';
import { BuildError, UsageError } from '../../../qemu/errors.js';
import { parseHostArgs } from '../pxe/hosts.js';
import { planTree, type HostInput } from '../pxe/tree.js';
import { hashFile, writeTree } from '../pxe/write.js';
import { readVmsFile } from './run-vms.js';

export interface ImagePxeArgs {
  elf: string;
  out: string;
  cmdline?: string;
  vms?: string;
  host?: string[];
  mem?: number;
  httpBase?: string;
  release?: string;
  maxFileBytes?: number;
}

const say = (line: string) => process.stderr.write(`crossguard: ${line}\n`);

function mib(n: number): string {
  return `${(n / (1 << 20)).toFixed(1)} MiB`;
}

export default async function imagePxe(a: ImagePxeArgs): Promise<void> {
  if (!existsSync(a.elf)) throw new BuildError(`${a.elf} does not exist; build it first (crossguard build)`);
  const mem = a.mem ?? 1024;
  if (!Number.isInteger(mem) || mem < 16) throw new UsageError('--mem must be an integer number of MiB, at least 16');
  const hostArgs = parseHostArgs(a.host ?? []);
  const hosts: HostInput[] = hostArgs.map((h) => ({ mac: h.mac, source: h.file, set: readVmsFile(h.file, mem) }));
  const fallback: HostInput = a.vms ? { source: a.vms, set: readVmsFile(a.vms, mem) } : { source: '(none: the monitor alone)' };
  const plan = planTree(
    {
      monitorElf: a.elf,
      cmdline: a.cmdline ?? '',
      hosts,
      fallback,
      ...(a.httpBase !== undefined ? { httpBase: a.httpBase } : {}),
      ...(a.release !== undefined ? { release: a.release } : {}),
      ...(a.maxFileBytes !== undefined ? { maxFileBytes: a.maxFileBytes } : {}),
    },
    hashFile,
  );
  for (const n of plan.notes) say(n);
  const { manifest, bytes } = await writeTree(a.out, plan, undefined, say);
  const payloads = new Set(manifest.hosts.flatMap((h) => h.modules.filter((m) => m.name !== 'vms.cfg').map((m) => m.name)));
  const uses = manifest.hosts.reduce((n, h) => n + h.modules.filter((m) => m.name !== 'vms.cfg').length, 0);
  say(
    `wrote ${a.out}: release ${manifest.release}, ${hosts.length} host${hosts.length === 1 ? '' : 's'} by MAC + default, ` +
      `${payloads.size} payload file${payloads.size === 1 ? '' : 's'} for ${uses} use${uses === 1 ? '' : 's'}, ${manifest.files.length + 1} files, ${mib(bytes)}`,
  );
}
