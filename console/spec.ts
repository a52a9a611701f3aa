// Where the operator line is: the --connect spec (pure parsing).
//
//   tcp:HOST:PORT                 crossguard run --console, a terminal server
//   unix:PATH                     a socket bridged to the line (socat, a lab daemon)
//   serial:DEVICE[@BAUD]          a local serial port, default 115200 baud
//   ssh://USER@HOST[:PORT][?cmd=COMMAND]
//                                 a console server or BMC that joins the SSH
//                                 session to the line (the shell, or COMMAND)
//   ipmi-sol://USER@BMC[:PORT]    the BMC's IPMI v2 serial-over-LAN (ipmitool)

import { ConsoleSpecError } from './errors.js';
import { formatBmc, parseBmcAddress } from '../toolchain/src/power/bmc.js';

export type ConnectSpec =
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'unix'; path: string }
  | { kind: 'serial'; device: string; baud: number }
  | { kind: 'ssh'; user: string; host: string; port: number; command?: string }
  | { kind: 'ipmi-sol'; user: string; host: string; port: number; cipher?: number };

export const SPEC_FORMS = 'tcp:HOST:PORT, unix:PATH, serial:/dev/ttyS0[@115200], ssh://USER@HOST[:PORT][?cmd=COMMAND] or ipmi-sol://USER@BMC[:PORT]';

/** Baud rates stty knows by name on Linux. */
export const BAUD_RATES: readonly number[] = [
  1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 500000, 576000, 921600, 1000000, 1152000,
  1500000, 2000000, 3000000, 4000000,
];

function bad(spec: string, why: string): ConsoleSpecError {
  return new ConsoleSpecError(`--connect ${spec}: ${why}`);
}

function parsePort(spec: string, text: string, example: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 1 && port <= 65535)) throw bad(spec, `port "${text}" is not a number from 1 to 65535, e.g. ${example}`);
  return port;
}

/** Parses a --connect spec; throws ConsoleSpecError naming the spec and the expected form. */
export function parseSpec(spec: string): ConnectSpec {
  if (spec.startsWith('tcp:')) {
    const m = /^tcp:(\[[^\]]+\]|[^:[\]]+):([^:]*)$/.exec(spec);
    if (!m) throw bad(spec, 'expected tcp:HOST:PORT, e.g. tcp:127.0.0.1:4555 (IPv6 as tcp:[::1]:4555)');
    return { kind: 'tcp', host: m[1]!.replace(/^\[|\]$/g, ''), port: parsePort(spec, m[2]!, 'tcp:127.0.0.1:4555') };
  }
  if (spec.startsWith('unix:')) {
    const path = spec.slice(5);
    if (path === '') throw bad(spec, 'expected unix:PATH, e.g. unix:/run/crossguard/console.sock');
    return { kind: 'unix', path };
  }
  if (spec.startsWith('serial:')) {
    const m = /^serial:([^@]+?)(?:@(.*))?$/.exec(spec);
    if (!m || !m[1]!.startsWith('/'))
      throw bad(spec, 'expected serial:DEVICE[@BAUD] with an absolute device path, e.g. serial:/dev/ttyS0@115200');
    let baud = 115200;
    if (m[2] !== undefined) {
      baud = /^\d+$/.test(m[2]) ? Number(m[2]) : NaN;
      if (!BAUD_RATES.includes(baud))
        throw bad(spec, `baud rate "${m[2]}" is not one stty knows; the monitor's line runs at 115200 (e.g. serial:${m[1]}@115200)`);
    }
    return { kind: 'serial', device: m[1]!, baud };
  }
  if (spec.startsWith('ssh://')) {
    let url: URL;
    try {
      url = new URL(spec);
    } catch {
      throw bad(spec, 'expected ssh://USER@HOST[:PORT][?cmd=COMMAND], e.g. ssh://admin@bmc1.lab:22');
    }
    if (url.username === '')
      throw bad(spec, `name the SSH user: ssh://USER@${url.host || 'HOST'} (e.g. ssh://admin@${url.host || 'bmc1.lab'})`);
    if (url.password !== '')
      throw bad(spec, 'do not put a password in the spec (it shows in ps and shell history); set CROSSGUARD_SSH_PASSWORD, or use --identity or an SSH agent');
    if (url.hostname === '') throw bad(spec, 'name the host: ssh://USER@HOST[:PORT]');
    if (url.pathname !== '' && url.pathname !== '/')
      throw bad(spec, `unexpected path "${url.pathname}"; a command for the console server goes in ?cmd=COMMAND`);
    for (const k of url.searchParams.keys())
      if (k !== 'cmd') throw bad(spec, `unknown parameter "${k}"; the only one is ?cmd=COMMAND`);
    const out: ConnectSpec = {
      kind: 'ssh',
      user: decodeURIComponent(url.username),
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port === '' ? 22 : parsePort(spec, url.port, 'ssh://admin@bmc1.lab:2222'),
    };
    const cmd = url.searchParams.get('cmd');
    if (cmd !== null) {
      if (cmd.trim() === '') throw bad(spec, '?cmd= is empty; drop it to get the remote shell, or name the command');
      out.command = cmd;
    }
    return out;
  }
  if (spec.startsWith('ipmi-sol://')) {
    const a = parseBmcAddress(spec, 'ipmi-sol');
    if (typeof a === 'string') throw bad(spec, a);
    return { kind: 'ipmi-sol', ...a };
  }
  throw bad(spec, `unknown kind of connection; use one of ${SPEC_FORMS}`);
}

/** The spec written back (for messages). */
export function formatSpec(s: ConnectSpec): string {
  switch (s.kind) {
    case 'tcp':
      return `tcp:${s.host.includes(':') ? `[${s.host}]` : s.host}:${s.port}`;
    case 'unix':
      return `unix:${s.path}`;
    case 'serial':
      return `serial:${s.device}@${s.baud}`;
    case 'ssh':
      return `ssh://${s.user}@${s.host.includes(':') ? `[${s.host}]` : s.host}${s.port === 22 ? '' : `:${s.port}`}${s.command ? `?cmd=${encodeURIComponent(s.command)}` : ''}`;
    case 'ipmi-sol':
      return formatBmc(s, 'ipmi-sol');
  }
}
