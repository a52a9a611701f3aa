// deploys.json on the server: the releases deploy put there, oldest first,
// with when and for which hosts. It orders releases for --keep and
// --rollback (directory times are no guide: a reused release directory is
// older than its deploy). Pure: text in, decisions out.

import { RELEASE_ID } from '../pxe/tree.js';
import { DeployServerError } from './errors.js';

export const HISTORY_NAME = 'deploys.json';
export const HISTORY_FORMAT = 'crossguard-deploys/1';

export interface HistoryEntry {
  id: string;
  /** ISO time of the deploy. */
  at: string;
  /** MACs of its hosts, null for the default. */
  hosts: (string | null)[];
}

export interface History {
  format: typeof HISTORY_FORMAT;
  releases: HistoryEntry[];
}

/** Parses deploys.json (null: none yet); DeployServerError when it is not ours. */
export function parseHistory(text: string | null, where: string): History {
  if (text === null) return { format: HISTORY_FORMAT, releases: [] };
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    v = undefined;
  }
  const h = v as History | undefined;
  if (!h || h.format !== HISTORY_FORMAT || !Array.isArray(h.releases) || !h.releases.every((e) => typeof e?.id === 'string' && RELEASE_ID.test(e.id) && typeof e.at === 'string' && Array.isArray(e.hosts)))
    throw new DeployServerError(`${where} is not a ${HISTORY_FORMAT} file; move it away (deploy rebuilds it from what it deploys next)`);
  return h;
}

/** The history with `id` deployed at `at` as its newest entry (an earlier entry of the same id moves). */
export function recordDeploy(h: History, id: string, at: string, hosts: (string | null)[]): History {
  return { format: HISTORY_FORMAT, releases: [...h.releases.filter((e) => e.id !== id), { id, at, hosts }] };
}

/**
 * The history with the live release in it: a deploy whose connection broke
 * after the switch but before deploys.json was written left it out.
 */
export function withLive(h: History, current: string | null, hosts: (string | null)[]): History {
  if (current === null || h.releases.some((e) => e.id === current)) return h;
  return recordDeploy(h, current, 'unknown', hosts);
}

/**
 * Release directories to remove: every one but the newest `keep` of the
 * history and the current one. Directories the history does not know are
 * what an interrupted deploy left; they go too, except `sparing` (the one
 * being deployed).
 */
export function releasesToRemove(h: History, dirs: readonly string[], current: string | null, keep: number, sparing?: string): string[] {
  const kept = new Set(h.releases.filter((e) => dirs.includes(e.id)).slice(-keep).map((e) => e.id));
  if (current) kept.add(current);
  if (sparing) kept.add(sparing);
  return dirs.filter((d) => !kept.has(d)).sort();
}

/** The history without the releases removed. */
export function withoutReleases(h: History, removed: readonly string[]): History {
  return { format: HISTORY_FORMAT, releases: h.releases.filter((e) => !removed.includes(e.id)) };
}

/** The release deployed before `current` that is still on the server, or null. */
export function previousRelease(h: History, current: string | null, dirs: readonly string[]): string | null {
  const i = current === null ? -1 : h.releases.findIndex((e) => e.id === current);
  const older = (i < 0 ? [] : h.releases.slice(0, i)).filter((e) => dirs.includes(e.id));
  return older.length ? older[older.length - 1]!.id : null;
}
