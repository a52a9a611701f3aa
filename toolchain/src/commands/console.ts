// crossguard console: the operator console client (console/). This file only
// checks the arguments and hands over to console/exec.ts (one request) or
// console/interactive.ts (a person).

import { UsageError } from '../../../qemu/errors.js';
import { parseSpec } from '../../../console/spec.js';
import type { ConnectOptions } from '../../../console/transport.js';

export interface ConsoleArgs {
  connect: string;
  timeout: number;
  log?: string;
  line?: boolean;
  identity?: string;
  knownHosts?: string;
  insecureHostKey?: boolean;
  /** ipmi-sol: file holding the BMC password. */
  passwordFile?: string;
  /** exec only: the command words. */
  words?: (string | number)[];
  json?: boolean;
}

/** Checked, converted arguments (pure; throws UsageError / ConsoleSpecError). */
export function planConsole(a: ConsoleArgs): { timeoutMs: number; connectOptions: ConnectOptions } {
  const spec = parseSpec(a.connect);
  if (!Number.isFinite(a.timeout) || a.timeout < 0) throw new UsageError('--timeout must be a number of seconds (0 = wait forever)');
  if (spec.kind !== 'ssh')
    for (const [opt, v] of [['--identity', a.identity], ['--known-hosts', a.knownHosts], ['--insecure-host-key', a.insecureHostKey || undefined]] as const)
      if (v !== undefined) throw new UsageError(`${opt} is for ssh:// connections only; drop it for ${spec.kind}:`);
  if (a.passwordFile !== undefined && spec.kind !== 'ipmi-sol')
    throw new UsageError(`--password-file is for ipmi-sol:// connections only (ssh:// takes CROSSGUARD_SSH_PASSWORD or a key); drop it for ${spec.kind}:`);
  if (a.knownHosts !== undefined && a.insecureHostKey)
    throw new UsageError('--known-hosts and --insecure-host-key exclude each other: drop one');
  const connectOptions: ConnectOptions = {};
  if (a.identity !== undefined) connectOptions.identity = a.identity;
  if (a.knownHosts !== undefined) connectOptions.knownHosts = a.knownHosts;
  if (a.insecureHostKey) connectOptions.insecureHostKey = true;
  if (a.passwordFile !== undefined) connectOptions.passwordFile = a.passwordFile;
  return { timeoutMs: Math.round(a.timeout * 1000), connectOptions };
}

export async function exec(a: ConsoleArgs): Promise<number> {
  const plan = planConsole(a);
  if (a.line) throw new UsageError('--line is for the interactive console; drop it with exec');
  const words = (a.words ?? []).map(String);
  if (words.length === 0) throw new UsageError('exec needs a command, e.g. crossguard console --connect tcp:127.0.0.1:4555 exec vms');
  const { runExec } = await import('../../../console/exec.js');
  return runExec({
    connect: a.connect,
    words,
    json: a.json === true,
    timeoutMs: plan.timeoutMs,
    connectOptions: plan.connectOptions,
    ...(a.log !== undefined ? { log: a.log } : {}),
  });
}

export async function interactive(a: ConsoleArgs): Promise<number> {
  const plan = planConsole(a);
  if (a.json) throw new UsageError('--json goes with exec (one request); the interactive console prints for people');
  const { runInteractive } = await import('../../../console/interactive.js');
  return runInteractive({
    connect: a.connect,
    line: a.line === true,
    timeoutMs: plan.timeoutMs,
    connectOptions: plan.connectOptions,
    ...(a.log !== undefined ? { log: a.log } : {}),
  });
}
