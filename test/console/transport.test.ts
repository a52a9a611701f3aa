import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConsoleSession } from '../../console/session.js';
import { formatSpec, parseSpec } from '../../console/spec.js';
import { connect } from '../../console/transport.js';
import { configureLine, openSerial, sttyArgs } from '../../console/transports/serial.js';
import { FakeSpawner, flush } from '../qemu/fakes.js';
import { FakeMonitor, serveFake } from './fake-monitor.js';

const named = (name: string) => (e: Error) => e.name === name;
const tmp = mkdtempSync(join(tmpdir(), 'cg-console-transport-'));

test('parseSpec: every kind', () => {
  assert.equal(parseSpec('tcp:127.0.0.1:4555'), { kind: 'tcp', host: '127.0.0.1', port: 4555 });
  assert.equal(parseSpec('tcp:[::1]:4555'), { kind: 'tcp', host: '::1', port: 4555 });
  assert.equal(parseSpec('tcp:lab-console.example:7001'), { kind: 'tcp', host: 'lab-console.example', port: 7001 });
  assert.equal(parseSpec('unix:/run/cg.sock'), { kind: 'unix', path: '/run/cg.sock' });
  assert.equal(parseSpec('serial:/dev/ttyS0'), { kind: 'serial', device: '/dev/ttyS0', baud: 115200 });
  assert.equal(parseSpec('serial:/dev/ttyUSB1@9600'), { kind: 'serial', device: '/dev/ttyUSB1', baud: 9600 });
  assert.equal(parseSpec('ssh://admin@bmc1.lab'), { kind: 'ssh', user: 'admin', host: 'bmc1.lab', port: 22 });
  assert.equal(parseSpec('ssh://root@127.0.0.1:2222?cmd=console%20web'), {
    kind: 'ssh',
    user: 'root',
    host: '127.0.0.1',
    port: 2222,
    command: 'console web',
  });
  for (const s of ['tcp:127.0.0.1:4555', 'unix:/x', 'serial:/dev/ttyS0@115200', 'ssh://a@h', 'ssh://a@h:2222?cmd=x%20y'])
    assert.is(formatSpec(parseSpec(s)), s);
});

test('parseSpec: errors name the spec and the fix', () => {
  const bad = [
    '127.0.0.1:4555',
    'tcp:host',
    'tcp:h:0',
    'tcp:h:99999',
    'tcp:h:http',
    'unix:',
    'serial:ttyS0',
    'serial:/dev/ttyS0@12345',
    'serial:/dev/ttyS0@fast',
    'ssh://bmc1.lab',
    'ssh://a:secret@bmc1.lab',
    'ssh://a@h/path',
    'ssh://a@h?x=1',
    'ssh://a@h?cmd=',
    'ssh://a@h:99999',
    'telnet://h',
  ];
  for (const b of bad)
    assert.throws(
      () => parseSpec(b),
      (e: Error) => e.name === 'ConsoleSpecError' && e.message.startsWith(`--connect ${b}:`) && (e as { exitCode?: number }).exitCode === 2,
      b,
    );
});

async function helloAndVms(spec: string, monitor: FakeMonitor) {
  const t = await connect(spec, { timeoutMs: 5000 });
  const s = new ConsoleSession(t);
  const other: string[] = [];
  s.onLine((l) => other.push(l));
  const hello = await s.hello(5000);
  const vms = await s.request('vms', 5000);
  s.close();
  assert.equal((await t.closed).by, 'local');
  assert.equal(hello, { protocol: 1, version: monitor.version });
  assert.equal(vms, monitor.vms);
  assert.ok(other.includes('@cg sched policy=fair cpus=1'), 'markers reach the line listeners');
  assert.ok(other.includes('[web1] tick'), 'guest lines too');
  assert.equal(monitor.received, ['@cg-req 1 hello', '@cg-req 2 vms']);
}

test('tcp: hello and vms against the fake monitor', async () => {
  const m = new FakeMonitor();
  const srv = await serveFake(m);
  try {
    await helloAndVms(srv.spec, m);
  } finally {
    await srv.close();
  }
});

test('unix: hello and vms against the fake monitor', async () => {
  const m = new FakeMonitor();
  const srv = await serveFake(m, { path: join(tmp, 'console.sock') });
  try {
    await helloAndVms(srv.spec, m);
  } finally {
    await srv.close();
  }
});

test('tcp/unix: refused and missing are ConnectErrors (exit 4) with the fix', async () => {
  const srv = await serveFake(new FakeMonitor());
  const spec = srv.spec;
  await srv.close();
  await connect(spec).then(
    () => assert.unreachable(),
    (e: Error & { exitCode: number }) => {
      assert.is(e.name, 'ConnectError');
      assert.is(e.exitCode, 4);
      assert.match(e.message, /connection refused/);
      assert.match(e.message, /crossguard run --console/);
    },
  );
  await connect(`unix:${join(tmp, 'nobody.sock')}`).then(
    () => assert.unreachable(),
    (e: Error) => assert.ok(e.name === 'ConnectError' && /no such socket/.test(e.message), e.message),
  );
});

test('the far end closing is seen by the transport and fails outstanding requests', async () => {
  const m = new FakeMonitor();
  const srv = await serveFake(m);
  const t = await connect(srv.spec);
  const s = new ConsoleSession(t);
  const pending = s.request('hang', 0);
  await new Promise((r) => setTimeout(r, 50));
  await srv.close();
  assert.is((await t.closed).by, 'remote');
  await pending.then(() => assert.unreachable(), (e: Error & { exitCode: number }) => {
    assert.is(e.name, 'ConnectionClosedError');
    assert.is(e.exitCode, 4);
  });
});

test('serial: stty raw at the baud rate, through the injected spawner', async () => {
  const sp = new FakeSpawner();
  const spec = { kind: 'serial' as const, device: '/dev/ttyS1', baud: 57600 };
  assert.equal(sttyArgs(spec), ['-F', '/dev/ttyS1', '57600', 'raw', '-echo']);
  const ok = configureLine(spec, sp.spawn);
  await flush();
  assert.is(sp.calls[0]!.cmd, 'stty');
  assert.equal(sp.calls[0]!.args, ['-F', '/dev/ttyS1', '57600', 'raw', '-echo']);
  sp.children[0]!.exit({ code: 0, signal: null });
  await ok;

  const bad = configureLine(spec, sp.spawn);
  await flush();
  sp.children[1]!.stderr.write("stty: /dev/ttyS1: Inappropriate ioctl for device\n");
  await flush();
  sp.children[1]!.exit({ code: 1, signal: null });
  await bad.then(
    () => assert.unreachable(),
    (e: Error & { exitCode: number }) => {
      assert.is(e.name, 'ConnectError');
      assert.is(e.exitCode, 4);
      assert.match(e.message, /Inappropriate ioctl/);
      assert.match(e.message, /dialout/);
    },
  );
});

test('serial: a missing device is a ConnectError before stty runs', async () => {
  const sp = new FakeSpawner();
  await openSerial({ kind: 'serial', device: '/dev/ttyCG-missing', baud: 115200 }, { spawner: sp.spawn }).then(
    () => assert.unreachable(),
    (e: Error) => assert.ok(named('ConnectError')(e) && /no serial device \/dev\/ttyCG-missing/.test(e.message), e.message),
  );
  assert.is(sp.calls.length, 0);
});

test('serial: a FIFO opened read-write is a loopback plug', async () => {
  const fifo = join(tmp, 'loop');
  execFileSync('mkfifo', [fifo]);
  const sp = new FakeSpawner();
  const opening = openSerial({ kind: 'serial', device: fifo, baud: 115200 }, { spawner: sp.spawn });
  await flush();
  assert.equal(sp.calls[0]!.args, ['-F', fifo, '115200', 'raw', '-echo']);
  sp.children[0]!.exit({ code: 0, signal: null });
  const t = await opening;
  const got: Buffer[] = [];
  const echoed = new Promise<void>((r) =>
    t.onData((b) => {
      got.push(b);
      if (Buffer.concat(got).includes('\n')) r();
    }),
  );
  t.write('@cg-req 1 hello\n');
  await echoed;
  assert.is(Buffer.concat(got).toString(), '@cg-req 1 hello\n');
  t.close();
  assert.is((await t.closed).by, 'local');
});

test.after(() => rmSync(tmp, { recursive: true, force: true }));

test.run();
