// Host key checking for ssh:// connections against an OpenSSH known_hosts
// file (pure: text in, verdict out). Understood: plain and comma-separated
// host patterns with * and ? wildcards and !negation, [host]:port for
// ports other than 22, hashed entries (|1|salt|hash, HMAC-SHA1), and
// @revoked. @cert-authority lines are skipped (no certificates here).

import { createHash, createHmac } from 'node:crypto';

export type HostKeyVerdict =
  | { status: 'match'; line: number }
  | { status: 'mismatch'; line: number }
  | { status: 'revoked'; line: number }
  | { status: 'unknown' };

/** How known_hosts names HOST on PORT. */
export function hostToken(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** The key type written inside an SSH public key blob (e.g. ssh-ed25519), or '' when malformed. */
export function keyType(blob: Buffer): string {
  if (blob.length < 4) return '';
  const n = blob.readUInt32BE(0);
  return n > 0 && 4 + n <= blob.length ? blob.subarray(4, 4 + n).toString('latin1') : '';
}

/** OpenSSH's SHA256 fingerprint of a key blob: `SHA256:<base64 without padding>`. */
export function fingerprint(blob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

function globMatch(pattern: string, text: string): boolean {
  const re = new RegExp(
    '^' + pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$',
    'i',
  );
  return re.test(text);
}

function hostMatches(field: string, token: string): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    if (!salt || !hash) return false;
    const mac = createHmac('sha1', Buffer.from(salt, 'base64')).update(token).digest('base64');
    return mac === hash;
  }
  let hit = false;
  for (const p of field.split(',')) {
    if (p.startsWith('!')) {
      if (globMatch(p.slice(1), token)) return false;
    } else if (globMatch(p, token)) hit = true;
  }
  return hit;
}

/** Checks the host key `blob` of HOST:PORT against known_hosts `text`. */
export function checkHostKey(text: string, host: string, port: number, blob: Buffer): HostKeyVerdict {
  const token = hostToken(host, port);
  const b64 = blob.toString('base64');
  let seen: number | undefined;
  let matched: number | undefined;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    let words = line.split(/\s+/);
    let marker = '';
    if (words[0]!.startsWith('@')) {
      marker = words[0]!;
      words = words.slice(1);
    }
    if (words.length < 3 || marker === '@cert-authority') continue;
    const [hosts, , key] = words as [string, string, string];
    if (!hostMatches(hosts, token)) continue;
    if (marker === '@revoked') {
      if (key === b64) return { status: 'revoked', line: i + 1 };
      continue;
    }
    if (key === b64) matched ??= i + 1;
    else seen ??= i + 1;
  }
  if (matched !== undefined) return { status: 'match', line: matched };
  if (seen !== undefined) return { status: 'mismatch', line: seen };
  return { status: 'unknown' };
}
