// Runs the uvu suites (bundled into build/js/test) and ends with one plain
// "N passed, M failed" line, so CI logs say what ran, and the wall time of
// each test file, slowest first, so the log also says where `make test`'s
// 15-minute budget goes. A file's time runs from its name to the next
// file's; the emulator boots are pooled across files (test/boot/pool.ts),
// so a file whose boots ran while an earlier one was waiting shows little
// and the earlier one carries them. Exit status is uvu's.
import { spawn } from 'node:child_process';

const dir = process.argv[2] ?? 'build/js/test';
const child = spawn(process.execPath, ['node_modules/uvu/bin.js', dir, '\\.test\\.mjs$'], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
const started = Date.now();
let out = '';
let partial = '';
/** [file, start ms] in the order uvu ran them: it prints each file's name on a line of its own. */
const files = [];
child.stdout.on('data', (b) => {
  process.stdout.write(b);
  const s = b.toString();
  out += s;
  const lines = (partial + s).split('\n');
  partial = lines.pop() ?? '';
  for (const line of lines) {
    const name = line.replace(/\x1b\[[0-9;]*m/g, '').trim();
    if (/^[\w./-]+\.test\.mjs$/.test(name)) files.push([name, Date.now()]);
  }
});
child.on('close', (code) => {
  const ended = Date.now();
  const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
  const total = Number(/Total:\s+(\d+)/.exec(plain)?.[1] ?? 0);
  const passed = Number(/Passed:\s+(\d+)/.exec(plain)?.[1] ?? 0);
  const times = files.map(([name, t], i) => [name, (files[i + 1]?.[1] ?? ended) - t]);
  times.sort((a, b) => b[1] - a[1]);
  console.log(`\ntest files by wall time (${((ended - started) / 1000).toFixed(0)} s in all):`);
  for (const [name, ms] of times) console.log(`  ${(ms / 1000).toFixed(1).padStart(7)} s  ${name}`);
  console.log(`\nuvu: ${passed} passed, ${total - passed} failed`);
  process.exit(code ?? 1);
});
