// `crossguard deploy`: puts a netboot tree's release on a PXE server over
// SFTP and makes it live, without a moment where a booting host could read
// a half-written release (docs/pxe.md, "Deploy"):
//
//   1. read the server's live release and merge (release.ts): hosts the
//      tree does not name keep their sets;
//   2. fill releases/<id>/: files already there with the right size and
//      SHA-256 are kept, files the live release has are hard-linked
//      (hardlink@openssh.com; copied on the server where that is missing),
//      the rest uploaded as NAME.part, fsync'd, renamed;
//   3. verify every file of the release on the server against the manifest
//      (digest.ts: sha256sum over exec, or read back); any mismatch stops
//      here, the live release untouched;
//   4. the files outside releases/ (loaders, then the entry files that name
//      the release) as .part, verified, each renamed into place;
//   5. `current` switched (server.ts), manifest.json and deploys.json
//      written, releases beyond --keep removed.
//
// deployTree() is the entry point for other commands (flash).

import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { SshClientOptions } from '../../../console/transports/ssh-client.js';
import { MANIFEST_NAME, type Manifest } from '../pxe/manifest.js';
import type { FileDigest } from '../pxe/tree.js';
import { hashFile } from '../pxe/write.js';
import { METHOD_TEXT, parallel, probeDigestMethod, remoteDigests, sameFile, type DigestMethod } from './digest.js';
import { DeployInputError, DeployVerifyError } from './errors.js';
import { HISTORY_NAME, recordDeploy, releasesToRemove, withLive, withoutReleases } from './history.js';
import { UploadProgress, type ProgressStream } from './progress.js';
import { checkManifest, ENTRY_FILES, planRelease, type PlannedFile } from './release.js';
import { Remote } from './remote.js';
import { CURRENT, partName, putFile, readState, switchCurrent } from './server.js';
import { formatTarget, parseTarget, type DeployTarget } from './target.js';

/** Files sent at once. */
const FILES_AT_ONCE = 6;

export interface DeployOptions extends SshClientOptions {
  /** Release directories to keep on the server, the live one always among them (default 3). */
  keep?: number;
  /** Read the server and report the plan; change nothing. */
  dryRun?: boolean;
  /** Where the upload bar goes (default stderr). */
  progressStream?: ProgressStream;
  /** The deploy's time in deploys.json (default now). */
  now?: () => Date;
  /** For tests: runs after the release is on the server, before it is verified. */
  beforeVerify?: (release: string) => Promise<void> | void;
}

export interface DeployResult {
  /** The release now live (with dryRun: the one that would be). */
  release: string;
  /** The release that was live before, null on a first deploy. */
  previous: string | null;
  /** Every host of the release by MAC, null for the default set. */
  hosts: (string | null)[];
  /** Hosts set by the tree, and hosts kept from the server's previous release. */
  fromTree: (string | null)[];
  carried: (string | null)[];
  uploaded: { files: number; bytes: number };
  /** Files already on the server in the right release, linked (or copied) from the live one. */
  kept: number;
  linked: number;
  copied: number;
  verifiedBy: DigestMethod;
  /** Release directories removed (--keep). */
  removed: string[];
  dryRun: boolean;
}

/** Reads and checks DIR/manifest.json and that every file it lists is there with its size. */
export function readLocalTree(dir: string): Manifest {
  const path = join(dir, MANIFEST_NAME);
  if (!existsSync(path)) throw new DeployInputError(`${path} is missing: ${dir} is not a netboot tree; write one with crossguard image --format pxe --out ${dir}`);
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new DeployInputError(`${path}: ${(e as Error).message}; rewrite the tree with crossguard image --format pxe`);
  }
  const m = checkManifest(v, path, (msg) => new DeployInputError(msg));
  for (const f of m.files) {
    const p = join(dir, f.path);
    const size = existsSync(p) ? statSync(p).size : -1;
    if (size !== f.size)
      throw new DeployInputError(`${p} ${size < 0 ? 'is missing' : `is ${size} bytes, manifest.json says ${f.size}`}: the tree changed after it was written; write it again with crossguard image --format pxe`);
  }
  return m;
}

function mib(n: number): string {
  return `${(n / (1 << 20)).toFixed(1)} MiB`;
}

function short(d: FileDigest | null | undefined): string {
  return d ? `${d.size} bytes, sha256 ${d.sha256.slice(0, 16) || '(not hashed)'}…` : 'missing';
}

/** The mismatches of `files` against what the server has, as one error (or nothing). */
export function checkVerified(files: readonly PlannedFile[], got: Map<string, FileDigest | null>, what: string, live: string | null): void {
  const bad = files.filter((f) => !sameFile(got.get(f.path), f));
  if (!bad.length) return;
  const first = bad
    .slice(0, 3)
    .map((f) => `${f.path} is ${short(got.get(f.path))}, the manifest says ${short(f)}`)
    .join('; ');
  throw new DeployVerifyError(
    `${what} on the server does not match its manifest: ${first}${bad.length > 3 ? ` (and ${bad.length - 3} more)` : ''}. ` +
      `${live ? `Release ${live} stays live` : 'Nothing was made live'}; run the same deploy again to send those files anew`,
  );
}

/**
 * Deploys the netboot tree `dir` (crossguard image --format pxe) to `to`
 * (sftp://USER@HOST[:PORT]/PATH or a parsed target) and makes it live.
 * Hosts on the server that the tree does not name keep their VM sets.
 * Resolves with the live release and its hosts; rejects with a named
 * Deploy*Error, the live release untouched unless the switch itself was
 * reached. `progress` gets one line per step (the upload bar goes to
 * opts.progressStream).
 */
export async function deployTree(
  dir: string,
  to: string | DeployTarget,
  opts: DeployOptions = {},
  progress: (line: string) => void = () => {},
): Promise<DeployResult> {
  const target = typeof to === 'string' ? parseTarget(to) : to;
  const keep = opts.keep ?? 3;
  if (!Number.isInteger(keep) || keep < 1) throw new DeployInputError(`--keep ${keep}: give a whole number of releases, at least 1 (the live one)`);
  const local = readLocalTree(dir);
  const where = formatTarget(target);
  progress(`connecting to ${where}…`);
  const remote = await Remote.open(target, opts);
  try {
    const method = await probeDigestMethod(remote);
    const state = await readState(remote);
    const plan = planRelease(local, state.live, target.path);
    const id = plan.release;
    const result: DeployResult = {
      release: id,
      previous: state.current,
      hosts: plan.manifest.hosts.map((h) => h.mac),
      fromTree: plan.fromTree,
      carried: plan.carried,
      uploaded: { files: 0, bytes: 0 },
      kept: 0,
      linked: 0,
      copied: 0,
      verifiedBy: method,
      removed: [],
      dryRun: !!opts.dryRun,
    };
    const hostText = (l: (string | null)[]) => l.map((h) => h ?? 'default').join(', ') || 'none';
    progress(
      `release ${id}${id === state.current ? ' (already live)' : ''}: from the tree ${hostText(plan.fromTree)}; kept from live release ${state.current ?? '-'}: ${hostText(plan.carried)}`,
    );

    // What is already on the server, and what the live release can lend: one round of hashing.
    const lendPath = (f: PlannedFile): string | null => {
      if (f.source.kind === 'server') return f.source.path;
      if (f.source.kind !== 'local' || !state.live) return null;
      const p = `releases/${state.live.release}/${f.path.split('/').slice(2).join('/')}`;
      return state.live.files.some((x) => x.path === p && x.sha256 === f.sha256) ? p : null;
    };
    const lenders = new Map(plan.releaseFiles.flatMap((f) => (lendPath(f) ? [[f.path, lendPath(f)!] as const] : [])));
    const expect = new Map<string, FileDigest>([...plan.releaseFiles, ...plan.topFiles].map((f) => [f.path, f] as const));
    for (const [f, src] of lenders) expect.set(src, expect.get(f)!);
    const there = await remoteDigests(remote, method, [...expect.keys()], expect);
    const missing = plan.releaseFiles.filter((f) => !sameFile(there.get(f.path), f));
    result.kept = plan.releaseFiles.length - missing.length;
    const fromServer = missing.filter((f) => lenders.has(f.path) && sameFile(there.get(lenders.get(f.path)!), f));
    for (const f of missing)
      if (f.source.kind === 'server' && !fromServer.includes(f))
        throw new DeployVerifyError(
          `${remote.abs(f.source.path)} (a file of live release ${state.current} that host(s) kept from it need) is ${short(there.get(f.source.path))}, its manifest says ${short(f)}: the live release is damaged on the server; redeploy those hosts' sets from their trees`,
        );
    const toSend = missing.filter((f) => !fromServer.includes(f));
    const topSend = plan.topFiles.filter((f) => !sameFile(there.get(f.path), f));
    const sendBytes = [...toSend, ...topSend].reduce((n, f) => n + f.size, 0);
    const dirs = [...state.dirs.filter((d) => d !== id), id];
    const history = recordDeploy(withLive(state.history, state.current, state.live?.hosts.map((h) => h.mac) ?? []), id, (opts.now?.() ?? new Date()).toISOString(), result.hosts);
    const remove = releasesToRemove(history, dirs, id, keep);
    progress(
      `${plan.releaseFiles.length} release files: ${result.kept} already there, ${fromServer.length} from the live release on the server, ${toSend.length} to upload; ` +
        `${topSend.length} of ${plan.topFiles.length} entry and loader files to update; ${mib(sendBytes)} to send; files verified by ${METHOD_TEXT[method]}`,
    );
    progress(`then: ${state.current === id ? `release ${id} stays live` : `switch ${CURRENT} from ${state.current ?? '(none)'} to releases/${id}`}; remove ${remove.length ? remove.join(', ') : 'no release'} (--keep ${keep})`);
    if (opts.dryRun) {
      progress('dry run: nothing was changed');
      result.removed = remove;
      return result;
    }

    // The first write: a path we cannot write fails here, before anything changed.
    await remote.mkdirp('');
    await remote.writeFile('.crossguard-write-check.part', { data: Buffer.alloc(0) });
    await remote.unlink('.crossguard-write-check.part');

    for (const d of new Set(plan.releaseFiles.map((f) => posix.dirname(f.path)))) await remote.mkdirp(d);
    for (const f of fromServer) {
      const src = lenders.get(f.path)!;
      await remote.unlink(f.path);
      if (await remote.hardlink(src, f.path)) result.linked++;
      else {
        await remote.copy(src, partName(f.path));
        await remote.rename(partName(f.path), f.path);
        result.copied++;
      }
    }
    const bar = new UploadProgress(sendBytes, sendBytes ? opts.progressStream : { write: () => true });
    const step = (line: string) => {
      bar.clear();
      progress(line);
    };
    const send = async (f: PlannedFile, rel: string) => {
      bar.start(f.path);
      const onBytes = (n: number) => {
        bar.add(n);
        result.uploaded.bytes += n;
      };
      if (f.source.kind === 'text') await remote.writeFile(rel, { data: Buffer.from(f.source.text) }, onBytes);
      else if (f.source.kind === 'local') {
        const file = join(dir, f.source.path);
        if (!sameFile(hashFile(file), f))
          throw new DeployInputError(`${file} does not match ${join(dir, MANIFEST_NAME)}: the tree changed after it was written; write it again (nothing was made live)`);
        await remote.writeFile(rel, { file }, onBytes);
      }
      result.uploaded.files++;
    };
    // Several files at once: a tree is hundreds of small GRUB modules, each a few round trips.
    await parallel(toSend, FILES_AT_ONCE, async (f) => {
      await send(f, partName(f.path));
      await remote.rename(partName(f.path), f.path);
    });
    const manifestText = JSON.stringify(plan.manifest, null, 2) + '\n';
    await putFile(remote, `releases/${id}/${MANIFEST_NAME}`, { data: Buffer.from(manifestText) });

    await opts.beforeVerify?.(id);
    step(`verifying ${plan.releaseFiles.length} files of release ${id} on the server (${METHOD_TEXT[method]})…`);
    checkVerified(plan.releaseFiles, await remoteDigests(remote, method, plan.releaseFiles.map((f) => f.path)), `release ${id}`, state.current);

    // Loaders first, entry files (which name the release) last.
    const isEntry = (f: PlannedFile) => (ENTRY_FILES as readonly string[]).includes(f.path);
    const ordered = [...topSend.filter((f) => !isEntry(f)), ...topSend.filter(isEntry)];
    for (const d of new Set(ordered.map((f) => posix.dirname(f.path)))) await remote.mkdirp(d);
    await parallel(ordered, FILES_AT_ONCE, (f) => send(f, partName(f.path)));
    if (sendBytes) bar.finish();
    const parts = ordered.map((f) => ({ ...f, path: partName(f.path) }));
    checkVerified(parts, await remoteDigests(remote, method, parts.map((f) => f.path)), 'the entry and loader files', state.current);
    for (const f of ordered) await remote.rename(partName(f.path), f.path);
    if (state.current !== id) await switchCurrent(remote, id);
    step(`release ${id} is live (${CURRENT} -> releases/${id})`);
    await putFile(remote, MANIFEST_NAME, { data: Buffer.from(manifestText) });

    for (const r of remove) {
      step(`removing release ${r} (--keep ${keep})…`);
      await remote.removeTree(`releases/${r}`);
    }
    result.removed = remove;
    await putFile(remote, HISTORY_NAME, { data: Buffer.from(JSON.stringify(withoutReleases(history, remove), null, 2) + '\n') });
    return result;
  } finally {
    remote.close();
  }
}
