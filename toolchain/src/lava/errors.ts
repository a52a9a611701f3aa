// Named errors of the LAVA integration (`crossguard lava …`, `crossguard lab
// run`). Each message names the thing that was wrong and how to fix it.

import { namedError } from '../../../qemu/errors.js';

/** A job or device could not be made from the given input (a VM set LAVA's slots cannot carry, a bad timeout). Exit 2. */
export class LavaInputError extends namedError('LavaInputError', 2) {}

/** lava-run is missing, could not start, or left no results to read. Exit 1. */
export class LavaRunError extends namedError('LavaRunError') {}

/** The job ran and a test case failed, or the board never booted: the report names it. Exit 1. */
export class LabFailedError extends namedError('LabFailedError') {}

/** A board's power or serial command failed (the emulator would not start, its port never opened). Exit 1. */
export class BoardError extends namedError('BoardError') {}
