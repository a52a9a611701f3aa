// The one top-level error handler of the CLI's entry points (cli.ts,
// lava-board.ts): a known error prints its detail and one `crossguard:
// <message>` line and exits with its status; anything else is a bug and
// shows its stack.

import { CrossguardError } from '../../qemu/errors.js';

export function exitOnError(e: unknown): never {
  if (e instanceof CrossguardError) {
    if (e.detail) process.stderr.write(`${e.detail.replace(/\n?$/, '\n')}`);
    process.stderr.write(`crossguard: ${e.message.replace(/\s*\n\s*/g, ' ')}\n`);
    process.exit(e.exitCode);
  }
  process.stderr.write(`crossguard: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(1);
}
