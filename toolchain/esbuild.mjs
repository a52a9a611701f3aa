// Bundles the CLI and every test and benchmark file with esbuild. Type checking is tsc's
// job (make typecheck); esbuild only strips types, which keeps this fast.
import { build } from 'esbuild';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith('.test.ts') || name.endsWith('.bench.ts')) out.push(p);
  }
  return out;
}

const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: 'inline',
  logLevel: 'warning',
  absWorkingDir: root,
};

await build({
  ...common,
  entryPoints: ['toolchain/src/cli.ts'],
  outfile: 'build/js/crossguard.mjs',
  banner: { js: '#!/usr/bin/env node' },
});

// The emulated LAVA board's power and serial commands: run for every job, so small to load.
await build({
  ...common,
  entryPoints: ['toolchain/src/lava-board.ts'],
  outfile: 'build/js/lava-board.mjs',
  sourcemap: false,
});

const tests = findTests(join(root, 'test'));
await build({
  ...common,
  entryPoints: tests.map((t) => relative(root, t)),
  outdir: 'build/js/test',
  outbase: 'test',
  outExtension: { '.js': '.mjs' },
});
