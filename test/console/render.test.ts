import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cell, render, table } from '../../console/render.js';

test('render: lists of objects are tables, numbers right-aligned', () => {
  assert.equal(table([{ name: 'web1', run: 5 }, { name: 'db', run: 1234, status: 1 }]), [
    'NAME   RUN  STATUS',
    'web1     5       -',
    'db    1234       1',
  ]);
});

test('render: objects, nested objects, empty results', () => {
  assert.equal(render({}), []);
  assert.equal(render([]), ['(none)']);
  assert.equal(render({ version: '0.1.0' }), ['version: 0.1.0']);
  assert.equal(render({ policy: 'fair', policies: ['fair', 'rr'], vms: [{ name: 'a', weight: 100 }] }), [
    'policy: fair',
    'policies: fair, rr',
    'vms:',
    '  NAME  WEIGHT',
    '  a        100',
  ]);
  assert.equal(render({ lines: ['one', 'two'] }), ['lines:', '  one', '  two']);
  assert.is(cell({ cpuid: 3, io: 1 }), 'cpuid=3 io=1');
});

test.run();
