import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHmac } from 'node:crypto';
import { checkHostKey, fingerprint, hostToken, keyType } from '../../console/transports/known-hosts.js';

const blob = (type: string, body: string) => {
  const t = Buffer.from(type);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(t.length);
  return Buffer.concat([len, t, Buffer.from(body)]);
};

test('known_hosts: match, mismatch, unknown, revoked, hashed, ports, wildcards', () => {
  const key = blob('ssh-ed25519', 'key-one');
  const other = blob('ssh-ed25519', 'key-two');
  const b64 = key.toString('base64');
  assert.is(keyType(key), 'ssh-ed25519');
  assert.match(fingerprint(key), /^SHA256:[A-Za-z0-9+/]+$/);
  assert.is(hostToken('h', 22), 'h');
  assert.is(hostToken('h', 2222), '[h]:2222');
  const kh = `# comment\nbmc1.lab,10.0.0.5 ssh-ed25519 ${b64}\n[127.0.0.1]:2222 ssh-ed25519 ${other.toString('base64')}\n*.rack7 ssh-ed25519 ${b64}\n`;
  assert.equal(checkHostKey(kh, 'bmc1.lab', 22, key), { status: 'match', line: 2 });
  assert.equal(checkHostKey(kh, '10.0.0.5', 22, key), { status: 'match', line: 2 });
  assert.equal(checkHostKey(kh, 'bmc1.lab', 2222, key), { status: 'unknown' });
  assert.equal(checkHostKey(kh, '127.0.0.1', 2222, key), { status: 'mismatch', line: 3 });
  assert.equal(checkHostKey(kh, 'n3.rack7', 22, key), { status: 'match', line: 4 });
  assert.equal(checkHostKey(kh + `@revoked * ssh-ed25519 ${b64}\n`, 'bmc1.lab', 22, key), { status: 'revoked', line: 5 });
  const salt = Buffer.from('0123456789abcdef0123');
  const hash = createHmac('sha1', salt).update('[10.1.1.1]:2200').digest('base64');
  assert.equal(checkHostKey(`|1|${salt.toString('base64')}|${hash} ssh-ed25519 ${b64}\n`, '10.1.1.1', 2200, key), { status: 'match', line: 1 });
  assert.equal(checkHostKey('', 'x', 22, key), { status: 'unknown' });
});

test.run();
