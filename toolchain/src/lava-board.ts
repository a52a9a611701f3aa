// A second, small entry point for the three commands a LAVA device file
// names for an emulated board: `lava-board.mjs power-on|power-off|connect
// --board FILE`, the same as `crossguard lava board …`. LAVA runs them for
// every job (and keeps connect running as the serial line); the full CLI
// bundle costs about a second of CPU just to load, this one almost nothing,
// which matters on a loaded lab host. Errors print one line, as in cli.ts (fatal.ts).

import { exitOnError } from './fatal.js';
import { connectSerial, powerOff, powerOn, readBoardFile } from './lava/board.js';

async function main(argv: string[]): Promise<number> {
  const [verb, flag, file] = argv;
  if (!(verb === 'power-on' || verb === 'power-off' || verb === 'connect') || flag !== '--board' || !file || argv.length !== 3) {
    process.stderr.write('usage: lava-board.mjs power-on|power-off|connect --board FILE\n');
    return 2;
  }
  const b = readBoardFile(file);
  if (verb === 'power-on') await powerOn(b);
  else if (verb === 'power-off') await powerOff(b);
  else return connectSerial(b);
  return 0;
}

main(process.argv.slice(2)).then((status) => process.exit(status), exitOnError);
