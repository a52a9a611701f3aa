// The one error `crossguard flash` ends with when a step fails: it names the
// step (tree, deploy, console, power, boot, vms) so the person knows which
// log to read (docs/lab.md, "When a host does not come up").

import { CrossguardError } from '../../../qemu/errors.js';

export type FlashStep = 'tree' | 'deploy' | 'console' | 'power' | 'boot' | 'vms';

/** A flash step failed. Exit 1 (the step's own error's status when it had one). */
export class FlashStepError extends CrossguardError {
  override name = 'FlashStepError';
  override readonly exitCode: number;

  constructor(
    readonly step: FlashStep,
    message: string,
    detail?: string,
    exitCode = 1,
  ) {
    super(`flash failed at step ${step}: ${message}`, detail);
    this.exitCode = exitCode;
  }
}
