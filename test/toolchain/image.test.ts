import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { grubCfg, grubWord, mkrescueArgs } from '../../toolchain/src/image.js';

test('grub.cfg: serial console, immediate boot, multiboot2 default', () => {
  const cfg = grubCfg();
  const lines = cfg.split('\n').map((l) => l.trim());
  assert.ok(lines.includes('serial --unit=0 --speed=115200'));
  assert.ok(lines.includes('terminal_input serial console'));
  assert.ok(lines.includes('terminal_output serial console'));
  assert.ok(lines.includes('set timeout=0'));
  assert.ok(lines.includes('set default=0'));
  assert.ok(lines.includes("menuentry 'crossguard (multiboot2)' {"));
  assert.ok(lines.includes('multiboot2 /boot/crossguard.elf'));
  assert.ok(lines.includes("menuentry 'crossguard (multiboot1)' {"));
  assert.ok(lines.includes('multiboot /boot/crossguard.elf'));
  assert.is(lines.filter((l) => l === 'boot').length, 2);
  assert.ok(cfg.indexOf('multiboot2 /boot') < cfg.indexOf('multiboot /boot'), 'multiboot2 entry first');
});

test('grub.cfg: multiboot1 default and a command line in both entries', () => {
  const cfg = grubCfg({ entry: 'multiboot', cmdline: 'test=vmx-basic  log=debug' });
  assert.match(cfg, /^set default=1$/m);
  assert.match(cfg, /^\tmultiboot2 \/boot\/crossguard\.elf test=vmx-basic log=debug$/m);
  assert.match(cfg, /^\tmultiboot \/boot\/crossguard\.elf test=vmx-basic log=debug$/m);
});

test('grub words are quoted when GRUB would interpret them', () => {
  assert.is(grubWord('a=b,c:d/e'), 'a=b,c:d/e');
  assert.is(grubWord('$x;y'), "'$x;y'");
  assert.is(grubWord("it's"), "'it'\\''s'");
});

test('a multi-line command line is a usage error', () => {
  try {
    grubCfg({ cmdline: 'a\nb' });
    assert.unreachable();
  } catch (e) {
    assert.is((e as Error).name, 'UsageError');
  }
});

test('grub-mkrescue runs without locales, themes and fonts', () => {
  assert.equal(mkrescueArgs('/o.iso', '/d'), ['-o', '/o.iso', '--locales=', '--themes=', '--fonts=', '/d']);
});

test.run();
