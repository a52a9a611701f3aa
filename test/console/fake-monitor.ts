// A fake monitor console for the client tests: a few commands of
// docs/console-protocol.md over TCP or a Unix socket, with the noise a real
// line has (markers, guest lines, prompts, a reply to somebody else's id)
// between every request and its reply. `hang` is never answered.

import { createServer, type Server, type Socket } from 'node:net';

export interface FakeVm {
  name: string;
  state: string;
  vcpus: number;
  mem_mib: number;
  status?: number;
}

export class FakeMonitor {
  protocol = 1;
  version = '0.1.0+fake';
  policy = 'fair';
  vms: FakeVm[] = [
    { name: 'web1', state: 'running', vcpus: 2, mem_mib: 64 },
    { name: 'db', state: 'exited', vcpus: 1, mem_mib: 32, status: 1 },
  ];
  /** Every line received, in order. */
  readonly received: string[] = [];

  /** The reply (or null: none) and the people output for one line. */
  answer(line: string): string[] {
    this.received.push(line);
    const m = /^@cg-req (\d+) (.*)$/.exec(line);
    if (!m) {
      const t = line.trim();
      if (t === '') return ['cg> '];
      if (t === 'vms') return [...this.vms.map((v) => `${v.name} ${v.state}`), 'cg> '];
      return [`error: unknown command '${t.split(' ')[0]}' (help lists them)`, 'cg> '];
    }
    const id = Number(m[1]);
    const words = m[2]!.trim().split(/\s+/);
    const noise = ['@cg sched policy=fair cpus=1', '[web1] tick', `@cg-rsp {"id":${id + 1000},"ok":true,"data":{}}`, '@cg-rsp {"id":'];
    const ok = (data: unknown) => [...noise, `@cg-rsp ${JSON.stringify({ id, ok: true, data })}`];
    const err = (error: string) => [...noise, `@cg-rsp ${JSON.stringify({ id, ok: false, error })}`];
    const vm = (name: string | undefined) => this.vms.find((v) => v.name === name);
    switch (words.join(' ').replace(/ \S+$/, ' NAME')) {
      case 'hello':
        return ok({ protocol: this.protocol, version: this.version });
      case 'hang':
        return noise;
      case 'vms':
        return ok(this.vms);
      case 'sched':
        return ok({ policy: this.policy, policies: ['fair', 'pinned', 'rt', 'rr'], vms: this.vms.map((v) => ({ name: v.name, weight: 100, cap: 0 })) });
      case 'sched policy NAME':
        if (!['fair', 'pinned', 'rt', 'rr'].includes(words[2]!)) return err(`no policy named '${words[2]}' (sched lists them)`);
        this.policy = words[2]!;
        return ok({});
      case 'vm stop NAME':
      case 'vm start NAME': {
        const v = vm(words[2]);
        if (!v) return err(`no VM named '${words[2]}' (vms lists them)`);
        v.state = words[1] === 'stop' ? 'stopped' : 'running';
        return ok({});
      }
      case 'stats':
        return ok(this.vms.map((v) => ({ name: v.name, run: 1000, steal: 10, switches: 3, exits: { cpuid: 5, io: 2 } })));
      default:
        return err(`unknown command '${words[0]}' (help lists them)`);
    }
  }

  /** Serves one connection (any duplex with write and 'data'). */
  attach(sock: Pick<Socket, 'on' | 'write'>): void {
    let pending = '';
    sock.write('cg> ');
    sock.on('data', (b: Buffer) => {
      pending += b.toString('latin1');
      const parts = pending.split('\n');
      pending = parts.pop()!;
      for (const raw of parts) {
        const out = this.answer(raw.replace(/\r$/, ''));
        // Markers start a line: finish the prompt's line first, as the monitor does.
        sock.write('\r\n' + out.map((l) => (l === 'cg> ' ? l : l + '\r\n')).join(''));
      }
    });
    sock.on('error', () => {});
  }
}

/** Listens on 127.0.0.1 (free port) or a Unix socket path; resolves with its --connect spec. */
export async function serveFake(
  monitor: FakeMonitor,
  where: { path?: string } = {},
): Promise<{ spec: string; port?: number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    monitor.attach(s);
  });
  await new Promise<void>((r) => (where.path ? server.listen(where.path, r) : server.listen(0, '127.0.0.1', r)));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : undefined;
  return {
    spec: where.path ? `unix:${where.path}` : `tcp:127.0.0.1:${port}`,
    ...(port !== undefined ? { port } : {}),
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
