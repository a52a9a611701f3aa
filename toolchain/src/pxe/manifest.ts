// manifest.json of a netboot tree: what each host boots, and the size and
// SHA-256 of every other file in the tree (docs/pxe.md). A deploy checks
// an upload against it; a person reads which file is which.

import type { FileDigest, PlannedHost, TreePlan } from './tree.js';

export const MANIFEST_NAME = 'manifest.json';
export const MANIFEST_FORMAT = 'crossguard-pxe/1';

export interface ManifestFile extends FileDigest {
  path: string;
}

export interface ManifestHost {
  /** null: the default, for every MAC not listed. */
  mac: string | null;
  source: string;
  vms: string[];
  set: string | null;
  ipxe: string;
  grub: string;
  modules: { name: string; path: string; size: number; sha256: string; what: string }[];
}

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  release: string;
  monitor: { path: string; cmdline: string };
  http_base: string | null;
  hosts: ManifestHost[];
  /** Every file of the tree but manifest.json, sorted by path. */
  files: ManifestFile[];
}

function host(h: PlannedHost): ManifestHost {
  return {
    mac: h.mac ?? null,
    source: h.source,
    vms: h.vms,
    set: h.set ?? null,
    ipxe: h.ipxe,
    grub: h.grub,
    modules: h.modules.map((m) => ({ name: m.name, path: m.path, size: m.size, sha256: m.sha256, what: m.what })),
  };
}

/** The manifest for a plan and the files written (pure). */
export function buildManifest(plan: TreePlan, files: readonly ManifestFile[]): Manifest {
  return {
    format: MANIFEST_FORMAT,
    release: plan.release,
    monitor: { path: plan.monitor, cmdline: plan.cmdline },
    http_base: plan.httpBase ?? null,
    hosts: plan.hosts.map(host),
    files: [...files].filter((f) => f.path !== MANIFEST_NAME).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
  };
}

/** True when `v` looks like a manifest this toolchain wrote (any release). */
export function isManifest(v: unknown): v is Manifest {
  return typeof v === 'object' && v !== null && (v as { format?: unknown }).format === MANIFEST_FORMAT;
}

/** The host entry a MAC boots: its own, else the default. */
export function hostFor(m: Manifest, mac: string): ManifestHost {
  return m.hosts.find((h) => h.mac === mac) ?? m.hosts.find((h) => h.mac === null)!;
}
