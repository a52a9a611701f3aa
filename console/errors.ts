// Named errors of the console client. Each extends the toolchain's
// CrossguardError, so the CLI's one top-level handler prints it as a single
// `crossguard: <message>` line and exits with its status:
//   1 the monitor answered ok:false      (MonitorError)
//   2 usage                              (ConsoleSpecError, RequestLineError)
//   3 no reply in time                   (ReplyTimeoutError)
//   4 connection failed, closed, or not a protocol-1 monitor
//     (ConnectError, ConnectionClosedError, ProtocolMismatchError)

import { namedError, UsageError } from '../qemu/errors.js';

/** A --connect spec that does not parse. Exit 2. */
export class ConsoleSpecError extends namedError('ConsoleSpecError', 2, UsageError) {}

/** A request line the protocol cannot carry (newline, control byte, too long). Exit 2. */
export class RequestLineError extends namedError('RequestLineError', 2, UsageError) {}

/** The monitor answered the request with ok:false; the message is its error text. Exit 1. */
export class MonitorError extends namedError('MonitorError') {}

/** No reply within --timeout. Exit 3. */
export class ReplyTimeoutError extends namedError('ReplyTimeoutError', 3) {}

/** The transport could not be opened (refused, no device, SSH auth or host key). Exit 4. */
export class ConnectError extends namedError('ConnectError', 4) {}

/** The line closed while a reply was awaited. Exit 4. */
export class ConnectionClosedError extends namedError('ConnectionClosedError', 4) {}

/** `hello` did not answer protocol 1: not a crossguard monitor, or a newer one. Exit 4. */
export class ProtocolMismatchError extends namedError('ProtocolMismatchError', 4) {}
