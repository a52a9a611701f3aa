// One assertion the toolchain tests share: `fn` throws the named error
// class (the CLI's exit status and message depend on it), with a message
// matching `re` when given.

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
