// How ipmitool gets the BMC password without it ever being on a command line
// (where ps and /proc/PID/cmdline show it to every user of the machine):
//   --password-file FILE   ipmitool -f FILE (ipmitool reads the file itself)
//   CG_BMC_PASSWORD        copied into the child's IPMI_PASSWORD, ipmitool -E
//   IPMI_PASSWORD          ipmitool's own variable, ipmitool -E
// The environment of a process is readable only by its owner and root.

import { accessSync, constants, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { BmcInputError } from './errors.js';

export interface BmcAuth {
  /** ipmitool's password options: ['-E'] or ['-f', FILE]; never the password. */
  args: string[];
  /** Environment for the ipmitool child. */
  env: NodeJS.ProcessEnv;
  /** Where the password came from, for messages. */
  source: string;
}

export const PASSWORD_ENV = 'CG_BMC_PASSWORD';

/** Picks the password source (reads nothing but the file's metadata); BmcInputError when there is none. */
export function bmcAuth(passwordFile: string | undefined, env: NodeJS.ProcessEnv = process.env): BmcAuth {
  const base = { ...env };
  if (passwordFile !== undefined) {
    const file = resolve(passwordFile);
    try {
      if (!statSync(file).isFile()) throw new Error('not a regular file');
      accessSync(file, constants.R_OK);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new BmcInputError(
        `--password-file ${passwordFile}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (e as Error).message}`,
      );
    }
    // A stale IPMI_PASSWORD must not win over the file the person named.
    delete base.IPMI_PASSWORD;
    return { args: ['-f', file], env: base, source: `--password-file ${passwordFile}` };
  }
  const own = env[PASSWORD_ENV];
  if (own !== undefined && own !== '') return { args: ['-E'], env: { ...base, IPMI_PASSWORD: own }, source: PASSWORD_ENV };
  if (env.IPMI_PASSWORD !== undefined && env.IPMI_PASSWORD !== '') return { args: ['-E'], env: base, source: 'IPMI_PASSWORD' };
  throw new BmcInputError(
    `no BMC password: set ${PASSWORD_ENV} (or IPMI_PASSWORD) in the environment, or pass --password-file FILE; it is never taken on the command line`,
  );
}
