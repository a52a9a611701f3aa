// Where things are. The CLI runs as the bundle build/js/crossguard.mjs, so
// the repository root is two levels above it.

import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** The repository root, resolved from the bundle's location. */
export function repoRoot(): string {
  return fileURLToPath(new URL('../../', import.meta.url));
}

export function defaultElf(): string {
  return join(repoRoot(), 'build', 'crossguard.elf');
}

export function defaultIso(): string {
  return join(repoRoot(), 'build', 'crossguard.iso');
}
