// Named errors of `crossguard deploy`. Each says what happened to the
// server (nothing, or the release left live) and what to do; the CLI
// prints it as one `crossguard: …` line.

import { namedError } from '../../../qemu/errors.js';

/** Bad arguments or a local tree deploy cannot use (--to, --keep, manifest.json). Exit 2; nothing was changed. */
export class DeployInputError extends namedError('DeployInputError', 2) {}

/** Could not connect or log in (refused, host key unknown or changed, login refused). Exit 4; nothing was changed. */
export class DeployConnectError extends namedError('DeployConnectError', 4) {}

/** The connection broke during the deploy; the live release was not touched. Exit 4. */
export class DeployConnectionLostError extends namedError('DeployConnectionLostError', 4) {}

/** The target path cannot be written (permission denied, read-only server). Exit 1; nothing was changed. */
export class DeployAccessError extends namedError('DeployAccessError') {}

/** A file on the server does not have the manifest's size or SHA-256; the live release was not touched. Exit 1. */
export class DeployVerifyError extends namedError('DeployVerifyError') {}

/** The server's tree is not what deploy expects (a foreign manifest, nothing to roll back to, an SFTP failure). Exit 1. */
export class DeployServerError extends namedError('DeployServerError') {}
