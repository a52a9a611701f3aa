// The --log file: every byte of the session appended raw, both directions.

import { createWriteStream, type WriteStream } from 'node:fs';

export interface SessionLog {
  write: (b: Buffer) => void;
  close: () => Promise<void>;
}

export function openLog(path: string | undefined): SessionLog | undefined {
  if (path === undefined) return undefined;
  const s: WriteStream = createWriteStream(path, { flags: 'a' });
  s.on('error', (e) => process.stderr.write(`crossguard: --log ${path}: ${e.message}\n`));
  return {
    write: (b) => void s.write(b),
    close: () => new Promise((r) => s.end(() => r())),
  };
}
