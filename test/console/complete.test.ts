import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { complete, namesFrom } from '../../console/complete.js';

test('complete: commands, sub-commands, VM and policy names', () => {
  const names = { vms: ['web1', 'web2', 'db'], policies: ['fair', 'rr'] };
  assert.equal(complete('v', names), [['version', 'vm', 'vms'], 'v']);
  assert.equal(complete('vm st', names), [['start', 'stop'], 'st']);
  assert.equal(complete('vm stop w', names), [['web1', 'web2'], 'w']);
  assert.equal(complete('console d', names), [['db '], 'd']);
  assert.equal(complete('sched policy ', names), [['fair', 'rr'], '']);
  assert.equal(namesFrom([{ name: 'a' }, { x: 1 }], { policies: ['fair', 3] }), { vms: ['a'], policies: ['fair'] });
  assert.equal(namesFrom(null, null), { vms: [], policies: [] });
});

test.run();
