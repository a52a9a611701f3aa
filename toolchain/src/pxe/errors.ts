// Named errors of the netboot tree and the emulated lab network. Each says
// what to change; the CLI prints it as one `crossguard: …` line.

import { namedError } from '../../../qemu/errors.js';

/** Bad input for a netboot tree: a MAC, a host given twice, a set iPXE cannot load. Exit 2; nothing is written. */
export class PxeInputError extends namedError('PxeInputError', 2) {}

/** Writing the tree failed (a loader file missing, grub-mknetdir, the output directory). Exit 1. */
export class PxeTreeError extends namedError('PxeTreeError') {}

/** The emulated lab network (namespace, tap, dnsmasq, HTTP) could not be set up. Exit 1. */
export class LabNetworkError extends namedError('LabNetworkError') {}
