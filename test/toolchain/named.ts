// Assertions on the toolchain's named errors: the error's `name` (not
// instanceof, which bundles can break) and its message.

import * as assert from 'uvu/assert';

export function throwsNamed(fn: () => unknown, name: string, re?: RegExp): void {
  try {
    fn();
  } catch (e) {
    assert.is((e as Error).name, name, (e as Error).message);
    if (re) assert.match((e as Error).message, re);
    return;
  }
  assert.unreachable(`expected ${name}`);
}

export async function rejectsNamed(p: Promise<unknown>, name: string, re?: RegExp): Promise<Error> {
  try {
    await p;
  } catch (e) {
    assert.is((e as Error).name, name, (e as Error).message);
    if (re) assert.match((e as Error).message, re);
    return e as Error;
  }
  assert.unreachable(`expected ${name}`);
  throw new Error('unreachable');
}
