// toolchain/check-layers.mjs (`make layers`) on small trees made here with
// the project's real layer table: a tree that keeps the table passes, and
// each kind of bad include or call fails with the file, the line and what
// the table allows.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const ROOT = resolve(process.env.CG_ROOT ?? process.cwd());
const CHECK = join(ROOT, 'toolchain', 'check-layers.mjs');

type Files = Record<string, string>;

const GOOD: Files = {
  'firmware/include/cg/types.h': '#pragma once\ntypedef unsigned int u32;\n',
  'firmware/lib/log.h': '#include <cg/types.h>\nvoid klog(u32 x);\n',
  'firmware/lib/log.c': '#include "lib/log.h"\nvoid klog(u32 x) { (void)x; }\n',
  'firmware/core/vm.h': '#pragma once\n#include <cg/types.h>\nstruct vm { u32 id; };\nvoid vm_private(void);\n',
  'firmware/core/virt.h':
    '#include "core/vm.h"\n/* arch for core */\nint arch_vcpu_run(struct vm *vm);\n/* core for arch */\nvoid virt_vm_end(struct vm *vm);\n',
  'firmware/core/vm.c':
    '#include "core/vm.h"\n#include "core/virt.h"\n#include "lib/log.h"\n' +
    'void vm_private(void) {}\nvoid virt_vm_end(struct vm *vm) { klog(vm->id); arch_vcpu_run(vm); }\n',
  'firmware/arch/x86/vmx/run.c':
    '#include "core/virt.h"\n#include "lib/log.h"\nint arch_vcpu_run(struct vm *vm) { klog(1); virt_vm_end(vm); return 0; }\n',
};

function makeTree(files: Files): string {
  const dir = mkdtempSync(join(tmpdir(), 'cg-layers-'));
  mkdirSync(join(dir, 'firmware'), { recursive: true });
  copyFileSync(join(ROOT, 'firmware', 'layers.txt'), join(dir, 'firmware', 'layers.txt'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

/** Compiles every .c of the tree into obj/ the way the Makefile lays objects out. */
function compile(dir: string, files: Files): string {
  const obj = join(dir, 'obj');
  for (const path of Object.keys(files).filter((p) => p.endsWith('.c'))) {
    const out = join(obj, path.replace(/\.c$/, '.o'));
    mkdirSync(dirname(out), { recursive: true });
    const cc = spawnSync('gcc', ['-c', '-ffreestanding', `-I${join(dir, 'firmware')}`, `-I${join(dir, 'firmware', 'include')}`, '-o', out, join(dir, path)], { encoding: 'utf8' });
    assert.is(cc.status, 0, cc.stderr);
  }
  return obj;
}

function check(files: Files, withObjects = false) {
  const dir = makeTree(files);
  try {
    const args = [CHECK, '--root', dir];
    if (withObjects) args.push('--objects', compile(dir, files));
    const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
    return { status: r.status, out: r.stdout + r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a tree that keeps the table passes, includes and calls', () => {
  const r = check(GOOD, true);
  assert.is(r.status, 0, r.out);
  assert.match(r.out, 'every include and call follows firmware/layers.txt');
});

test('lib including core fails with file, line and the allowed direction', () => {
  const r = check({ ...GOOD, 'firmware/lib/log.c': '#include "lib/log.h"\n\n#include "core/vm.h"\nvoid klog(u32 x) { (void)x; }\n' });
  assert.is(r.status, 1, r.out);
  assert.match(r.out, 'firmware/lib/log.c:3: lib includes core/vm.h (core): against the table; lib may use');
  assert.match(r.out, 'layers: 1 includes against firmware/layers.txt');
});

test('arch may include core/virt.h and no other core header', () => {
  const r = check({ ...GOOD, 'firmware/arch/x86/vmx/run.c': '#include "core/vm.h"\n' + GOOD['firmware/arch/x86/vmx/run.c'] });
  assert.is(r.status, 1, r.out);
  assert.match(r.out, 'firmware/arch/x86/vmx/run.c:1: arch includes core/vm.h (core)');
  assert.match(r.out, 'of core only core/virt.h');
});

test('arch headers are arch\'s own: core may not include them', () => {
  const r = check({
    ...GOOD,
    'firmware/arch/x86/vmx/vmcs.h': 'void vmcs_write(void);\n',
    'firmware/core/vm.c': '#include "arch/x86/vmx/vmcs.h"\n' + GOOD['firmware/core/vm.c'],
  });
  assert.is(r.status, 1, r.out);
  assert.match(r.out, 'firmware/core/vm.c:1: core includes arch/x86/vmx/vmcs.h (arch)');
  assert.match(r.out, 'arch only through core/virt.h');
});

test('an include must name its layer', () => {
  const r = check({ ...GOOD, 'firmware/core/vm.c': GOOD['firmware/core/vm.c'].replace('"core/vm.h"', '"vm.h"') });
  assert.is(r.status, 1, r.out);
  assert.match(r.out, 'firmware/core/vm.c:1: #include "vm.h" does not name its layer: write "core/vm.h"');
});

test('a call that goes up through a hand-written declaration fails on the objects', () => {
  const r = check(
    {
      ...GOOD,
      'firmware/arch/x86/vmx/run.c':
        '#include "core/virt.h"\nvoid vm_private(void);\nint arch_vcpu_run(struct vm *vm) {\n\tvm_private();\n\tvirt_vm_end(vm);\n\treturn 0;\n}\n',
    },
    true,
  );
  assert.is(r.status, 1, r.out);
  assert.match(r.out, 'firmware/arch/x86/vmx/run.c:2: arch calls vm_private (core, firmware/core/vm)');
  assert.not.match(r.out, 'virt_vm_end (core');
});

test('lib calling up into core fails on the objects', () => {
  const r = check({ ...GOOD, 'firmware/lib/log.c': '#include "lib/log.h"\nvoid vm_private(void);\nvoid klog(u32 x) { (void)x; vm_private(); }\n' }, true);
  assert.is(r.status, 1, r.out);
  assert.match(r.out, 'lib calls vm_private (core, firmware/core/vm): against the table; lib may use');
});

test('a table line it cannot read is a clear error', () => {
  const dir = makeTree(GOOD);
  try {
    writeFileSync(join(dir, 'firmware', 'layers.txt'), 'layer core core uses lib\n');
    const r = spawnSync(process.execPath, [CHECK, '--root', dir], { encoding: 'utf8' });
    assert.is(r.status, 2);
    assert.match(r.stderr, 'firmware/layers.txt:1: write "layer NAME FOLDER... : uses NAME..."');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
