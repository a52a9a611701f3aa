// Runs the uvu suites (bundled into build/js/test) and ends with one plain
// "N passed, M failed" line, so CI logs say what ran. Exit status: 0 only
// when every run passed.
//
// The Linux tier (test/boot/linux.test.ts) is one Bochs boot of several
// minutes that keeps one core busy while everything else would wait behind
// it (uvu runs files one after another). It runs as a second uvu beside the
// rest; its output is held and printed after the rest's, so the log reads
// in order. CG_TESTS_SERIAL=1 runs it in line with the rest instead.
import { spawn } from 'node:child_process';

const dir = process.argv[2] ?? 'build/js/test';
const SLOW = 'linux\\.test\\.mjs$';
const serial = process.env.CG_TESTS_SERIAL === '1';

/** One uvu over dir's files matching pattern (and not ignore); its stdout streamed or held. */
function uvu(pattern, ignore, stream) {
  const args = ['node_modules/uvu/bin.js', dir, pattern];
  if (ignore) args.push('--ignore', ignore);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (b) => {
    if (stream) process.stdout.write(b);
    out += b.toString();
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code: code ?? 1, out })));
}

function counts(out) {
  const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
  const total = Number(/Total:\s+(\d+)/.exec(plain)?.[1] ?? 0);
  const passed = Number(/Passed:\s+(\d+)/.exec(plain)?.[1] ?? 0);
  return { total, passed };
}

const runs = serial
  ? [uvu('\\.test\\.mjs$', null, true)]
  : [uvu('\\.test\\.mjs$', SLOW, true), uvu(SLOW, null, false)];
const results = [];
for (const r of runs) {
  const res = await r;
  if (results.length) process.stdout.write(`\n--- the Linux tier (run beside the rest) ---\n${res.out}`);
  results.push(res);
}
let total = 0;
let passed = 0;
for (const r of results) {
  const c = counts(r.out);
  total += c.total;
  passed += c.passed;
}
console.log(`\nuvu: ${passed} passed, ${total - passed} failed`);
process.exit(results.every((r) => r.code === 0) ? 0 : 1);
