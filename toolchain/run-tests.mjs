// Runs the uvu suites (bundled into build/js/test) and ends with one plain
// "N passed, M failed" line, so CI logs say what ran. Exit status is uvu's.
import { spawn } from 'node:child_process';

const dir = process.argv[2] ?? 'build/js/test';
const child = spawn(process.execPath, ['node_modules/uvu/bin.js', dir, '\\.test\\.mjs$'], {
  stdio: ['ignore', 'pipe', 'inherit'],
});
let out = '';
child.stdout.on('data', (b) => {
  process.stdout.write(b);
  out += b.toString();
});
child.on('close', (code) => {
  const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
  const total = Number(/Total:\s+(\d+)/.exec(plain)?.[1] ?? 0);
  const passed = Number(/Passed:\s+(\d+)/.exec(plain)?.[1] ?? 0);
  console.log(`\nuvu: ${passed} passed, ${total - passed} failed`);
  process.exit(code ?? 1);
});
