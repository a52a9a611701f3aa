// Size and SHA-256 of files as they are on the server. Two ways, chosen once
// per connection: `sha256sum` over an exec channel when the server runs
// commands (the server reads its own disk: nothing crosses the network), or
// reading every file back over SFTP and hashing it here (servers that only
// allow SFTP, e.g. ForceCommand internal-sftp). Either way the bytes hashed
// are the ones on the server's disk, not the ones we sent.

import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import type { FileDigest } from '../pxe/tree.js';
import { DeployServerError } from './errors.js';
import { safePath } from './release.js';
import type { Remote } from './remote.js';

export type DigestMethod = 'sha256sum' | 'read-back';

/** How each method is named to people. */
export const METHOD_TEXT: Record<DigestMethod, string> = {
  'sha256sum': 'sha256sum run on the server over an exec channel',
  'read-back': 'read back over SFTP and hashed here',
};

/** Arguments per sha256sum run: well under any server's ARG_MAX. */
const BATCH_BYTES = 32 * 1024;
const READ_PARALLEL = 4;
const STAT_PARALLEL = 16;

function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** 'sha256sum' when the server runs it over exec (stdin closed, so a forced internal-sftp just ends), else 'read-back'. */
export async function probeDigestMethod(remote: Remote): Promise<DigestMethod> {
  const r = await remote.exec('sha256sum --version', 15_000);
  return r && r.code === 0 && /sha256sum/.test(r.stdout) ? 'sha256sum' : 'read-back';
}

/** Runs `f` over `items`, at most `n` at a time. */
export async function parallel<T, R>(items: readonly T[], n: number, f: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await f(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}

/** Parses `sha256sum -b` output (pure): path → hex digest. */
export function parseSha256sum(out: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of out.split('\n')) {
    const r = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (r) m.set(r[2]!, r[1]!);
  }
  return m;
}

async function sha256sumBatch(remote: Remote, paths: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let batch: string[] = [];
  let bytes = 0;
  const run = async () => {
    if (!batch.length) return;
    const r = await remote.exec(`cd ${quote(remote.abs(''))} && sha256sum -b -- ${batch.map(quote).join(' ')}`, 10 * 60_000);
    if (!r) throw new DeployServerError(`${remote.where}: sha256sum stopped answering over exec; nothing was switched`);
    for (const [p, h] of parseSha256sum(r.stdout)) out.set(p, h);
    batch = [];
    bytes = 0;
  };
  for (const p of paths) {
    batch.push(p);
    bytes += p.length + 3;
    if (bytes > BATCH_BYTES) await run();
  }
  await run();
  return out;
}

async function readBack(remote: Remote, rel: string): Promise<string | null> {
  return new Promise((res, rej) => {
    const h = createHash('sha256');
    const s = remote.sftp.createReadStream(remote.abs(rel), { highWaterMark: 64 * 1024 } as never);
    s.on('data', (b: Buffer) => h.update(b));
    s.on('error', (e: Error & { code?: number }) => (e.code === 2 ? res(null) : rej(remote.fail('reading back', rel, e))));
    s.on('end', () => res(h.digest('hex')));
  });
}

/**
 * Size and SHA-256 of each of `paths` (relative to the target) on the
 * server; null for a missing file. With `expect`, a file whose size already
 * differs is not hashed (its sha256 is reported as '').
 */
export async function remoteDigests(
  remote: Remote,
  method: DigestMethod,
  paths: readonly string[],
  expect?: ReadonlyMap<string, FileDigest>,
): Promise<Map<string, FileDigest | null>> {
  for (const p of paths) if (!safePath(p)) throw new DeployServerError(`refusing to hash ${JSON.stringify(p)}: not a plain path inside the tree`);
  const stats = await parallel(paths, STAT_PARALLEL, (p) => remote.stat(p));
  const out = new Map<string, FileDigest | null>();
  const toHash: string[] = [];
  paths.forEach((p, i) => {
    const st = stats[i];
    if (!st || !st.isFile()) return out.set(p, null);
    const want = expect?.get(p);
    out.set(p, { size: st.size, sha256: '' });
    if (!want || want.size === st.size) toHash.push(p);
  });
  if (method === 'sha256sum') {
    const sums = await sha256sumBatch(remote, toHash);
    for (const p of toHash) {
      const d = sums.get(p) ?? sums.get(posix.normalize(p));
      if (d === undefined) out.set(p, null); // vanished between stat and hash
      else out.get(p)!.sha256 = d;
    }
  } else {
    const sums = await parallel(toHash, READ_PARALLEL, (p) => readBack(remote, p));
    toHash.forEach((p, i) => (sums[i] === null ? out.set(p, null) : (out.get(p)!.sha256 = sums[i]!)));
  }
  return out;
}

/** True when `got` is the file `want` describes. */
export function sameFile(got: FileDigest | null | undefined, want: FileDigest): boolean {
  return !!got && got.size === want.size && got.sha256 === want.sha256;
}
