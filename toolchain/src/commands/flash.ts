// crossguard flash --bmc ipmi://… --mac MAC --vms FILE (--to sftp://… | --tree-dir DIR):
// one lab server, from a VM set on this machine to those VMs running on it.
//   tree     the netboot tree with FILE as that MAC's set (pxe/)
//   deploy   onto the PXE server (flash/target.ts)
//   console  the host's serial line over the BMC's serial-over-LAN, opened
//            before the power step so no line of the boot is missed
//   power    next boot from the network, power cycle (or on) (power/)
//   boot     the monitor's `@cg ready` on that line
//   vms      `@cg vm-start` for every VM of the set (flash/watch.ts)
// Progress goes to stderr, one result line to stdout; a failure names its step.

import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LineSplitter } from '../../../qemu/markers.js';
import { CrossguardError, UsageError } from '../../../qemu/errors.js';
import { connect, type Transport } from '../../../console/transport.js';
import { FlashStepError, type FlashStep } from '../flash/errors.js';
import { directoryTarget, sftpTarget, type FlashTarget } from '../flash/target.js';
import { BootWatch } from '../flash/watch.js';
import { parseMac } from '../pxe/mac.js';
import { hostFor } from '../pxe/manifest.js';
import { planTree } from '../pxe/tree.js';
import { hashFile, writeTree } from '../pxe/write.js';
import { formatBmc } from '../power/bmc.js';
import { powerAction } from '../power/chassis.js';
import { ipmiTarget } from './power.js';
import { readVmsFile } from './run-vms.js';

export interface FlashArgs {
  bmc: string;
  mac: string;
  vms: string;
  to?: string;
  treeDir?: string;
  timeout: number;
  passwordFile?: string;
  elf: string;
  cmdline?: string;
  httpBase?: string;
  /** The largest file the tree may hold (default TFTP_SAFE_FILE_BYTES). */
  maxFileBytes?: number;
  mem?: number;
  serialLog?: string;
  /** --to: releases kept on the server (deploy's --keep). */
  keep?: number;
  identity?: string;
  knownHosts?: string;
  insecureHostKey?: boolean;
}

const say = (line: string) => process.stderr.write(`crossguard: flash: ${line}\n`);

/** Where the tree goes (pure but for parsing): exactly one of --to and --tree-dir. */
export function flashTarget(a: Pick<FlashArgs, 'to' | 'treeDir' | 'keep' | 'identity' | 'knownHosts' | 'insecureHostKey'>): FlashTarget {
  if ((a.to === undefined) === (a.treeDir === undefined))
    throw new UsageError('name where the PXE server\'s tree is: --to sftp://USER@HOST/PATH or --tree-dir DIR (one of them)');
  if (a.treeDir !== undefined) {
    for (const [opt, v] of [['--identity', a.identity], ['--known-hosts', a.knownHosts], ['--insecure-host-key', a.insecureHostKey || undefined], ['--keep', a.keep]] as const)
      if (v !== undefined) throw new UsageError(`${opt} goes with --to sftp://…; drop it with --tree-dir`);
    return directoryTarget(a.treeDir);
  }
  if (a.knownHosts !== undefined && a.insecureHostKey) throw new UsageError('--known-hosts and --insecure-host-key exclude each other: drop one');
  return sftpTarget(a.to!, {
    keep: a.keep ?? 3,
    ...(a.identity !== undefined ? { identity: a.identity } : {}),
    ...(a.knownHosts !== undefined ? { knownHosts: a.knownHosts } : {}),
    ...(a.insecureHostKey ? { insecureHostKey: true } : {}),
  });
}

/** Runs fn as `step`: any CrossguardError becomes a FlashStepError naming it. */
async function step<T>(name: FlashStep, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof FlashStepError) throw e;
    if (e instanceof CrossguardError) throw new FlashStepError(name, e.message, e.detail, e.exitCode);
    throw e;
  }
}

export default async function flash(a: FlashArgs): Promise<number> {
  const t0 = Date.now();
  const secs = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
  // Everything that can be checked before touching anything.
  const target = ipmiTarget(a.bmc, a.passwordFile);
  const mac = parseMac(a.mac, '--mac');
  const dest = flashTarget(a);
  if (!Number.isFinite(a.timeout) || a.timeout <= 0) throw new UsageError('--timeout must be a positive number of seconds');
  const set = readVmsFile(a.vms, a.mem ?? 1024);
  const where = formatBmc(target.bmc);

  const staging = mkdtempSync(join(tmpdir(), 'crossguard-flash-'));
  let line: Transport | undefined;
  try {
    const { manifest } = await step('tree', async () => {
      const plan = planTree(
        {
          monitorElf: a.elf,
          cmdline: a.cmdline ?? '',
          hosts: [{ mac, source: a.vms, set }],
          fallback: { source: '(none: the monitor alone)' },
          ...(a.httpBase !== undefined ? { httpBase: a.httpBase } : {}),
          ...(a.maxFileBytes !== undefined ? { maxFileBytes: a.maxFileBytes } : {}),
        },
        hashFile,
      );
      for (const n of plan.notes) say(n);
      return writeTree(join(staging, 'tree'), plan, undefined, (l) => say(`[tree] ${l}`));
    });
    const host = hostFor(manifest, mac);
    say(`[tree] release ${manifest.release}: ${mac} runs ${host.vms.length ? host.vms.join(', ') : 'no VMs'}`);

    const live = await step('deploy', () => dest.deploy(join(staging, 'tree'), (l) => say(`[deploy] ${l}`)));
    say(`[deploy] ${dest.description} serves release ${live}`);

    const solSpec = `ipmi-sol://${where.slice('ipmi://'.length)}`;
    line = await step('console', () =>
      connect(solSpec, { timeoutMs: 30_000, ...(a.passwordFile !== undefined ? { passwordFile: a.passwordFile } : {}), notice: (l) => say(`[console] ${l}`) }),
    );
    say(`[console] serial-over-LAN open on ${solSpec}`);

    const watch = new BootWatch(host.vms, live);
    const splitter = new LineSplitter();
    let resolveWatch!: () => void;
    const watched = new Promise<void>((r) => (resolveWatch = r));
    const l = line;
    l.onData((b) => {
      if (a.serialLog !== undefined) appendFileSync(a.serialLog, b);
      for (const text of splitter.push(b)) {
        const ev = watch.push(text);
        if (ev?.kind === 'boot') say(`[boot] the monitor is loading (${ev.loader})`);
        if (ev?.kind === 'ready') say(`[boot] @cg ready: ${ev.cpus} CPUs, ${ev.vmx} in VMX root, ${secs()}`);
        if (ev?.kind === 'vm-start') say(`[vms] ${ev.name} started (${ev.started}/${ev.of}), ${secs()}`);
        if (watch.result.status !== 'waiting') resolveWatch();
      }
    });
    void l.closed.then(() => resolveWatch());

    await step('power', () => powerAction(target, 'pxe', (m) => say(`[power] ${m}`)));

    const timer = setTimeout(resolveWatch, a.timeout * 1000);
    await watched;
    clearTimeout(timer);
    const r = watch.result;
    if (r.status === 'failed') throw new FlashStepError(r.step, `${mac}: ${r.why}`);
    if (r.status === 'waiting') {
      const stepName: FlashStep = watch.isReady ? 'vms' : 'boot';
      const what = watch.isReady ? `VMs ${watch.missing().join(', ')} did not start` : 'no @cg ready from the monitor';
      const why = (await Promise.race([l.closed.then(() => 'closed'), Promise.resolve('open')])) === 'closed'
        ? `the serial-over-LAN session ended (${what})`
        : `${what} within --timeout ${a.timeout} s`;
      throw new FlashStepError(stepName, `${mac}: ${why}; see docs/lab.md, "When a host does not come up"`);
    }
    process.stdout.write(
      `flash: ${mac} up: release ${live}, monitor ready, ${host.vms.length}/${host.vms.length} VM${host.vms.length === 1 ? '' : 's'} started, ${secs()}\n`,
    );
    return 0;
  } finally {
    if (line) {
      line.close();
      await line.settled?.();
    }
    rmSync(staging, { recursive: true, force: true });
  }
}
