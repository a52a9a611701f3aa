// A machine-protocol session over one Transport: splits what arrives into
// lines, hands replies to the RequestTracker and every other line
// (markers, guest output, people text) to listeners, and puts a timeout on
// each request. Time is injectable (a Clock), so tests never wait.

import { LineSplitter } from '../qemu/markers.js';
import { realClock, type Clock } from '../qemu/process.js';
import { ConnectionClosedError, MonitorError, ReplyTimeoutError } from './errors.js';
import { checkHello, RequestTracker, type Hello, type Response } from './protocol.js';
import type { CloseInfo, Transport } from './transport.js';

export interface SessionOptions {
  clock?: Clock;
  /** Sees every byte in both directions (the --log file). */
  log?: (b: Buffer, direction: 'in' | 'out') => void;
}

export class ConsoleSession {
  private readonly splitter = new LineSplitter();
  private readonly tracker = new RequestTracker();
  private readonly listeners: ((line: string) => void)[] = [];
  private readonly clock: Clock;
  private closedInfo: CloseInfo | undefined;

  constructor(
    readonly transport: Transport,
    private readonly opts: SessionOptions = {},
  ) {
    this.clock = opts.clock ?? realClock;
    transport.onData((b) => {
      this.opts.log?.(b, 'in');
      for (const line of this.splitter.push(b)) {
        if (this.tracker.accept(line)) continue;
        for (const cb of this.listeners) cb(line);
      }
    });
    void transport.closed.then((c) => {
      this.closedInfo = c;
      const why = c.error ? `: ${c.error.message}` : '';
      this.tracker.failAll(
        new ConnectionClosedError(`the connection to ${transport.description} closed before the monitor answered${why}`),
      );
    });
  }

  /** Every received line that is not a reply to one of our requests (markers, guest lines, people text). */
  onLine(cb: (line: string) => void): void {
    this.listeners.push(cb);
  }

  /** Sends raw bytes (people input). */
  send(b: Buffer | string): void {
    const buf = typeof b === 'string' ? Buffer.from(b) : b;
    this.opts.log?.(buf, 'out');
    this.transport.write(buf);
  }

  /**
   * Sends `line` as a request and resolves with the reply, ok or not.
   * Rejects with RequestLineError (bad line), ReplyTimeoutError (nothing
   * within timeoutMs; 0 = wait forever) or ConnectionClosedError.
   */
  call(line: string, timeoutMs: number): Promise<Response> {
    if (this.closedInfo)
      return Promise.reject(new ConnectionClosedError(`the connection to ${this.transport.description} is closed`));
    const { id, wire, reply } = this.tracker.begin(line);
    let timer: unknown;
    if (timeoutMs > 0)
      timer = this.clock.setTimeout(
        () =>
          this.tracker.abandon(
            id,
            new ReplyTimeoutError(
              `no reply to "${line.trim()}" from ${this.transport.description} within ${timeoutMs / 1000} s (is the monitor's shell running, and nobody attached to a guest console? raise --timeout for slow lines)`,
            ),
          ),
        timeoutMs,
      );
    this.send(wire);
    const stop = () => {
      if (timer !== undefined) this.clock.clearTimeout(timer);
    };
    return reply.then(
      (r) => (stop(), r),
      (e: unknown) => {
        stop();
        throw e;
      },
    );
  }

  /** Like call, but resolves with the data and rejects with MonitorError on ok:false. */
  async request(line: string, timeoutMs: number): Promise<unknown> {
    const r = await this.call(line, timeoutMs);
    if (!r.ok) throw new MonitorError(r.error);
    return r.data;
  }

  /** `hello`, checked: resolves when the monitor speaks our protocol (else ProtocolMismatchError). */
  async hello(timeoutMs: number): Promise<Hello> {
    return checkHello(await this.request('hello', timeoutMs));
  }

  close(): void {
    this.transport.close();
  }
}
