// Whether a boot test can make network namespaces here (root, iproute2,
// dnsmasq, and a kernel that lets it): null, or why not, for the skip line.

import { spawnSync } from 'node:child_process';
import { labNetUnavailable } from '../../toolchain/src/pxe/labnet.js';

/** Tries `ip netns add` once with a throwaway name (deleted again). */
export function cannotMakeNamespaces(prefix: string): string | null {
  const why = labNetUnavailable();
  if (why) return why;
  const probe = `${prefix}-probe-${process.pid}`;
  const r = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (r.status !== 0) return `ip netns add failed here: ${(r.stderr || r.error?.message || '').trim()}`;
  spawnSync('ip', ['netns', 'del', probe]);
  return null;
}
