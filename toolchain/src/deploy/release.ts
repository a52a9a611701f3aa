// The release a deploy puts on the server (pure): the local tree's release,
// plus every host the server's live release has that the tree does not
// name. Those hosts keep their VM sets: their payloads come from the live
// release on the server (linked there, never uploaded again), and every
// script that names a release is written anew for the merged one, so a
// booting host still reads one release (docs/pxe.md). The merged release's
// id is the tree's when nothing is carried, else 12 hex digits of a hash
// over the tree's id and the carried hosts, so the same deploy onto the same
// server gives the same id.
//
// The monitor, its command line and the HTTP base are the tree's for every
// host. A tree's default set (`image --vms`) replaces the server's; a tree
// without one keeps the server's default.

import { createHash } from 'node:crypto';
import { dnsmasqSnippet } from '../pxe/dnsmasq.js';
import { MANIFEST_FORMAT, MANIFEST_NAME, type Manifest, type ManifestFile, type ManifestHost } from '../pxe/manifest.js';
import {
  grubDispatch,
  grubEntry,
  grubHost,
  grubHostPath,
  ipxeDispatch,
  ipxeEntry,
  ipxeHost,
  ipxeHostPath,
  type ScriptRelease,
} from '../pxe/scripts.js';
import { RELEASE_ID } from '../pxe/tree.js';
import { DeployServerError } from './errors.js';

/** Where a file of the new release comes from. */
export type FileSource =
  | { kind: 'local'; path: string } // a file of the local tree (its path there)
  | { kind: 'text'; text: string } // written by deploy
  | { kind: 'server'; path: string }; // already on the server (a path in its tree)

export interface PlannedFile extends ManifestFile {
  source: FileSource;
}

export interface ReleasePlan {
  release: string;
  /** The manifest of the new release (written to releases/<id>/manifest.json and manifest.json). */
  manifest: Manifest;
  /** Files under releases/<id>/ (its manifest.json apart). */
  releaseFiles: PlannedFile[];
  /** Files outside releases/: entry files, loaders, the dnsmasq snippet. */
  topFiles: PlannedFile[];
  /** Hosts the tree names (null: its default set). */
  fromTree: (string | null)[];
  /** Hosts kept from the server's live release. */
  carried: (string | null)[];
}

/** Entry files: outside releases/, they name the release (written last, each atomically). */
export const ENTRY_FILES = ['boot.ipxe', 'boot-efi.ipxe', 'boot/grub/grub.cfg'] as const;
const DNSMASQ = 'dnsmasq-crossguard.conf';

const SAFE_PATH = /^(?!\/)(?:[A-Za-z0-9_][A-Za-z0-9._+-]*)(?:\/[A-Za-z0-9_][A-Za-z0-9._+-]*)*$/;
const HEX64 = /^[0-9a-f]{64}$/;

/** True when `p` is a plain relative path (no .., no leading /, no odd characters). */
export function safePath(p: unknown): p is string {
  return typeof p === 'string' && p.length <= 512 && SAFE_PATH.test(p) && !p.split('/').includes('..');
}

function isDigest(v: { size?: unknown; sha256?: unknown }): boolean {
  return Number.isSafeInteger(v.size) && (v.size as number) >= 0 && typeof v.sha256 === 'string' && HEX64.test(v.sha256);
}

/**
 * Checks that `v` is a crossguard manifest whose every path is plain and
 * whose every digest is well formed; `where` names it in the error (a
 * manifest read from a server is input like any other).
 */
export function checkManifest(v: unknown, where: string, make: (m: string) => Error = (m) => new DeployServerError(m)): Manifest {
  const bad = (why: string) => make(`${where} is not a usable crossguard netboot manifest (${why}); rewrite it with crossguard image --format pxe`);
  if (typeof v !== 'object' || v === null || (v as { format?: unknown }).format !== MANIFEST_FORMAT) throw bad(`format is not ${MANIFEST_FORMAT}`);
  const m = v as Manifest;
  if (typeof m.release !== 'string' || !RELEASE_ID.test(m.release)) throw bad('bad release id');
  const prefix = `releases/${m.release}/`;
  if (typeof m.monitor !== 'object' || !safePath(m.monitor?.path) || !m.monitor.path.startsWith(prefix) || typeof m.monitor.cmdline !== 'string') throw bad('bad monitor');
  if (m.http_base !== null && typeof m.http_base !== 'string') throw bad('bad http_base');
  if (!Array.isArray(m.files) || !m.files.every((f) => safePath(f?.path) && isDigest(f))) throw bad('a file entry without a plain path, size and sha256');
  if (!Array.isArray(m.hosts) || m.hosts.filter((h) => h?.mac === null).length !== 1) throw bad('hosts must have exactly one default (mac null)');
  const macs = new Set<string>();
  for (const h of m.hosts) {
    if (h.mac !== null && (typeof h.mac !== 'string' || !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(h.mac) || macs.has(h.mac))) throw bad(`bad or repeated MAC ${String(h.mac)}`);
    if (h.mac) macs.add(h.mac);
    if (typeof h.source !== 'string' || !Array.isArray(h.vms) || !h.vms.every((n) => typeof n === 'string') || !Array.isArray(h.modules)) throw bad('a host without source, vms or modules');
    for (const mod of h.modules)
      if (!safePath(mod?.path) || !mod.path.startsWith(prefix) || typeof mod.name !== 'string' || !/^[A-Za-z0-9._-]+$/.test(mod.name) || !isDigest(mod) || typeof mod.what !== 'string')
        throw bad(`host ${h.mac ?? 'default'} has a module outside ${prefix} or without name, size and sha256`);
  }
  return m;
}

function movePath(p: string, from: string, to: string): string {
  const pre = `releases/${from}/`;
  if (!p.startsWith(pre)) throw new DeployServerError(`manifest path ${p} is not under ${pre}`);
  return `releases/${to}/${p.slice(pre.length)}`;
}

function moveHost(h: ManifestHost, from: string, to: string): ManifestHost {
  return {
    ...h,
    set: h.set === null ? null : movePath(h.set, from, to),
    ipxe: ipxeHostPath(to, h.mac ?? undefined),
    grub: grubHostPath(to, h.mac ?? undefined),
    modules: h.modules.map((m) => ({ ...m, path: movePath(m.path, from, to) })),
  };
}

function digestOf(text: string): { size: number; sha256: string } {
  return { size: Buffer.byteLength(text), sha256: createHash('sha256').update(text).digest('hex') };
}

function textFile(path: string, text: string): PlannedFile {
  return { path, ...digestOf(text), source: { kind: 'text', text } };
}

const byPath = (a: { path: string }, b: { path: string }) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/**
 * Plans the release for local manifest `local` (checked) on a server whose
 * live release is `live` (checked, or null: a first deploy), the tree
 * served from `remoteRoot` there.
 */
export function planRelease(local: Manifest, live: Manifest | null, remoteRoot: string): ReleasePlan {
  const treeDefault = local.hosts.find((h) => h.mac === null)!;
  const named = new Set(local.hosts.filter((h) => h.mac !== null).map((h) => h.mac));
  const carriedHosts = (live?.hosts ?? []).filter((h) => (h.mac !== null ? !named.has(h.mac) : treeDefault.set === null && h.set !== null));
  const carriedView = carriedHosts.map((h) => ({ mac: h.mac, source: h.source, vms: h.vms, modules: h.modules.map((m) => [m.name, m.sha256, m.what]) }));
  const id = carriedHosts.length
    ? createHash('sha256').update(JSON.stringify({ tree: local.release, carried: carriedView })).digest('hex').slice(0, 12)
    : local.release;
  const dir = `releases/${id}`;
  const localPre = `releases/${local.release}/`;

  const hosts: ManifestHost[] = [
    ...local.hosts.filter((h) => h.mac !== null).map((h) => moveHost(h, local.release, id)),
    ...carriedHosts.filter((h) => h.mac !== null).map((h) => moveHost(h, live!.release, id)),
  ];
  const liveDefault = carriedHosts.find((h) => h.mac === null);
  hosts.push(liveDefault ? moveHost(liveDefault, live!.release, id) : moveHost(treeDefault, local.release, id));

  const releaseFiles = new Map<string, PlannedFile>();
  const add = (f: PlannedFile) => {
    const had = releaseFiles.get(f.path);
    if (had && had.sha256 !== f.sha256)
      throw new DeployServerError(`${f.path}: the tree and the server's live release have different files under one name (a SHA-256 prefix collision crossguard does not expect: please report it)`);
    if (!had) releaseFiles.set(f.path, f);
  };
  const scripted = (p: string) => carriedHosts.length > 0 && /^(ipxe|grub)\//.test(p.slice(localPre.length));
  for (const f of local.files)
    if (f.path.startsWith(localPre) && !scripted(f.path)) add({ path: `${dir}/${f.path.slice(localPre.length)}`, size: f.size, sha256: f.sha256, source: { kind: 'local', path: f.path } });
  for (const h of carriedHosts)
    for (const m of h.modules) add({ path: movePath(m.path, live!.release, id), size: m.size, sha256: m.sha256, source: { kind: 'server', path: m.path } });
  if (carriedHosts.length) {
    // Every script naming the release is written for the merged one.
    const r: ScriptRelease = {
      id,
      monitor: movePath(local.monitor.path, local.release, id),
      args: local.monitor.cmdline.split(/\s+/).filter(Boolean),
      ...(local.http_base ? { httpBase: local.http_base } : {}),
    };
    const sh = hosts.map((h) => ({ ...(h.mac ? { mac: h.mac } : {}), source: h.source, vms: h.vms, modules: h.modules }));
    add(textFile(`${dir}/ipxe/boot.ipxe`, ipxeDispatch(id, sh)));
    add(textFile(`${dir}/grub/boot.cfg`, grubDispatch(id, sh)));
    for (const h of sh) {
      add(textFile(ipxeHostPath(id, h.mac), ipxeHost(r, h)));
      add(textFile(grubHostPath(id, h.mac), grubHost(r, h)));
    }
  }

  const topFiles: PlannedFile[] = [];
  for (const f of local.files) {
    if (f.path.startsWith('releases/') || f.path === MANIFEST_NAME) continue;
    if (f.path === 'boot.ipxe') topFiles.push(textFile(f.path, ipxeEntry(id)));
    else if (f.path === 'boot/grub/grub.cfg') topFiles.push(textFile(f.path, grubEntry(id)));
    else if (f.path === DNSMASQ) topFiles.push(textFile(f.path, dnsmasqSnippet(remoteRoot)));
    else topFiles.push({ path: f.path, size: f.size, sha256: f.sha256, source: { kind: 'local', path: f.path } });
  }

  const rel = [...releaseFiles.values()].sort(byPath);
  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    release: id,
    monitor: { path: movePath(local.monitor.path, local.release, id), cmdline: local.monitor.cmdline },
    http_base: local.http_base,
    hosts,
    files: [...rel, ...topFiles].map(({ path, size, sha256 }) => ({ path, size, sha256 })).sort(byPath),
  };
  return {
    release: id,
    manifest,
    releaseFiles: rel,
    topFiles: topFiles.sort(byPath),
    fromTree: [...local.hosts.filter((h) => h.mac !== null).map((h) => h.mac), ...(liveDefault ? [] : [null])],
    carried: carriedHosts.map((h) => h.mac),
  };
}
