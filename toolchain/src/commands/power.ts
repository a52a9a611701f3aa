// crossguard power status|on|off|cycle|pxe --bmc ipmi://USER@HOST[:PORT]:
// chassis power and the next boot device of a lab server through its BMC
// (power/chassis.ts over the real ipmitool). The password comes from
// CG_BMC_PASSWORD / IPMI_PASSWORD or --password-file, never the command line.

import { bmcAuth } from '../power/auth.js';
import { parseBmcAddress } from '../power/bmc.js';
import { powerAction, type PowerAction } from '../power/chassis.js';
import { BmcInputError } from '../power/errors.js';
import type { IpmiTarget } from '../power/ipmitool.js';

export interface PowerArgs {
  action: PowerAction;
  bmc: string;
  passwordFile?: string;
}

/** --bmc and the password source, checked (pure but for the file's metadata). */
export function ipmiTarget(bmc: string, passwordFile: string | undefined, env: NodeJS.ProcessEnv = process.env): IpmiTarget {
  const a = parseBmcAddress(bmc, 'ipmi');
  if (typeof a === 'string') throw new BmcInputError(`--bmc ${bmc}: ${a}`);
  return { bmc: a, auth: bmcAuth(passwordFile, env) };
}

export default async function power(a: PowerArgs): Promise<number> {
  const t = ipmiTarget(a.bmc, a.passwordFile);
  const line = await powerAction(t, a.action, (l) => process.stderr.write(`crossguard: ${l}\n`));
  process.stdout.write(`${line}\n`);
  return 0;
}
