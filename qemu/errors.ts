// Named errors for the emulator harness and the toolchain. Each has a fixed
// `name` (so tests and the CLI can tell them apart without instanceof across
// bundles), an exit status for the CLI, and a message that says how to fix
// the problem.

/** Base class: every error the CLI prints as one `crossguard: <message>` line. */
export class CrossguardError extends Error {
  override name = 'CrossguardError';
  /** Process exit status the CLI uses for this error. */
  readonly exitCode: number = 1;
  /** Supporting text (tool output, emulator log lines); the CLI prints it before the one-line message. */
  readonly detail: string | undefined;

  constructor(message: string, detail?: string) {
    super(message);
    this.detail = detail;
  }
}

/**
 * A named error class in one line: `export class X extends namedError('X', 2) {}`
 * gives X its fixed name and exit status (default 1) on top of base.
 */
export function namedError(name: string, exitCode = 1, base: typeof CrossguardError = CrossguardError) {
  return class extends base {
    override name = name;
    override readonly exitCode: number = exitCode;
  };
}

/** Bad command-line usage: unknown option value, impossible combination. Exit 2. */
export class UsageError extends namedError('UsageError', 2) {}

/** A build step (make, grub-mkrescue) failed. Exit 1. */
export class BuildError extends namedError('BuildError') {}

/** The requested emulator is not installed or cannot run here. Exit 1. */
export class EmulatorUnavailableError extends namedError('EmulatorUnavailableError') {}

/** The emulator started but the serial line or the process failed. Exit 1. */
export class BootError extends namedError('BootError') {}

/** The chosen back end cannot load this kind of image. Exit 2 (a usage problem). */
export class UnsupportedImageError extends namedError('UnsupportedImageError', 2) {}

/** `--until` did not match before the timeout. Exit 3. */
export class BootTimeoutError extends namedError('BootTimeoutError', 3) {}

/** The emulator exited before `--until` matched. Exit 4. */
export class EmulatorExitedError extends namedError('EmulatorExitedError', 4) {}

/** True for errors the CLI prints as a single line (no stack trace). */
export function isCrossguardError(e: unknown): e is CrossguardError {
  return e instanceof CrossguardError;
}
