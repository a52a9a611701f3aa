// Named errors of BMC power control (IPMI through ipmitool). Each says what
// to change; the CLI prints it as one `crossguard: …` line.

import { namedError, UsageError } from '../../../qemu/errors.js';

/** A --bmc address, a missing password or a password file that cannot be read. Exit 2. */
export class BmcInputError extends namedError('BmcInputError', 2, UsageError) {}

/** ipmitool is not installed. Exit 1. */
export class IpmitoolMissingError extends namedError('IpmitoolMissingError') {}

/** No answer from the BMC (wrong address or port, BMC down, firewall). Exit 4. */
export class BmcUnreachableError extends namedError('BmcUnreachableError', 4) {}

/** The BMC refused the user name or the password. Exit 4. */
export class BmcAuthError extends namedError('BmcAuthError', 4) {}

/** The BMC answered but the command failed (not supported, busy, in the wrong state). Exit 1. */
export class BmcCommandError extends namedError('BmcCommandError') {}
