// Where `crossguard flash` puts the tree so the lab's PXE server serves it.
// A small interface, so the SFTP deploy (`crossguard deploy`) and a plain
// directory are one step to flash:
//   --tree-dir DIR   the PXE server's tree is a directory here (a TFTP root
//                    on this machine, an NFS mount of the server's): the
//                    staged tree replaces DIR in one rename, as `image`
//                    replaces its --out (refused unless DIR is empty or a
//                    tree crossguard wrote).
//   --to sftp://…    crossguard deploy's upload, verify and release switch.

import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { checkReplaceable, moveIntoPlace } from '../pxe/write.js';

export interface DeployTarget {
  /** For messages: the directory or the sftp:// URL. */
  readonly description: string;
  /** Puts the staged tree `staged` in place; throws a CrossguardError naming what failed. */
  deploy(staged: string, progress: (line: string) => void): Promise<void>;
}

/** A directory that becomes the tree, replaced whole. */
export function directoryTarget(dirArg: string): DeployTarget {
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
      } catch (e) {
        rmSync(tmp, { recursive: true, force: true });
        throw e;
      }
    },
  };
}
