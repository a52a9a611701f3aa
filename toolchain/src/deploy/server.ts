// What a deploy reads from the server's tree and how it changes it: the
// live release (the `current` link and that release's manifest), the
// history, and the three writes every change is made of — a file put in
// place atomically, the entry files, and the `current` switch.
//
//   <root>/current -> releases/<id>       the live release (relative link)
//   <root>/releases/<id>/manifest.json    that release's manifest
//   <root>/manifest.json                  a copy of the live release's
//   <root>/deploys.json                   history.ts

import { posix } from 'node:path';
import { MANIFEST_NAME, type Manifest } from '../pxe/manifest.js';
import { RELEASE_ID } from '../pxe/tree.js';
import { DeployServerError } from './errors.js';
import { HISTORY_NAME, parseHistory, type History } from './history.js';
import { checkManifest } from './release.js';
import type { Remote } from './remote.js';

export const CURRENT = 'current';

export interface ServerState {
  /** The live release's id (what `current` names), null before the first deploy. */
  current: string | null;
  live: Manifest | null;
  history: History;
  /** Release directories on the server. */
  dirs: string[];
}

/** A release's manifest on the server (checked like any input). */
export async function readReleaseManifest(remote: Remote, id: string): Promise<Manifest> {
  const rel = `releases/${id}/${MANIFEST_NAME}`;
  const text = await remote.readText(rel);
  if (text === null) throw new DeployServerError(`${remote.abs(rel)} is missing: release ${id} on the server was not written by crossguard deploy; remove it or deploy again`);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    v = undefined;
  }
  const m = checkManifest(v, remote.abs(rel));
  if (m.release !== id) throw new DeployServerError(`${remote.abs(rel)} names release ${m.release}, not ${id}; remove that release directory`);
  return m;
}

/** Reads the live release, the history and the release directories. */
export async function readState(remote: Remote): Promise<ServerState> {
  const link = await remote.readlink(CURRENT);
  let current: string | null = null;
  if (link !== null) {
    const m = /^(?:\.\/)?releases\/([^/]+)\/?$/.exec(link);
    if (!m || !RELEASE_ID.test(m[1]!))
      throw new DeployServerError(`${remote.abs(CURRENT)} points to ${link}, not releases/<id>: it was not made by crossguard deploy; move it away`);
    current = m[1]!;
  } else if (await remote.lstat(CURRENT)) throw new DeployServerError(`${remote.abs(CURRENT)} exists and is not a symlink; move it away`);
  const history = parseHistory(await remote.readText(HISTORY_NAME), remote.abs(HISTORY_NAME));
  const dirs = (await remote.readdir('releases')).filter((e) => e.dir && RELEASE_ID.test(e.name)).map((e) => e.name);
  const live = current === null ? null : await readReleaseManifest(remote, current);
  return { current, live, history, dirs };
}

/** Where `rel` is written before it is renamed into place. */
export function partName(rel: string): string {
  return `${rel}.part`;
}

/** Writes `rel` as rel.part (data, fsync, close), then renames it over `rel` (posix-rename: atomic). */
export async function putFile(remote: Remote, rel: string, source: { file: string } | { data: Buffer }, onBytes?: (n: number) => void): Promise<void> {
  await remote.mkdirp(posix.dirname(rel));
  await remote.writeFile(partName(rel), source, onBytes);
  await remote.rename(partName(rel), rel);
}

/** Makes `current` name releases/<id>: a new link current.new, posix-renamed over `current`. */
export async function switchCurrent(remote: Remote, id: string): Promise<void> {
  const tmp = `${CURRENT}.new`;
  await remote.unlink(tmp);
  await remote.symlink(`releases/${id}`, tmp);
  await remote.rename(tmp, CURRENT);
}
