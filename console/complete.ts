// Tab completion for the --line mode (pure): command words from the
// protocol's command list, VM names where a command takes one, policy names
// after `sched policy`. The names come from one `vms` and one `sched`
// request at the start of the session.

import { COMMANDS } from './protocol.js';

export interface Names {
  vms: string[];
  policies: string[];
}

/** Commands whose next word is a VM name. */
const TAKES_VM = ['vm start', 'vm stop', 'vm reset', 'vm pause', 'vm resume', 'vm nmi', 'stats', 'console', 'sched weight', 'sched cap', 'help'];

/** readline's completer contract: [candidates, the word being completed]. */
export function complete(line: string, names: Names): [string[], string] {
  const words = line.replace(/^\s+/, '').split(/\s+/);
  const word = words.pop() ?? '';
  const before = words.join(' ');
  let pool: string[];
  if (before === '') pool = [...new Set(COMMANDS.map((c) => c.split(' ')[0]!))];
  else if (before === 'sched policy') pool = names.policies;
  else if (before === 'help') pool = [...new Set(COMMANDS.map((c) => c.split(' ')[0]!))];
  else if (TAKES_VM.includes(before)) pool = names.vms;
  else pool = COMMANDS.filter((c) => c.startsWith(before + ' ')).map((c) => c.slice(before.length + 1).split(' ')[0]!);
  const hits = pool.filter((p) => p.startsWith(word)).sort();
  return [hits.map((h) => (hits.length === 1 ? h + ' ' : h)), word];
}

/** VM and policy names from `vms` and `sched` data (tolerant of anything else). */
export function namesFrom(vms: unknown, sched: unknown): Names {
  const list = Array.isArray(vms) ? vms : [];
  const s = (typeof sched === 'object' && sched !== null ? sched : {}) as { policies?: unknown };
  return {
    vms: list.map((v) => (v as { name?: unknown })?.name).filter((n): n is string => typeof n === 'string'),
    policies: Array.isArray(s.policies) ? s.policies.filter((p): p is string => typeof p === 'string') : [],
  };
}
