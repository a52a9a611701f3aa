// Where `crossguard flash` puts the tree so the lab's PXE server serves it.
// A small interface, so the SFTP deploy (`crossguard deploy`) and a plain
// directory are one step to flash:
//   --tree-dir DIR   the PXE server's tree is a directory here (a TFTP root
//                    on this machine, an NFS mount of the server's): the
//                    staged tree replaces DIR in one rename, as `image`
//                    replaces its --out (refused unless DIR is empty or a
//                    tree crossguard wrote).
//   --to sftp://…    crossguard deploy's upload, verify and release switch
//                    (deploy/deploy.ts): this host's set is added, the other
//                    hosts of the live release keep theirs.

import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { deployTree, type DeployOptions } from '../deploy/deploy.js';
import { formatTarget, parseTarget } from '../deploy/target.js';
import { readManifest } from '../commands/run-pxe.js';
import { checkReplaceable, moveIntoPlace } from '../pxe/write.js';

export interface FlashTarget {
  /** For messages: the directory or the sftp:// URL. */
  readonly description: string;
  /**
   * Puts the staged tree `staged` in place; resolves with the release id the
   * server now serves (an SFTP deploy that keeps other hosts' sets makes a
   * new one); throws a CrossguardError naming what failed.
   */
  deploy(staged: string, progress: (line: string) => void): Promise<string>;
}

/** A directory that becomes the tree, replaced whole. */
export function directoryTarget(dirArg: string): FlashTarget {
  const dir = resolve(dirArg);
  return {
    description: dir,
    async deploy(staged, progress) {
      checkReplaceable(dir, '--tree-dir');
      const tmp = mkdtempSync(join(dirname(dir), `.${basename(dir)}.new-`));
      try {
        progress(`copying the tree into ${dir}…`);
        cpSync(staged, tmp, { recursive: true });
        moveIntoPlace(tmp, dir);
        return readManifest(dir).release;
      } catch (e) {
        rmSync(tmp, { recursive: true, force: true });
        throw e;
      }
    },
  };
}

/** A PXE server over SFTP: `crossguard deploy` with these options (parses `to` now: a bad URL fails before any step). */
export function sftpTarget(to: string, opts: DeployOptions): FlashTarget {
  const where = formatTarget(parseTarget(to));
  return {
    description: where,
    async deploy(staged, progress) {
      const r = await deployTree(staged, to, opts, progress);
      progress(`release ${r.release} is live on ${where}${r.carried.length ? ` (kept from ${r.previous}: ${r.carried.map((h) => h ?? 'default').join(', ')})` : ''}`);
      return r.release;
    },
  };
}
