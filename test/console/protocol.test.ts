import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  checkHello,
  encodeRequest,
  MAX_REQUEST_LINE,
  parseResponse,
  PROTOCOL_VERSION,
  RequestTracker,
  type Response,
} from '../../console/protocol.js';

const named = (name: string) => (e: Error) => e.name === name;

test('encodeRequest: the wire form', () => {
  assert.is(encodeRequest(1, 'hello'), '@cg-req 1 hello\n');
  assert.is(encodeRequest(4294967295, '  vm stop web1 '), '@cg-req 4294967295 vm stop web1\n');
});

test('encodeRequest: rejects what the monitor would not read as one request', () => {
  for (const bad of ['vms\nhalt', 'vms\r', 'a\x1bb', 'tab\there', 'caf\u00e9', '', '   '])
    assert.throws(() => encodeRequest(1, bad), named('RequestLineError'), JSON.stringify(bad));
  for (const id of [0, -1, 1.5, 4294967296]) assert.throws(() => encodeRequest(id, 'vms'), named('RequestLineError'));
});

test('encodeRequest: 127 characters with the prefix is the limit', () => {
  const prefix = '@cg-req 7 '.length;
  const fits = 'x'.repeat(MAX_REQUEST_LINE - prefix);
  assert.is(encodeRequest(7, fits).length, MAX_REQUEST_LINE + 1);
  assert.throws(() => encodeRequest(7, fits + 'x'), (e: Error) => e.name === 'RequestLineError' && /127/.test(e.message));
  assert.throws(() => encodeRequest(1, 'x'.repeat(10_000)), named('RequestLineError'));
});

test('parseResponse: ok and error replies, \\r tolerated', () => {
  assert.equal(parseResponse('@cg-rsp {"id":3,"ok":true,"data":[1,2]}'), { id: 3, ok: true, data: [1, 2] });
  assert.equal(parseResponse('@cg-rsp {"id":3,"ok":true,"data":null}\r'), { id: 3, ok: true, data: null });
  assert.equal(parseResponse('@cg-rsp {"id":9,"ok":false,"error":"no VM named \'x\' (vms lists them)"}'), {
    id: 9,
    ok: false,
    error: "no VM named 'x' (vms lists them)",
  });
  assert.equal(parseResponse('@cg-rsp {"id":1,"ok":true,"data":{"s":"\\u00e9"}}'), { id: 1, ok: true, data: { s: '\u00e9' } });
});

test('parseResponse: anything else is null, never an exception', () => {
  const bad = [
    '',
    'cg> ',
    '@cg vm-start name=web1 vcpus=1 mem=16',
    '[web1] @cg-rsp {"id":1,"ok":true,"data":{}}',
    ' @cg-rsp {"id":1,"ok":true,"data":{}}',
    '@cg-rsp',
    '@cg-rsp ',
    '@cg-rsp {"id":1,"ok":true,"data":{}',
    '@cg-rsp {"id":1,"ok":true,"data":{}} trailing',
    '@cg-rsp {"id":1,"ok":true}',
    '@cg-rsp {"id":1,"ok":false}',
    '@cg-rsp {"id":1,"ok":false,"error":5}',
    '@cg-rsp {"id":1,"ok":"yes","data":{}}',
    '@cg-rsp {"id":"1","ok":true,"data":{}}',
    '@cg-rsp {"id":0,"ok":true,"data":{}}',
    '@cg-rsp {"id":1.5,"ok":true,"data":{}}',
    '@cg-rsp {"ok":true,"data":{}}',
    '@cg-rsp [1,2]',
    '@cg-rsp null',
    '@cg-rsp "x"',
    '@cg-rspx {"id":1,"ok":true,"data":{}}',
    '@cg-rsp \u0000\u00ff{',
  ];
  for (const l of bad) assert.is(parseResponse(l), null, JSON.stringify(l));
});

test('encode and parse mirror each other on ids', () => {
  for (const id of [1, 2, 99, 4294967295]) {
    const wire = encodeRequest(id, 'hello');
    const got = Number(/^@cg-req (\d+) /.exec(wire)![1]);
    assert.equal(parseResponse(`@cg-rsp ${JSON.stringify({ id: got, ok: true, data: {} })}`), { id, ok: true, data: {} });
  }
});

test('RequestTracker: ids increase, replies matched among interleaved lines', async () => {
  const t = new RequestTracker();
  const a = t.begin('hello');
  const b = t.begin('vms');
  assert.is(a.id, 1);
  assert.is(b.id, 2);
  assert.is(a.wire, '@cg-req 1 hello\n');
  const seen: (Response | null)[] = [];
  for (const l of [
    '@cg vm-exit name=web1 status=1',
    '[db] starting',
    '@cg-rsp {"id":77,"ok":true,"data":{}}', // nobody asked
    '@cg-rsp {"id":2,"ok":true,"data"', // garbled
    'cg> @cg-rsp {"id":1,"ok":true,"data":{"protocol":1,"version":"v"}}',
    '@cg-rsp {"id":2,"ok":false,"error":"busy"}',
    '@cg-rsp {"id":2,"ok":true,"data":{}}', // already answered
  ])
    seen.push(t.accept(l));
  assert.equal(seen.map((r) => r?.id ?? null), [null, null, null, null, 1, 2, null]);
  assert.equal(await a.reply, { id: 1, ok: true, data: { protocol: 1, version: 'v' } });
  assert.equal(await b.reply, { id: 2, ok: false, error: 'busy' });
  assert.is(t.pending, 0);
});

test('RequestTracker: a bad line takes no id; abandon and failAll reject', async () => {
  const t = new RequestTracker();
  assert.throws(() => t.begin('a\nb'), named('RequestLineError'));
  const a = t.begin('vms');
  assert.is(a.id, 1);
  const b = t.begin('sched');
  t.abandon(a.id, new Error('timeout'));
  t.failAll(new Error('closed'));
  await a.reply.then(() => assert.unreachable(), (e: Error) => assert.is(e.message, 'timeout'));
  await b.reply.then(() => assert.unreachable(), (e: Error) => assert.is(e.message, 'closed'));
  assert.is(t.accept('@cg-rsp {"id":1,"ok":true,"data":{}}'), null, 'late replies are not taken');
});

test('RequestTracker: ids wrap from 2^32-1 to 1', () => {
  const t = new RequestTracker(4294967295);
  assert.is(t.begin('vms').id, 4294967295);
  assert.is(t.begin('vms').id, 1);
});

test('checkHello', () => {
  assert.is(PROTOCOL_VERSION, 1);
  assert.equal(checkHello({ protocol: 1, version: '0.1.0' }), { protocol: 1, version: '0.1.0' });
  assert.throws(() => checkHello({ protocol: 2, version: '9' }), (e: Error) => e.name === 'ProtocolMismatchError' && /protocol 2/.test(e.message));
  for (const d of [null, {}, 'x', { protocol: '1' }]) assert.throws(() => checkHello(d), named('ProtocolMismatchError'));
});

test.run();
