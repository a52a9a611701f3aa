// The operator console's machine protocol, version 1 (docs/console-protocol.md;
// the monitor's half is firmware/include/abi/console_proto.h). This file is the whole
// client side of the wire format; nothing else builds or reads these lines.
//
// The operator serial line carries three kinds of lines at once: text for
// people (prompts, echo, `error: …`), asynchronous `@cg` markers and tagged
// guest output (`[vm] text`), and the request/response pairs below.
//
//   client → monitor   @cg-req <id> <command> [<args>...]\n
//   monitor → client   @cg-rsp {"id":<id>,"ok":true,"data":<json>}\r\n
//                      @cg-rsp {"id":<id>,"ok":false,"error":"<message>"}\r\n
//
// A request is exactly what a person would type, prefixed with the marker
// and an id (1 to 2^32-1, increasing; the monitor only echoes it back). The
// monitor reads lines into a 128-byte buffer, so a whole request line (the
// `@cg-req <id> ` prefix included, the newline not) is at most 127
// printable ASCII characters: encodeRequest refuses anything else rather
// than have the monitor answer with a people-mode `error:` line that carries
// no id. A reply is one JSON object on one line, ASCII only. The monitor
// answers in order and reads no request before it has answered the previous
// one, but markers and guest lines may come between a request and its reply,
// so the client matches replies by id and lets everything else through.
//
// Decoding is strict and never throws: a line that is not exactly a
// well-formed reply (bad JSON, a missing or mistyped field, trailing text)
// is simply not a reply, the same rule qemu/markers.ts applies to markers,
// so guest noise on the line can never crash or confuse a client.
//
// The first request of every session is `hello`; its data says which
// protocol the monitor speaks and the client stops unless that is
// PROTOCOL_VERSION.

import { ProtocolMismatchError, RequestLineError } from './errors.js';

export const PROTOCOL_VERSION = 1;

/** Longest request line the monitor accepts, without its newline. */
export const MAX_REQUEST_LINE = 127;

export const MAX_ID = 4294967295;

const REQ = '@cg-req ';
const RSP = '@cg-rsp ';

export type Response =
  | { id: number; ok: true; data: unknown }
  | { id: number; ok: false; error: string };

/** `hello`'s data. */
export interface Hello {
  protocol: number;
  version: string;
}

/** The commands of protocol 1 (for completion and help; the monitor is the authority). */
export const COMMANDS: readonly string[] = [
  'hello',
  'version',
  'help',
  'cpus',
  'mem',
  'vms',
  'vm start',
  'vm stop',
  'vm reset',
  'vm pause',
  'vm resume',
  'vm nmi',
  'stats',
  'disks',
  'net',
  'net probe',
  'sched',
  'sched policy',
  'sched weight',
  'sched cap',
  'console',
  'log',
  'reboot',
  'halt',
];

/**
 * The wire form of request `id` carrying `line` (a command as a person
 * would type it). Throws RequestLineError for a line the monitor would not
 * read as one request.
 */
export function encodeRequest(id: number, line: string): string {
  if (!Number.isInteger(id) || id < 1 || id > MAX_ID)
    throw new RequestLineError(`request id ${id} is out of range (1 to ${MAX_ID})`);
  const text = line.replace(/^ +| +$/g, '');
  if (text === '') throw new RequestLineError('empty request: name a command (help lists them)');
  const bad = /[^\x20-\x7e]/.exec(text);
  if (bad) {
    const code = bad[0].charCodeAt(0);
    const what = bad[0] === '\n' || bad[0] === '\r' ? 'a line break' : `the byte 0x${code.toString(16).padStart(2, '0')}`;
    throw new RequestLineError(
      `request "${printable(text)}" contains ${what}; the console takes one line of printable ASCII per request`,
    );
  }
  const wire = `${REQ}${id} ${text}`;
  if (wire.length > MAX_REQUEST_LINE)
    throw new RequestLineError(
      `request "${text.slice(0, 40)}…" is too long: ${wire.length} characters with its @cg-req prefix, the monitor reads at most ${MAX_REQUEST_LINE} per line; shorten the arguments`,
    );
  return wire + '\n';
}

/**
 * The reply carried by one serial line (a trailing \r is ignored), or null
 * when the line is anything else or malformed. Never throws.
 */
export function parseResponse(line: string): Response | null {
  const s = line.endsWith('\r') ? line.slice(0, -1) : line;
  if (!s.startsWith(RSP)) return null;
  let v: unknown;
  try {
    v = JSON.parse(s.slice(RSP.length));
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const o = v as Record<string, unknown>;
  const id = o.id;
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 1 || id > MAX_ID) return null;
  if (o.ok === true) {
    if (!('data' in o) || o.data === undefined) return null;
    return { id, ok: true, data: o.data };
  }
  if (o.ok === false) {
    if (typeof o.error !== 'string') return null;
    return { id, ok: false, error: o.error };
  }
  return null;
}

/**
 * Checks `hello`'s data: returns it when the monitor speaks PROTOCOL_VERSION,
 * throws ProtocolMismatchError otherwise.
 */
export function checkHello(data: unknown): Hello {
  const o = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
  if (typeof o.protocol !== 'number')
    throw new ProtocolMismatchError(
      `the far end answered hello without a protocol number (${printable(JSON.stringify(data) ?? '')}); is this a crossguard monitor console?`,
    );
  if (o.protocol !== PROTOCOL_VERSION)
    throw new ProtocolMismatchError(
      `the monitor speaks console protocol ${o.protocol}, this client speaks ${PROTOCOL_VERSION}; use the crossguard toolchain that matches the monitor (version ${String(o.version ?? 'unknown')})`,
    );
  return { protocol: o.protocol, version: typeof o.version === 'string' ? o.version : '' };
}

interface Waiter {
  resolve: (r: Response) => void;
  reject: (e: Error) => void;
}

/**
 * Hands out request ids and matches reply lines to them. The caller writes
 * `wire` to the line and feeds every received line to `accept`; a reply to
 * an outstanding id settles its promise, everything else (markers, guest
 * lines, prompts, replies to requests given up on) is left to the caller.
 */
export class RequestTracker {
  private nextId: number;
  private readonly waiting = new Map<number, Waiter>();

  constructor(firstId = 1) {
    this.nextId = firstId;
  }

  /** Encodes a request for `line` (throws RequestLineError) and registers its id. */
  begin(line: string): { id: number; wire: string; reply: Promise<Response> } {
    const id = this.nextId;
    const wire = encodeRequest(id, line);
    this.nextId = id >= MAX_ID ? 1 : id + 1;
    let waiter!: Waiter;
    const reply = new Promise<Response>((resolve, reject) => (waiter = { resolve, reject }));
    this.waiting.set(id, waiter);
    return { id, wire, reply };
  }

  /**
   * Looks at one received line: when it is the reply to an outstanding
   * request, settles that request and returns the reply; otherwise null.
   * A people-mode prompt left in front of the reply (`cg> @cg-rsp …`) is
   * tolerated.
   */
  accept(line: string): Response | null {
    let r = parseResponse(line);
    if (!r) {
      const at = line.indexOf(RSP);
      if (at > 0 && /^(cg> )+\s*$/.test(line.slice(0, at))) r = parseResponse(line.slice(at));
    }
    if (!r) return null;
    const w = this.waiting.get(r.id);
    if (!w) return null;
    this.waiting.delete(r.id);
    w.resolve(r);
    return r;
  }

  /** Stops waiting for request `id`, rejecting its promise with `e`. */
  abandon(id: number, e: Error): void {
    const w = this.waiting.get(id);
    if (!w) return;
    this.waiting.delete(id);
    w.reject(e);
  }

  /** Rejects every outstanding request (the line closed). */
  failAll(e: Error): void {
    for (const id of [...this.waiting.keys()]) this.abandon(id, e);
  }

  get pending(): number {
    return this.waiting.size;
  }
}

function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '?').slice(0, 60);
}
