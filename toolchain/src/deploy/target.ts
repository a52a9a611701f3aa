// The --to value: sftp://USER@HOST[:PORT]/PATH, where PATH is the absolute
// directory the PXE server's TFTP/HTTP root is (or will be). Pure.

import { DeployInputError } from './errors.js';

export interface DeployTarget {
  user: string;
  host: string;
  port: number;
  /** Absolute, without a trailing slash (the root directory is refused). */
  path: string;
}

const USAGE = 'give --to sftp://USER@HOST[:PORT]/PATH, e.g. sftp://deploy@pxe1.lab/srv/tftp/cg';

/** Parses --to; DeployInputError saying what is wrong and the expected form. */
export function parseTarget(v: string): DeployTarget {
  const m = /^sftp:\/\/([^@/\s]+)@(\[[0-9A-Fa-f:.]+\]|[^:/\s\[\]]+)(?::(\d+))?(\/[^\s]*)$/.exec(v);
  if (!m) throw new DeployInputError(`--to ${JSON.stringify(v)} is not an sftp:// URL with a user and a path; ${USAGE}`);
  const port = m[3] === undefined ? 22 : Number(m[3]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new DeployInputError(`--to ${JSON.stringify(v)}: port ${m[3]} is not 1-65535`);
  let path: string;
  try {
    path = decodeURIComponent(m[4]!).replace(/\/+$/, '');
  } catch {
    throw new DeployInputError(`--to ${JSON.stringify(v)}: the path has a bad %-escape; ${USAGE}`);
  }
  if (path === '' || path.split('/').some((s) => s === '..' || s === '.') || /[\0\n]/.test(path))
    throw new DeployInputError(`--to ${JSON.stringify(v)}: the path must be an absolute directory other than /, without . or .. parts; ${USAGE}`);
  return { user: decodeURIComponent(m[1]!), host: m[2]!.replace(/^\[|\]$/g, ''), port, path };
}

/** How a target is shown in messages. */
export function formatTarget(t: DeployTarget): string {
  return `sftp://${t.user}@${t.host.includes(':') ? `[${t.host}]` : t.host}${t.port === 22 ? '' : `:${t.port}`}${t.path}`;
}
