// `crossguard deploy --rollback`: makes the release deployed before the
// live one live again. That release is verified on the server against its
// own manifest first (a damaged one is refused and the live release stays);
// then its entry files and the `current` switch, as a deploy does. The
// history keeps its order, so a second rollback goes one further back.

import { MANIFEST_NAME } from '../pxe/manifest.js';
import { grubEntry, ipxeEfiEntry, ipxeEntry } from '../pxe/scripts.js';
import { checkVerified, type DeployOptions } from './deploy.js';
import { METHOD_TEXT, probeDigestMethod, remoteDigests, type DigestMethod } from './digest.js';
import { DeployServerError } from './errors.js';
import { previousRelease, withLive } from './history.js';
import type { PlannedFile } from './release.js';
import { Remote } from './remote.js';
import { CURRENT, partName, putFile, readReleaseManifest, readState, switchCurrent } from './server.js';
import { formatTarget, parseTarget, type DeployTarget } from './target.js';
import { createHash } from 'node:crypto';

export interface RollbackResult {
  /** The release now live (with dryRun: the one that would be). */
  release: string;
  /** The release that was live. */
  previous: string;
  hosts: (string | null)[];
  verifiedBy: DigestMethod;
  dryRun: boolean;
}

function entry(path: string, text: string): PlannedFile {
  return { path, size: Buffer.byteLength(text), sha256: createHash('sha256').update(text).digest('hex'), source: { kind: 'text', text } };
}

/** Switches `to` back to the release before the live one (see the file comment). */
export async function rollbackRelease(to: string | DeployTarget, opts: DeployOptions = {}, progress: (line: string) => void = () => {}): Promise<RollbackResult> {
  const target = typeof to === 'string' ? parseTarget(to) : to;
  progress(`connecting to ${formatTarget(target)}…`);
  const remote = await Remote.open(target, opts);
  try {
    const method = await probeDigestMethod(remote);
    const state = await readState(remote);
    if (state.current === null) throw new DeployServerError(`${remote.abs(CURRENT)} does not exist: nothing was deployed to ${remote.where}, so there is nothing to roll back`);
    const prev = previousRelease(withLive(state.history, state.current, []), state.current, state.dirs);
    if (prev === null)
      throw new DeployServerError(
        `no release before ${state.current} is left on ${remote.where} (deploys.json: ${state.history.releases.map((e) => e.id).join(', ') || 'empty'}); nothing was changed`,
      );
    const m = await readReleaseManifest(remote, prev);
    const files: PlannedFile[] = m.files.filter((f) => f.path.startsWith(`releases/${prev}/`)).map((f) => ({ ...f, source: { kind: 'server', path: f.path } }));
    progress(`verifying ${files.length} files of release ${prev} on the server (${METHOD_TEXT[method]})…`);
    checkVerified(files, await remoteDigests(remote, method, files.map((f) => f.path)), `release ${prev}`, state.current);
    const result: RollbackResult = { release: prev, previous: state.current, hosts: m.hosts.map((h) => h.mac), verifiedBy: method, dryRun: !!opts.dryRun };
    progress(`roll back: switch ${CURRENT} from releases/${state.current} to releases/${prev} (hosts ${result.hosts.map((h) => h ?? 'default').join(', ')})`);
    if (opts.dryRun) {
      progress('dry run: nothing was changed');
      return result;
    }
    const entries = [entry('boot-efi.ipxe', ipxeEfiEntry()), entry('boot.ipxe', ipxeEntry(prev)), entry('boot/grub/grub.cfg', grubEntry(prev))];
    for (const f of entries) await remote.writeFile(partName(f.path), { data: Buffer.from((f.source as { text: string }).text) });
    const parts = entries.map((f) => ({ ...f, path: partName(f.path) }));
    checkVerified(parts, await remoteDigests(remote, method, parts.map((f) => f.path)), 'the entry files', state.current);
    for (const f of entries) await remote.rename(partName(f.path), f.path);
    await switchCurrent(remote, prev);
    progress(`release ${prev} is live again (${CURRENT} -> releases/${prev})`);
    await putFile(remote, MANIFEST_NAME, { data: Buffer.from(JSON.stringify(m, null, 2) + '\n') });
    return result;
  } finally {
    remote.close();
  }
}
