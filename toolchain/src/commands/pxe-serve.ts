// crossguard pxe serve DIR --interface IF [--proxy] [--http-port N] [--range A,B]:
// serve a netboot tree on a lab interface with a real dnsmasq (full DHCP on
// an isolated lab network, or proxy-DHCP next to the lab's own DHCP server)
// and TFTP rooted at the tree, plus an HTTP server for the payloads. Each
// host's DHCP, TFTP and HTTP steps are printed with its MAC (pxe/steps.ts);
// Ctrl-C or SIGTERM stops dnsmasq and the HTTP server, and nothing is left
// running.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { UsageError } from '../../../qemu/errors.js';
import { tailLines } from '../../../qemu/emulator.js';
import { LineSplitter } from '../../../qemu/markers.js';
import { killGroup, realSpawner } from '../../../qemu/process.js';
import { findOnPath } from '../../../qemu/which.js';
import { LabNetworkError, PxeInputError } from '../pxe/errors.js';
import { labHttpBase, serveTree } from '../pxe/http.js';
import { hasGlobalIpv6, parseIpAddr, parseRange, serveDnsmasqConf, type ServeMode } from '../pxe/serve.js';
import { BootSteps, formatStep, type BootStep } from '../pxe/steps.js';
import { readManifest } from './run-pxe.js';

export interface PxeServeArgs {
  dir: string;
  interface: string;
  proxy?: boolean;
  httpPort?: number;
  range?: string;
}

const say = (line: string) => process.stderr.write(`crossguard: ${line}\n`);

function ip(args: string[]): { code: number; out: string } {
  const r = spawnSync('ip', args, { encoding: 'utf8', timeout: 10_000 });
  return { code: r.status ?? -1, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? r.error.message : ''}` };
}

/** The HTTP port to serve, or null: --http-port, else the tree's `http://${next-server}[:PORT]` base (pure). */
export function servePort(httpPort: number | undefined, httpBase: string | null): { port: number; prefix: string } | null {
  const lab = labHttpBase(httpBase);
  if (httpPort !== undefined) {
    if (!Number.isInteger(httpPort) || httpPort < 1 || httpPort > 65535) throw new UsageError('--http-port must be a port number, 1-65535');
    if (lab && lab.port !== httpPort)
      throw new UsageError(`--http-port ${httpPort}, but the tree's scripts fetch from port ${lab.port} (${httpBase}); drop --http-port or remake the tree with --http-base`);
    return { port: httpPort, prefix: lab?.prefix ?? '' };
  }
  return lab;
}

export default async function main(a: PxeServeArgs): Promise<number> {
  const dir = resolve(a.dir);
  const manifest = readManifest(dir);
  if (!/^[A-Za-z0-9_.:-]{1,15}$/.test(a.interface)) throw new UsageError(`--interface ${a.interface} is not a network interface name`);
  if (a.proxy && a.range !== undefined) throw new UsageError("--range is for full DHCP; with --proxy the lab's DHCP server leases the addresses");
  if (!a.proxy && a.range === undefined)
    throw new UsageError('full DHCP needs --range FIRST,LAST (addresses to lease on the lab network); next to an existing DHCP server use --proxy');
  if (process.getuid?.() !== 0) throw new UsageError('pxe serve needs root: dnsmasq binds the DHCP (67) and TFTP (69) ports; run it with sudo');
  if (!findOnPath('dnsmasq', `${process.env.PATH ?? ''}:/usr/sbin:/sbin`)) throw new UsageError('dnsmasq is not installed; apt-get install dnsmasq-base');
  const v4 = ip(['-4', '-o', 'addr', 'show', 'dev', a.interface]);
  if (v4.code !== 0) throw new PxeInputError(`--interface ${a.interface}: ${v4.out.trim() || 'ip failed'}`);
  const net = parseIpAddr(v4.out);
  if (!net) throw new PxeInputError(`--interface ${a.interface} has no IPv4 address; give it the server's (ip addr add 10.0.0.1/24 dev ${a.interface})`);
  const mode: ServeMode = a.proxy ? { kind: 'proxy' } : { kind: 'full', ...parseRange(a.range!, net), ra: hasGlobalIpv6(ip(['-6', '-o', 'addr', 'show', 'dev', a.interface]).out) };
  const http = servePort(a.httpPort, manifest.http_base);

  const tmp = mkdtempSync(join(tmpdir(), 'crossguard-pxe-serve-'));
  const conf = join(tmp, 'dnsmasq.conf');
  writeFileSync(conf, serveDnsmasqConf({ iface: a.interface, net, tree: dir, leaseFile: join(tmp, 'leases'), mode }));

  const steps = new BootSteps(dir);
  const print = (s: BootStep | null) => {
    if (s) process.stdout.write(`${new Date().toISOString().slice(11, 23)} ${formatStep(s)}\n`);
  };
  let log = '';
  const child = realSpawner('dnsmasq', ['--keep-in-foreground', `--conf-file=${conf}`, '--log-facility=-'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let server: Server | undefined;
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      server?.close();
      server?.closeAllConnections();
      if (child.pid !== undefined) await killGroup(child.pid, child.exited, { graceMs: 2000 });
      rmSync(tmp, { recursive: true, force: true });
    })());
  const onExit = () => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  };
  process.on('exit', onExit);
  let signalled: NodeJS.Signals | undefined;
  let wake: () => void = () => {};
  const onSignal = (sig: NodeJS.Signals) => {
    signalled ??= sig;
    wake();
  };
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, onSignal);
  try {
    const ready = new Promise<void>((res, rej) => {
      const split = new LineSplitter();
      const onData = (b: Buffer) => {
        log = (log + b.toString()).slice(-64 * 1024);
        for (const l of split.push(b)) {
          if (/TFTP root is /.test(l)) res();
          const s = steps.dnsmasqLine(l);
          if (s) print(s);
          else if (/^dnsmasq: .*(fail|error|cannot|unknown|bad)/i.test(l)) say(`dnsmasq: ${l.replace(/^dnsmasq: /, '')}`);
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      void child.exited.then(() => rej(new LabNetworkError('dnsmasq exited at start; its output is above', tailLines(log, 15))));
    });
    if (child.pid === undefined) throw new LabNetworkError(`cannot start dnsmasq: ${child.spawnError()?.message ?? 'unknown error'}`);
    await ready;
    if (http) {
      try {
        server = await serveTree(dir, net.address, http.port, http.prefix, (l) => print(steps.httpLine(l)));
      } catch (e) {
        throw new LabNetworkError(`cannot serve HTTP on ${net.address}:${http.port}: ${(e as Error).message}; free the port or give another --http-port (and --http-base when making the tree)`);
      }
    } else if (manifest.http_base) say(`the tree's HTTP base ${manifest.http_base} is not on this server: not serving HTTP here`);
    say(
      `serving ${dir} (release ${manifest.release}) on ${a.interface} (${net.address}/${net.prefixLen}): ` +
        (mode.kind === 'full' ? `DHCP ${mode.start}-${mode.end}${mode.ra ? ', IPv6 router advertisements' : ''}` : 'proxy-DHCP next to the lab DHCP server') +
        `, TFTP${http ? `, HTTP on port ${http.port}` : ''}; Ctrl-C stops`,
    );
    const died = child.exited.then(() => 'died' as const);
    const asked = new Promise<'signal'>((res) => {
      wake = () => res('signal');
      if (signalled) res('signal');
    });
    if ((await Promise.race([died, asked])) === 'died')
      throw new LabNetworkError('dnsmasq stopped on its own; its last lines are above', tailLines(log, 15));
    say(`${signalled}: stopping dnsmasq${server ? ' and the HTTP server' : ''}`);
    return 0;
  } finally {
    await stop();
    process.off('exit', onExit);
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.off(s, onSignal);
  }
}
