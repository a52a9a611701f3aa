// crossguard pxe-http-serve DIR --listen HOST:PORT (hidden): the HTTP half of
// the emulated lab network, started by run --boot pxe inside its namespace
// (pxe/labnet.ts). Prints "listening on …", then one line per request, until
// SIGTERM.

import { UsageError } from '../../../qemu/errors.js';
import { serveTree } from '../pxe/http.js';

export interface PxeHttpArgs {
  dir: string;
  listen: string;
  prefix?: string;
}

export default async function main(a: PxeHttpArgs): Promise<number> {
  const m = /^([0-9.]+):(\d{1,5})$/.exec(a.listen);
  if (!m) throw new UsageError(`--listen ${a.listen} is not IPV4:PORT`);
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const server = await serveTree(a.dir, m[1]!, Number(m[2]), a.prefix ?? '', out);
  out(`listening on ${a.listen}, serving ${a.dir}`);
  await new Promise<void>((res) => {
    for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.once(s, () => res());
  });
  server.close();
  return 0;
}
