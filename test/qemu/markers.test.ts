import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LineSplitter, parseMarker } from '../../qemu/markers.js';

test('parses kind and bare fields', () => {
  assert.equal(parseMarker('@cg cpu-up id=1 apic=0x2'), { kind: 'cpu-up', fields: { id: '1', apic: '0x2' } });
});

test('parses quoted values with spaces and escapes', () => {
  const m = parseMarker('@cg panic where="vmx.c:12" msg="bad \\"thing\\" here \\\\ ok"');
  assert.equal(m, { kind: 'panic', fields: { where: 'vmx.c:12', msg: 'bad "thing" here \\ ok' } });
});

test('kind alone, empty quoted value, trailing \\r and spaces', () => {
  assert.equal(parseMarker('@cg ready\r'), { kind: 'ready', fields: {} });
  assert.equal(parseMarker('  @cg x a="" b=c  '), { kind: 'x', fields: { a: '', b: 'c' } });
});

test('non-marker lines are null', () => {
  for (const l of ['', 'hello', '@cgready', '@ cg x', 'GRUB loading', '@cg']) assert.is(parseMarker(l), null, l);
});

test('malformed lines are null, never throw', () => {
  for (const l of [
    '@cg x a="unterminated',
    '@cg x a=b"c',
    '@cg x =v',
    '@cg x a',
    '@cg x a="v"junk',
    '@cg x a="bad \\n escape"',
    '@cg "kind"',
  ])
    assert.is(parseMarker(l), null, l);
});

test('LineSplitter: partial lines across chunks and \\r\\n', () => {
  const s = new LineSplitter();
  assert.equal(s.push(Buffer.from('ab')), []);
  assert.equal(s.push(Buffer.from('c\r\nde')), ['abc']);
  assert.is(s.partial, 'de');
  assert.equal(s.push(Buffer.from('\r')), []);
  assert.equal(s.push(Buffer.from('\nx\n\ny')), ['de', 'x', '']);
  assert.is(s.flush(), 'y');
  assert.is(s.flush(), null);
});

test('LineSplitter: UTF-8 split inside a character', () => {
  const s = new LineSplitter();
  const b = Buffer.from('é\n');
  assert.equal(s.push(b.subarray(0, 1)), []);
  assert.equal(s.push(b.subarray(1)), ['é']);
});

test.run();
