// An emulated lab network for `crossguard run --boot pxe`: a network
// namespace of its own with one tap device (the emulated server's NIC is
// wired to it) and a real dnsmasq serving DHCP, router advertisements and
// TFTP from the tree with the tree's own boot rules (dnsmasq.ts). Nothing is
// reachable from outside the namespace and nothing in it reaches out; close()
// stops dnsmasq and deletes the namespace with its tap.
//
// Why a namespace and not QEMU's user networking (`--net user`, also
// offered): user networking hands every client the one bootfile it was told,
// so the lab's real DHCP decisions (client architecture, the iPXE user
// class that breaks the chainloading loop) would go untested. It needs
// root (CAP_NET_ADMIN and CAP_SYS_ADMIN for `ip netns`).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { tailLines } from '../../../qemu/emulator.js';
import { killGroup, realClock, realSignaller, realSpawner, type Clock, type GroupSignaller, type Spawner } from '../../../qemu/process.js';
import { findOnPath } from '../../../qemu/which.js';
import { labDnsmasqConf, LAB_NET, type BiosLoader } from './dnsmasq.js';
import { LabNetworkError } from './errors.js';

/** Runs a short command to its end: `ip …`. */
export type CommandRunner = (cmd: string, args: readonly string[]) => { code: number; output: string };

export const realRunner: CommandRunner = (cmd, args) => {
  const r = spawnSync(cmd, [...args], { encoding: 'utf8', timeout: 10_000 });
  return { code: r.status ?? -1, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? r.error.message : ''}` };
};

export const TAP_NAME = 'cgtap0';

/** The `ip` commands that make the namespace and its tap (pure). */
export function labNetCommands(netns: string, tap = TAP_NAME): string[][] {
  return [
    ['netns', 'add', netns],
    ['-n', netns, 'link', 'set', 'lo', 'up'],
    ['-n', netns, 'tuntap', 'add', 'dev', tap, 'mode', 'tap'],
    ['-n', netns, 'addr', 'add', `${LAB_NET.server}/${LAB_NET.prefixLen}`, 'dev', tap],
    ['-n', netns, 'addr', 'add', `${LAB_NET.server6}/64`, 'dev', tap, 'nodad'],
    ['-n', netns, 'link', 'set', tap, 'up'],
  ];
}

/** Why a network namespace cannot be made here, or null when it can be tried. */
export function labNetUnavailable(uid = process.getuid?.() ?? -1, path = process.env.PATH ?? ''): string | null {
  if (uid !== 0) return 'network namespaces need root (ip netns); run as root, or use --net user (QEMU user networking)';
  if (!findOnPath('ip', `${path}:/usr/sbin:/sbin`)) return 'ip (iproute2) is not installed';
  if (!findOnPath('dnsmasq', `${path}:/usr/sbin:/sbin`)) return 'dnsmasq is not installed; apt-get install dnsmasq-base (toolchain/setup.sh does)';
  return null;
}

export interface LabNetOptions {
  /** The tree dnsmasq serves over TFTP. */
  tree: string;
  biosLoader: BiosLoader;
  /** Namespace name; default cg-pxe-<pid>-<n>. */
  netns?: string;
  runner?: CommandRunner;
  spawner?: Spawner;
  clock?: Clock;
  signal?: GroupSignaller;
  /** How long dnsmasq (and the HTTP server) may take to come up; default 30 s. */
  startMs?: number;
  /** Also serve the tree over HTTP on the server address: this command line (the hidden pxe-http-serve) run in the namespace. */
  http?: { port: number; command: readonly string[] };
}

export interface LabNet {
  readonly netns: string;
  readonly tap: string;
  readonly server: string;
  /** dnsmasq's log so far (each client's DHCP and TFTP steps, with its MAC), then the HTTP requests. */
  log(): string;
  close(): Promise<void>;
  /** Last resort for process 'exit' handlers. */
  closeSync(): void;
}

let netnsCounter = 0;

interface Server {
  pid: number;
  exited: Promise<unknown>;
  log: () => string;
}

/** Starts `argv` in the namespace and waits until its output matches `ready`. */
async function startServer(
  what: string,
  netns: string,
  argv: readonly string[],
  ready: RegExp,
  spawner: Spawner,
  clock: Clock,
  limitMs: number,
  started: (s: Server) => void,
): Promise<Server> {
  const child = spawner('ip', ['netns', 'exec', netns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const onData = (b: Buffer) => {
    log += b.toString();
    if (log.length > 256 * 1024) log = log.slice(-128 * 1024);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  if (child.pid === undefined) {
    await child.exited;
    throw new LabNetworkError(`cannot start ${what}: ${child.spawnError()?.message ?? 'unknown error'}`);
  }
  const s: Server = { pid: child.pid, exited: child.exited, log: () => log };
  started(s);
  let ended = false;
  void child.exited.then(() => (ended = true));
  const t0 = clock.now();
  while (!ready.test(log)) {
    if (ended) throw new LabNetworkError(`${what} exited at start; its output is above`, tailLines(log, 15));
    if (clock.now() - t0 > limitMs) throw new LabNetworkError(`${what} did not come up within ${limitMs} ms; its output is above`, tailLines(log, 15));
    await new Promise<void>((r) => clock.setTimeout(r, 20));
  }
  return s;
}

/** Makes the namespace and starts dnsmasq in it; LabNetworkError (with what ip or dnsmasq said) when it cannot. */
export async function startLabNet(o: LabNetOptions): Promise<LabNet> {
  const runner = o.runner ?? realRunner;
  const spawner = o.spawner ?? realSpawner;
  const clock = o.clock ?? realClock;
  const signal = o.signal ?? realSignaller;
  const netns = o.netns ?? `cg-pxe-${process.pid}-${netnsCounter++}`;
  const dir = mkdtempSync(join(tmpdir(), 'crossguard-labnet-'));
  let made = false;
  const servers: Server[] = [];
  const stopAll = () => Promise.all(servers.map((v) => killGroup(v.pid, v.exited, { clock, signal, graceMs: 1000 })));
  const removeSync = () => {
    if (made) runner('ip', ['netns', 'del', netns]);
    made = false;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const args of labNetCommands(netns)) {
      const r = runner('ip', args);
      if (r.code !== 0)
        throw new LabNetworkError(`cannot set up the lab network namespace: ip ${args.join(' ')} failed: ${r.output.trim() || `status ${r.code}`}`);
      if (args[1] === 'add' && args[0] === 'netns') made = true;
    }
    const conf = join(dir, 'dnsmasq.conf');
    writeFileSync(
      conf,
      labDnsmasqConf({
        iface: TAP_NAME,
        treeRoot: resolve(o.tree),
        leaseFile: join(dir, 'leases'),
        pidFile: join(dir, 'dnsmasq.pid'),
        biosLoader: o.biosLoader,
      }),
    );
    // 30 s: a node process and dnsmasq start in well under a second, but not on a host at load 10-16 (seen: 10 s was not enough).
    const limit = o.startMs ?? 30_000;
    const add = (v: Server) => servers.push(v);
    await startServer('dnsmasq', netns, ['dnsmasq', '--keep-in-foreground', `--conf-file=${conf}`, '--log-facility=-'], /TFTP root is /, spawner, clock, limit, add);
    if (o.http) await startServer('the HTTP server', netns, o.http.command, /^listening on /m, spawner, clock, limit, add);
  } catch (e) {
    await stopAll();
    removeSync();
    throw e;
  }
  let closing: Promise<void> | undefined;
  return {
    netns,
    tap: TAP_NAME,
    server: LAB_NET.server,
    log: () => servers.map((v) => v.log()).join(''),
    close() {
      closing ??= (async () => {
        await stopAll();
        removeSync();
      })();
      return closing;
    },
    closeSync() {
      for (const v of servers)
        try {
          signal(v.pid, 'SIGKILL');
        } catch {
          // Gone already.
        }
      removeSync();
    },
  };
}
