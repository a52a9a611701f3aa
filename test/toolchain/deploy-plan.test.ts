// crossguard deploy, the parts that need no server (toolchain/src/deploy):
// the --to URL, the merge of a tree into the server's live release,
// manifests read from a server checked like any input, the history behind
// --keep and --rollback, sha256sum's output and the upload progress bar.
// deploy.test.ts runs the real thing against sshd.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { parseSha256sum } from '../../toolchain/src/deploy/digest.js';
import { parseHistory, previousRelease, recordDeploy, releasesToRemove, withLive } from '../../toolchain/src/deploy/history.js';
import { UploadProgress } from '../../toolchain/src/deploy/progress.js';
import { checkManifest, planRelease } from '../../toolchain/src/deploy/release.js';
import { parseTarget } from '../../toolchain/src/deploy/target.js';
import type { Manifest } from '../../toolchain/src/pxe/manifest.js';
import { throwsNamed } from './named.js';

const A = '52:54:00:00:00:0a';
const B = '52:54:00:00:00:0b';

test('--to: sftp://USER@HOST[:PORT]/PATH, anything else refused with the form', () => {
  assert.equal(parseTarget('sftp://deploy@pxe1.lab/srv/tftp/cg/'), { user: 'deploy', host: 'pxe1.lab', port: 22, path: '/srv/tftp/cg' });
  assert.equal(parseTarget('sftp://u@[::1]:2222/x'), { user: 'u', host: '::1', port: 2222, path: '/x' });
  for (const bad of ['ssh://u@h/x', 'sftp://h/x', 'sftp://u@h', 'sftp://u@h/', 'sftp://u@h/a/../b', 'sftp://u@h:99999/x', '/srv/tftp'])
    throwsNamed(() => parseTarget(bad), 'DeployInputError', /sftp:\/\/USER@HOST\[:PORT\]\/PATH|port|absolute directory/);
});

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const fakeManifest = (release: string, hosts: { mac: string | null; payload?: string }[]): Manifest => {
  const dir = `releases/${release}`;
  const files = [
    { path: 'boot.ipxe', size: 1, sha256: sha('e') },
    { path: 'undionly.kpxe', size: 1, sha256: sha('u') },
    { path: `${dir}/crossguard.elf`, size: 7, sha256: sha('monitor') },
    { path: `${dir}/ipxe/boot.ipxe`, size: 1, sha256: sha('d') },
  ];
  const mhosts = hosts.map((h) => {
    const mods = h.payload
      ? [
          { name: 'vms.cfg', path: `${dir}/sets/${sha(h.payload + 'cfg').slice(0, 12)}/vms.cfg`, size: 3, sha256: sha(h.payload + 'cfg'), what: 'vms.cfg' },
          { name: sha(h.payload).slice(0, 12), path: `${dir}/${sha(h.payload).slice(0, 12)}`, size: h.payload.length, sha256: sha(h.payload), what: 'kernel' },
        ]
      : [];
    for (const m of mods) if (!files.some((f) => f.path === m.path)) files.push({ path: m.path, size: m.size, sha256: m.sha256 });
    const file = h.mac ? h.mac.replace(/:/g, '-') : 'default';
    return { mac: h.mac, source: `${file}.json`, vms: h.payload ? ['vm'] : [], set: mods[0]?.path ?? null, ipxe: `${dir}/ipxe/${file}.ipxe`, grub: `${dir}/grub/${file}.cfg`, modules: mods };
  });
  return { format: 'crossguard-pxe/1', release, monitor: { path: `${dir}/crossguard.elf`, cmdline: 'cg.shell=0' }, http_base: null, hosts: mhosts, files: files.sort((a, b) => (a.path < b.path ? -1 : 1)) };
};

test('merge: hosts the tree names get its sets, the others keep the live ones; scripts name the merged release only', () => {
  const live = fakeManifest('aaaaaaaaaaaa', [{ mac: A, payload: 'kernel-a' }, { mac: null }]);
  const tree = fakeManifest('bbbbbbbbbbbb', [{ mac: B, payload: 'kernel-b' }, { mac: null }]);
  const p = planRelease(tree, live, '/srv/cg');
  assert.match(p.release, /^[0-9a-f]{12}$/);
  assert.is.not(p.release, 'bbbbbbbbbbbb', 'a merged release has its own id');
  assert.is(planRelease(tree, live, '/srv/cg').release, p.release, 'same merge, same id');
  assert.equal(p.fromTree, [B, null]);
  assert.equal(p.carried, [A]);
  assert.equal(p.manifest.hosts.map((h) => h.mac), [B, A, null]);
  const kA = sha('kernel-a').slice(0, 12);
  const fromServer = p.releaseFiles.find((f) => f.path === `releases/${p.release}/${kA}`);
  assert.equal(fromServer?.source, { kind: 'server', path: `releases/aaaaaaaaaaaa/${kA}` });
  for (const f of p.releaseFiles) assert.ok(f.path.startsWith(`releases/${p.release}/`), f.path);
  for (const f of [...p.releaseFiles, ...p.topFiles])
    if (f.source.kind === 'text') assert.not.match(f.source.text, /releases\/(aaaaaaaaaaaa|bbbbbbbbbbbb)/, f.path);
  const dispatch = p.releaseFiles.find((f) => f.path.endsWith('ipxe/boot.ipxe'))!;
  assert.ok(dispatch.source.kind === 'text' && dispatch.source.text.includes(A) && dispatch.source.text.includes(B));
  assert.match((p.topFiles.find((f) => f.path === 'boot.ipxe')!.source as { text: string }).text, new RegExp(`chain /releases/${p.release}/ipxe/boot.ipxe`));
  // Every module the manifest lists is a file of the release.
  const paths = new Set(p.manifest.files.map((f) => f.path));
  for (const h of p.manifest.hosts) for (const m of h.modules) assert.ok(paths.has(m.path), m.path);

  // A tree that names the same host replaces its set; nothing carried: the tree's own id and files.
  const again = planRelease(fakeManifest('cccccccccccc', [{ mac: A, payload: 'kernel-a2' }, { mac: null }]), live, '/srv/cg');
  assert.is(again.release, 'cccccccccccc');
  assert.equal(again.carried, []);
  assert.ok(again.releaseFiles.every((f) => f.source.kind === 'local'));
  // A tree with its own default set replaces the server's; without one, the server's stays.
  const liveDefault = fakeManifest('dddddddddddd', [{ mac: null, payload: 'spare' }]);
  assert.equal(planRelease(tree, liveDefault, '/x').carried, [null]);
  assert.equal(planRelease(fakeManifest('eeeeeeeeeeee', [{ mac: null, payload: 'spare2' }]), liveDefault, '/x').carried, []);
});

test('manifests from a server are checked like any input', () => {
  const good = fakeManifest('aaaaaaaaaaaa', [{ mac: A, payload: 'k' }, { mac: null }]);
  checkManifest(good, 'm');
  const bad = (f: (m: Manifest) => void, re: RegExp) => {
    const m = JSON.parse(JSON.stringify(good)) as Manifest;
    f(m);
    throwsNamed(() => checkManifest(m, 'srv/manifest.json'), 'DeployServerError', re);
  };
  bad((m) => (m.files[0]!.path = '../../etc/passwd'), /plain path/);
  bad((m) => (m.hosts[0]!.modules[1]!.path = 'releases/other/x'), /outside releases\/aaaaaaaaaaaa/);
  bad((m) => (m.hosts[1]!.mac = A), /repeated MAC|exactly one default/);
  bad((m) => (m.files[1]!.sha256 = 'zz'), /sha256/);
  bad((m) => ((m as { format: string }).format = 'x'), /format/);
});

test('history: newest N kept with the current one, leftovers removed, rollback goes one back each time', () => {
  let h = parseHistory(null, 'd');
  for (const id of ['r1', 'r2', 'r3', 'r4']) h = recordDeploy(h, id, '2026-01-01T00:00:00Z', [A]);
  const dirs = ['r1', 'r2', 'r3', 'r4', 'partial'];
  assert.equal(releasesToRemove(h, dirs, 'r4', 2), ['partial', 'r1', 'r2']);
  assert.equal(releasesToRemove(h, dirs, 'r1', 2), ['partial', 'r2'], 'the current release is never removed');
  assert.equal(releasesToRemove(h, dirs, 'r4', 2, 'partial'), ['r1', 'r2']);
  assert.is(previousRelease(h, 'r4', dirs), 'r3');
  assert.is(previousRelease(h, 'r3', dirs), 'r2');
  assert.is(previousRelease(h, 'r3', ['r1', 'r3', 'r4']), 'r1', 'skips releases no longer there');
  assert.is(previousRelease(h, 'r1', dirs), null);
  assert.equal(recordDeploy(h, 'r2', 't', []).releases.map((e) => e.id), ['r1', 'r3', 'r4', 'r2']);
  throwsNamed(() => parseHistory('{"format":"other"}', 'srv/deploys.json'), 'DeployServerError', /move it away/);
  // A deploy cut off after its switch left deploys.json without the live release: it is put back, newest.
  assert.equal(withLive(h, 'r5', [A]).releases.map((e) => e.id), ['r1', 'r2', 'r3', 'r4', 'r5']);
  assert.is(withLive(h, 'r3', [A]), h);
  assert.equal(releasesToRemove(recordDeploy(withLive(h, 'r5', [A]), 'r6', 't', []), [...dirs, 'r5', 'r6'], 'r6', 2), ['partial', 'r1', 'r2', 'r3', 'r4']);
});

test('sha256sum output and the progress bar', () => {
  const d = sha('x');
  assert.equal([...parseSha256sum(`${d} *releases/r/a\n${d}  b\ngarbage\n`)], [['releases/r/a', d], ['b', d]]);
  let t = 0;
  const lines: string[] = [];
  const bar = new UploadProgress(4 << 20, { isTTY: false, write: (s) => lines.push(s) }, () => t);
  bar.start('releases/r/big');
  for (let i = 0; i < 8; i++) {
    t += 250;
    bar.add(512 << 10);
  }
  bar.finish();
  assert.is(lines.length, 4, lines.join(''));
  assert.match(lines[3]!, /upload \[#{20}\] 100% 4\.0 MiB\/4\.0 MiB 2\.0 MiB\/s  releases\/r\/big/);
  const tty: string[] = [];
  const b2 = new UploadProgress(100, { isTTY: true, columns: 100, write: (s) => tty.push(s) }, () => (t += 1000));
  b2.start('releases/0123456789ab/a-very-long-file-name-that-does-not-fit');
  b2.add(50);
  assert.match(tty[tty.length - 1]!, /^\r.*\[#{10}\.{10}\]  50%.*…[a-z-]*-fit\x1b\[K$/, JSON.stringify(tty));
  assert.ok(tty.every((s) => s.replace(/\x1b\[K$/, '').length <= 100), 'fits the terminal');
  b2.clear();
  assert.is(tty[tty.length - 1], '\r\x1b[K', 'wiped for a line of text');
  b2.add(10);
  assert.match(tty[tty.length - 1]!, /  60%/, 'drawn again at the next update, however soon');
});

test.run();
