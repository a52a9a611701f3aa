// Finding executables on PATH without spawning anything.

import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';

/** Absolute path of `cmd` on PATH (or `cmd` itself if it is a path and executable); null if absent. */
export function findOnPath(cmd: string, path = process.env.PATH ?? ''): string | null {
  const candidates = cmd.includes('/') ? [cmd] : path.split(delimiter).filter(Boolean).map((d) => join(d, cmd));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return isAbsolute(c) ? c : join(process.cwd(), c);
    } catch {
      // Keep looking.
    }
  }
  return null;
}
