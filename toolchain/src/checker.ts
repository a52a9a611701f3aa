// The problem collector behind the VM description checks (vms.ts, disks.ts):
// each check records `<json path>: <value and fix>` and goes on, so one run
// reports every problem. File access is injectable (VmFileAccess) so the
// checks stay pure in tests.

import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';

export interface VmFileAccess {
  exists(path: string): boolean;
  /** Up to `n` bytes from the start of the file, or null when it cannot be read (a directory…). */
  readHead(path: string, n: number): Uint8Array | null;
  /** Size in bytes of a regular file, or null (a directory, unreadable…). Needed for disk images. */
  size?(path: string): number | null;
}

export const realFileAccess: VmFileAccess = {
  exists: (p) => existsSync(p),
  readHead: (p, n) => {
    try {
      if (!statSync(p).isFile()) return null;
      const fd = openSync(p, 'r');
      try {
        const buf = Buffer.alloc(n);
        return buf.subarray(0, readSync(fd, buf, 0, n, 0));
      } finally {
        closeSync(fd);
      }
    } catch {
      return null;
    }
  },
  size: (p) => {
    try {
      const st = statSync(p);
      return st.isFile() ? st.size : null;
    } catch {
      return null;
    }
  },
};

/** A value as it appears in a message: short JSON. */
export function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
export const PRINTABLE = /^[\x20-\x7e]*$/;

export class Checker {
  problems: string[] = [];
  constructor(
    private readonly baseDir: string,
    readonly files: VmFileAccess,
  ) {}

  bad(path: string, msg: string): void {
    this.problems.push(`${path}: ${msg}`);
  }

  keys(path: string, o: Record<string, unknown>, allowed: string[]): void {
    for (const k of Object.keys(o))
      if (!allowed.includes(k)) this.bad(path ? `${path}.${k}` : k, `unknown key; allowed keys here: ${allowed.join(', ')}`);
  }

  int(path: string, v: unknown, lo: number, hi: number, unit: string): number | undefined {
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      this.bad(path, `${show(v)} is not a whole number; give one from ${lo} to ${hi}${unit}`);
      return undefined;
    }
    if (v < lo) this.bad(path, `${v} is below the minimum of ${lo}${unit}; give at least ${lo}`);
    else if (v > hi) this.bad(path, `${v} is above the maximum of ${hi}${unit}; give at most ${hi}`);
    else return v;
    return undefined;
  }

  text(path: string, v: unknown, max: number): string | undefined {
    if (typeof v !== 'string') {
      this.bad(path, `${show(v)} is not a string; write the arguments as one string`);
      return undefined;
    }
    if (v.length > max) this.bad(path, `${v.length} characters is over the limit of ${max}; shorten it`);
    else if (/[\r\n]/.test(v)) this.bad(path, `${show(v)} contains a line break; put everything on one line`);
    else if (!PRINTABLE.test(v)) this.bad(path, `${show(v)} has a character that is not printable ASCII; remove it`);
    else return v;
    return undefined;
  }

  /**
   * A file path naming an existing file: printable and, unless `inCmdline` is
   * false (a file the guest never sees named), without spaces.
   */
  file(path: string, v: unknown, inCmdline = true): { given: string; path: string } | undefined {
    if (typeof v !== 'string' || v === '') {
      this.bad(path, `${show(v)} is not a file path; give the path as a string`);
      return undefined;
    }
    if (!inCmdline && !PRINTABLE.test(v)) {
      this.bad(path, `${show(v)} has a non-printable character; rename the file`);
      return undefined;
    }
    if (inCmdline && (!PRINTABLE.test(v) || v.includes(' '))) {
      this.bad(path, `${show(v)} has a space or a non-printable character (the guest sees it in a command line); rename the file`);
      return undefined;
    }
    const abs = isAbsolute(v) ? v : resolve(this.baseDir, v);
    if (!this.files.exists(abs)) {
      this.bad(path, `${show(v)} does not exist (looked at ${abs}); fix the path, relative to the description's directory`);
      return undefined;
    }
    return { given: v, path: abs };
  }
}
