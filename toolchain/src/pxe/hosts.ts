// `--host MAC=FILE` arguments: which VM set a host boots, by its NIC's MAC.

import { PxeInputError } from './errors.js';
import { parseMac } from './mac.js';

export interface HostArg {
  /** Lowercase with colons. */
  mac: string;
  file: string;
}

/** Parses every --host value; PxeInputError for a bad one or a MAC given twice (in any spelling). */
export function parseHostArgs(values: readonly string[]): HostArg[] {
  const out: HostArg[] = [];
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0 || eq === v.length - 1)
      throw new PxeInputError(`--host ${JSON.stringify(v)} is not MAC=FILE; write e.g. --host 52:54:00:12:34:56=web.json`);
    const mac = parseMac(v.slice(0, eq), '--host');
    const prev = out.find((h) => h.mac === mac);
    if (prev) throw new PxeInputError(`--host: MAC ${mac} is given twice (${prev.file} and ${v.slice(eq + 1)}); give each host one VM set`);
    out.push({ mac, file: v.slice(eq + 1) });
  }
  return out;
}
