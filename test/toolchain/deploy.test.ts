// crossguard deploy (toolchain/src/deploy) against a real OpenSSH sshd on
// 127.0.0.1 with its own host key and user key: upload, verify, switch,
// keep N, rollback, a corrupted upload refused, an interrupted upload, host
// keys, a read-only server, a second host's deploy keeping the first host's
// set, an SFTP-only server (read-back verification). The "server" directory
// is on this machine, so the tests look at it directly. Skipped only when
// /usr/sbin/sshd is missing. The parts without a server: deploy-plan.test.ts.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join, relative } from 'node:path';
import { cli, freePort, publicKey, SSHD, startSshd, type TestSshd } from '../console/sshd.js';
import { deployTree, type DeployOptions } from '../../toolchain/src/deploy/deploy.js';
import { rollbackRelease } from '../../toolchain/src/deploy/rollback.js';
import { Remote } from '../../toolchain/src/deploy/remote.js';
import { parseTarget } from '../../toolchain/src/deploy/target.js';
import type { Manifest } from '../../toolchain/src/pxe/manifest.js';
import { planTree, type HostInput } from '../../toolchain/src/pxe/tree.js';
import { hashFile, writeTree, type TreeTools } from '../../toolchain/src/pxe/write.js';
import { checkVmDescription } from '../../toolchain/src/vms.js';
import { mb1ElfHead } from './kernels.js';
import { rejectsNamed } from './named.js';

const A = '52:54:00:00:00:0a';
const B = '52:54:00:00:00:0b';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

// ---- against a real sshd ----

/** Every file under `root` with its size and SHA-256, and every link with its target: what "nothing changed" compares. */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(root)) return out;
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      const r = relative(root, p);
      if (e.isSymbolicLink()) out[r] = `-> ${readlinkSync(p)}`;
      else if (e.isDirectory()) (out[r + '/'] = 'dir'), walk(p);
      else out[r] = `${statSync(p).size} ${sha(readFileSync(p).toString('latin1'))}`;
    }
  };
  walk(root);
  return out;
}

if (!existsSync(SSHD)) {
  test.skip(`deploy against sshd (skipped: ${SSHD} is missing; apt-get install openssh-server)`, () => {});
} else {
  const tmp = mkdtempSync(join(tmpdir(), 'cg-deploy-'));
  const srv = join(tmp, 'srv', 'tftp');
  const user = userInfo().username;
  let sshd: TestSshd | undefined;
  const sshdLog = () => sshd?.log() ?? '';
  const port = { main: 0, sftpOnly: 0, readOnly: 0, proxy: 0 };
  let proxy: Server | undefined;
  const proxySockets = new Set<Socket>();
  /** Bytes the proxy lets through from the client before it cuts the connection (Infinity: never). */
  let proxyLimit = Infinity;
  let proxyCut = false;

  const tools = (): TreeTools => {
    const t = join(tmp, 'tools');
    if (!existsSync(t)) {
      for (const p of ['i386-pc', 'x86_64-efi']) {
        mkdirSync(join(t, p), { recursive: true });
        writeFileSync(join(t, p, 'moddep.lst'), `${p}\n`);
        writeFileSync(join(t, p, 'normal.mod'), randomBytes(2048));
      }
      mkdirSync(join(t, 'ipxe'));
      for (const b of ['undionly.kpxe', 'ipxe.efi', 'snponly.efi']) writeFileSync(join(t, 'ipxe', b), randomBytes(4096));
      // grub-mknetdir's part: boot/grub/<platform>/ with the core image and the modules.
      writeFileSync(
        join(t, 'mknetdir'),
        '#!/bin/sh\nfor a; do case "$a" in --net-directory=*) N="${a#*=}";; esac; [ "$prev" = -d ] && D="$a"; prev="$a"; done\n' +
          'P=$(basename "$D"); mkdir -p "$N/boot/grub/$P" && cp "$D"/*.mod "$N/boot/grub/$P/" && echo "core $P" > "$N/boot/grub/$P/core.$([ $P = i386-pc ] && echo 0 || echo efi)"\n',
      );
      chmodSync(join(t, 'mknetdir'), 0o755);
    }
    return { grubBios: join(t, 'i386-pc'), grubEfi: join(t, 'x86_64-efi'), ipxeDir: join(t, 'ipxe'), mknetdir: join(t, 'mknetdir') };
  };

  /** A kernel file the VM description check accepts, `bytes` long, unique content. */
  const kernel = (name: string, bytes = 16 << 10): string => {
    const p = join(tmp, 'src', name);
    mkdirSync(join(tmp, 'src'), { recursive: true });
    const head = mb1ElfHead();
    writeFileSync(p, Buffer.concat([head, randomBytes(Math.max(0, bytes - head.length))]));
    return p;
  };
  const host = (mac: string | undefined, vms: [string, string][]): HostInput => ({
    ...(mac ? { mac } : {}),
    source: `${mac ?? 'default'}.json`,
    set: checkVmDescription({ vms: vms.map(([name, k]) => ({ name, memory_mib: 16, kernel: k })) }, join(tmp, 'src'), { source: 'set.json' }),
  });
  let trees = 0;
  /** Writes a netboot tree with these hosts (no default set: the monitor alone). */
  const tree = async (hosts: HostInput[], fallback?: HostInput): Promise<{ dir: string; manifest: Manifest }> => {
    const dir = join(tmp, `tree${++trees}`);
    const monitor = join(tmp, 'src', 'crossguard.elf');
    if (!existsSync(monitor)) kernel('crossguard.elf', 64 << 10);
    const plan = planTree({ monitorElf: monitor, cmdline: 'cg.shell=0', hosts, fallback: fallback ?? { source: '(none: the monitor alone)' } }, hashFile);
    const { manifest } = await writeTree(dir, plan, tools());
    return { dir, manifest };
  };
  const to = (p = port.main) => `sftp://${user}@127.0.0.1:${p}${srv}`;
  const opts = (o: Partial<DeployOptions> = {}): DeployOptions => ({
    identity: join(tmp, 'user_key'),
    knownHosts: join(tmp, 'known_hosts'),
    env: {},
    progressStream: { isTTY: false, write: () => true },
    ...o,
  });
  const current = () => readlinkSync(join(srv, 'current'));
  const releaseDirs = () => readdirSync(join(srv, 'releases')).sort();
  /** Every file of the live tree matches its manifest.json, and every script names only the live release. */
  const checkLive = (id: string) => {
    assert.is(current(), `releases/${id}`);
    const m = JSON.parse(readFileSync(join(srv, 'manifest.json'), 'utf8')) as Manifest;
    assert.is(m.release, id);
    assert.equal(m, JSON.parse(readFileSync(join(srv, 'releases', id, 'manifest.json'), 'utf8')));
    for (const f of m.files) {
      const data = readFileSync(join(srv, f.path));
      assert.is(data.length, f.size, f.path);
      assert.is(createHash('sha256').update(data).digest('hex'), f.sha256, f.path);
      if (/\.(ipxe|cfg)$/.test(f.path) && f.path !== 'boot-efi.ipxe')
        for (const r of data.toString().match(/releases\/[A-Za-z0-9._-]+/g) ?? []) assert.is(r, `releases/${id}`, `${f.path} names ${r}`);
    }
    assert.match(readFileSync(join(srv, 'boot.ipxe'), 'utf8'), `chain /releases/${id}/ipxe/boot.ipxe`);
    assert.match(readFileSync(join(srv, 'boot/grub/grub.cfg'), 'utf8'), `source /releases/${id}/grub/boot.cfg`);
    assert.match(readFileSync(join(srv, 'dnsmasq-crossguard.conf'), 'utf8'), new RegExp(`^tftp-root=${srv}$`, 'm'));
    assert.not.ok(Object.keys(snapshot(srv)).some((p) => p.endsWith('.part') && (!p.startsWith('releases/') || p.startsWith(`releases/${id}/`))), 'no .part file left in the live tree');
    return m;
  };

  test.before(async () => {
    for (const k of Object.keys(port) as (keyof typeof port)[]) port[k] = await freePort();
    sshd = await startSshd(tmp, [port.main, port.sftpOnly, port.readOnly], [
      'Subsystem sftp internal-sftp',
      // An SFTP-only server (no commands: verification reads files back) and a read-only one.
      `Match LocalPort ${port.sftpOnly}`,
      '  ForceCommand internal-sftp',
      `Match LocalPort ${port.readOnly}`,
      '  ForceCommand internal-sftp -R',
    ], 'deploy');
    const names = Object.values(port).map((p) => `[127.0.0.1]:${p}`).join(',');
    writeFileSync(join(tmp, 'known_hosts'), `${names} ${publicKey(tmp, 'host_key')}\n`);
    writeFileSync(join(tmp, 'known_hosts_other'), `${names} ${publicKey(tmp, 'other_key')}\n`);
    writeFileSync(join(tmp, 'known_hosts_empty'), '');
    // A TCP proxy to sshd that can cut the connection mid-transfer.
    proxy = createServer((c) => {
      const s = netConnect(port.main, '127.0.0.1');
      proxySockets.add(c).add(s);
      let n = 0;
      c.on('data', (d: Buffer) => {
        n += d.length;
        if (n > proxyLimit) {
          proxyCut = true;
          c.destroy();
          s.destroy();
        } else s.write(d);
      });
      s.pipe(c);
      c.on('error', () => s.destroy());
      s.on('error', () => c.destroy());
    });
    await new Promise<void>((r) => proxy!.listen(port.proxy, '127.0.0.1', r));
  });

  test.after(async () => {
    for (const s of proxySockets) s.destroy();
    await new Promise((r) => (proxy ? proxy.close(r) : r(null)));
    await sshd?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  let treeA: { dir: string; manifest: Manifest };
  let first = '';
  let merged = '';

  test('an unknown host key is refused with its fingerprint and the fix; a changed one too; nothing written', async () => {
    treeA = await tree([host(A, [['web', kernel('web.elf')]])]);
    const fp = execFileSync('ssh-keygen', ['-l', '-f', join(tmp, 'host_key.pub')]).toString().split(/\s+/)[1]!;
    const e = await rejectsNamed(deployTree(treeA.dir, to(), opts({ knownHosts: join(tmp, 'known_hosts_empty') })), 'DeployConnectError', /is not in .*known_hosts_empty/);
    assert.ok(e.message.includes(fp), e.message);
    assert.match(e.message, /ssh-keyscan -p \d+ 127\.0\.0\.1/);
    assert.match(e.message, /the PXE server/);
    await rejectsNamed(deployTree(treeA.dir, to(), opts({ knownHosts: join(tmp, 'known_hosts_other') })), 'DeployConnectError', /does not match .*known_hosts_other line 1/);
    assert.not.ok(existsSync(srv), 'nothing was made on the server');
  });

  test('a target without write access: one clear error, nothing changed', async () => {
    mkdirSync(srv, { recursive: true });
    writeFileSync(join(srv, 'keep.txt'), 'mine');
    const before = snapshot(srv);
    const r = await cli([
      'deploy', treeA.dir, '--to', to(port.readOnly), '--identity', join(tmp, 'user_key'), '--known-hosts', join(tmp, 'known_hosts'),
    ]);
    assert.is(r.code, 1, r.stderr);
    const last = r.stderr.trim().split('\n').pop()!;
    assert.match(last, /^crossguard: sftp:\/\/.*: no write access \(.*permission denied\); give a path user \S+ can write.*nothing was changed/);
    assert.equal(snapshot(srv), before);
  });

  test('first deploy through the CLI: uploaded, verified with sha256sum, switched; the progress bar on stderr', async () => {
    const r = await cli(['deploy', treeA.dir, '--to', to(), '--identity', join(tmp, 'user_key'), '--known-hosts', join(tmp, 'known_hosts')]);
    assert.is(r.code, 0, `${r.stderr}\n--- sshd ---\n${sshdLog()}`);
    first = treeA.manifest.release;
    assert.match(r.stdout, new RegExp(`^deployed release ${first} to sftp://.* \\(hosts ${A}, default\\): \\d+ files uploaded .* verified by sha256sum\\n$`));
    assert.match(r.stderr, /crossguard: upload \[#{20}\] 100%/);
    assert.match(r.stderr, /sha256sum run on the server/);
    const m = checkLive(first);
    assert.equal(m.hosts.map((h) => h.mac), [A, null]);
    assert.is(readFileSync(join(srv, 'keep.txt'), 'utf8'), 'mine', 'files of others are left alone');
    const h = JSON.parse(readFileSync(join(srv, 'deploys.json'), 'utf8'));
    assert.equal(h.releases.map((e: { id: string }) => e.id), [first]);
  });

  test('the same tree again: everything already there, nothing uploaded', async () => {
    const r = await deployTree(treeA.dir, to(), opts());
    assert.is(r.release, first);
    assert.is(r.uploaded.files, 0);
    assert.ok(r.kept > 0);
    checkLive(first);
  });

  let treeB: { dir: string; manifest: Manifest };
  test('--dry-run prints the plan and changes nothing', async () => {
    treeB = await tree([host(B, [['db', kernel('db.elf')]])]);
    const before = snapshot(srv);
    const lines: string[] = [];
    const r = await deployTree(treeB.dir, to(), opts({ dryRun: true }), (l) => lines.push(l));
    assert.ok(r.dryRun);
    assert.equal(r.carried, [A]);
    assert.match(lines.join('\n'), /to upload.*\n.*switch current from .* to releases\//);
    assert.match(lines.join('\n'), /dry run: nothing was changed/);
    assert.equal(snapshot(srv), before);
  });

  test("a second host's deploy keeps the first host's set (payloads hard-linked on the server)", async () => {
    const r = await deployTree(treeB.dir, to(), opts());
    merged = r.release;
    assert.is.not(merged, first);
    assert.equal(r.fromTree, [B, null], "the tree's default (the monitor alone): the server had no default set to keep");
    assert.equal(r.carried, [A]);
    assert.equal(r.hosts, [B, A, null]);
    assert.ok(r.linked >= 2, `linked ${r.linked}`); // A's kernel, its vms.cfg, the monitor
    const m = checkLive(merged);
    const hostA = m.hosts.find((h) => h.mac === A)!;
    const oldA = treeA.manifest.hosts.find((h) => h.mac === A)!;
    assert.equal(hostA.modules.map((x) => [x.name, x.sha256]), oldA.modules.map((x) => [x.name, x.sha256]), "A's set is the one it had");
    const kA = hostA.modules.find((x) => x.name !== 'vms.cfg')!;
    assert.is(statSync(join(srv, kA.path)).ino, statSync(join(srv, 'releases', first, kA.name)).ino, 'one file on the server disk');
    const dispatch = readFileSync(join(srv, 'releases', merged, 'ipxe', 'boot.ipxe'), 'utf8');
    assert.ok(dispatch.includes(A) && dispatch.includes(B), dispatch);
    assert.match(readFileSync(join(srv, hostA.ipxe), 'utf8'), new RegExp(`module /releases/${merged}/${kA.name}`));
  });

  let third = '';
  test('a corrupted upload is refused and the live release stays; the next deploy sends the file again', async () => {
    const treeA2 = await tree([host(A, [['web', kernel('web2.elf')]])]);
    const before = { boot: readFileSync(join(srv, 'boot.ipxe'), 'utf8'), current: current() };
    let victim = '';
    await rejectsNamed(
      deployTree(treeA2.dir, to(), opts({
        beforeVerify: (id) => {
          const k = treeA2.manifest.hosts[0]!.modules.find((x) => x.name !== 'vms.cfg')!;
          victim = join(srv, 'releases', id, k.name);
          const b = readFileSync(victim);
          b[b.length - 1] ^= 0xff; // a bit flipped on the server's disk
          writeFileSync(victim, b);
        },
      })),
      'DeployVerifyError',
      new RegExp(`does not match its manifest: releases/\\w+/\\w+ is \\d+ bytes, sha256 .*the manifest says.*Release ${merged} stays live`),
    );
    assert.is(current(), before.current);
    assert.is(readFileSync(join(srv, 'boot.ipxe'), 'utf8'), before.boot);
    checkLive(merged);
    const r = await deployTree(treeA2.dir, to(), opts());
    third = r.release;
    assert.is(r.uploaded.files, 1 + 2, 'the damaged file again, and the two entry files that name the release');
    assert.ok(r.kept > 0);
    assert.equal(r.carried, [B]);
    checkLive(third);
    assert.ok(readFileSync(victim).equals(readFileSync(join(treeA2.dir, 'releases', treeA2.manifest.release, relative(join(srv, 'releases', third), victim)))));
  });

  test('an interrupted upload (connection cut mid-transfer) leaves current intact; deploying again finishes it', async () => {
    const big = await tree([host(A, [['web', kernel('big.elf', 4 << 20)]])]);
    const before = snapshot(srv);
    proxyLimit = 1 << 20;
    await rejectsNamed(
      deployTree(big.dir, to(port.proxy), opts()),
      'DeployConnectionLostError',
      /the connection was lost while .*the live release was not touched — run the same deploy again/,
    );
    proxyLimit = Infinity;
    assert.ok(proxyCut, 'the proxy cut the connection');
    assert.is(current(), `releases/${third}`);
    for (const p of ['boot.ipxe', 'boot/grub/grub.cfg', 'manifest.json', 'deploys.json', 'current']) assert.is(snapshot(srv)[p], before[p], p);
    checkLive(third);
    const r = await deployTree(big.dir, to(), opts({ keep: 2 }));
    checkLive(r.release);
    assert.equal(releaseDirs(), [third, r.release].sort(), '--keep 2: the live release and the one before');
    assert.equal(JSON.parse(readFileSync(join(srv, 'deploys.json'), 'utf8')).releases.map((e: { id: string }) => e.id), [third, r.release]);
    assert.equal(r.removed.sort(), [first, merged].sort());
  });

  test('--rollback switches back to the previous release (CLI), then refuses when none is left', async () => {
    const live = current().slice('releases/'.length);
    const dry = await cli(['deploy', '--rollback', '--dry-run', '--to', to(), '--identity', join(tmp, 'user_key'), '--known-hosts', join(tmp, 'known_hosts')]);
    assert.is(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, new RegExp(`dry run: would roll back .* from release ${live} to ${third}`));
    assert.is(current(), `releases/${live}`);
    const r = await cli(['deploy', '--rollback', '--to', to(), '--identity', join(tmp, 'user_key'), '--known-hosts', join(tmp, 'known_hosts')]);
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`rolled back .* from release ${live} to ${third}`));
    checkLive(third);
    const before = snapshot(srv);
    await rejectsNamed(rollbackRelease(to(), opts()), 'DeployServerError', new RegExp(`no release before ${third}`));
    assert.equal(snapshot(srv), before);
  });

  test('a copy on the server where it cannot link: read back in pieces and written, same bytes', async () => {
    const data = randomBytes(300 * 1024 + 17);
    writeFileSync(join(srv, 'copy-src.bin'), data);
    const remote = await Remote.open(parseTarget(to()), opts());
    try {
      let n = 0;
      await remote.copy('copy-src.bin', 'copy-dst.bin', (k) => (n += k));
      assert.is(n, data.length);
    } finally {
      remote.close();
    }
    assert.ok(readFileSync(join(srv, 'copy-dst.bin')).equals(data));
    rmSync(join(srv, 'copy-src.bin'));
    rmSync(join(srv, 'copy-dst.bin'));
  });

  test('an SFTP-only server: files verified by reading them back', async () => {
    const treeC = await tree([host(B, [['db', kernel('db2.elf')]])]);
    const r = await deployTree(treeC.dir, to(port.sftpOnly), opts());
    assert.is(r.verifiedBy, 'read-back');
    assert.equal(r.carried, [A]);
    checkLive(r.release);
    // A damaged file is caught by reading it back too.
    const treeD = await tree([host(B, [['db', kernel('db3.elf')]])]);
    await rejectsNamed(
      deployTree(treeD.dir, to(port.sftpOnly), opts({
        beforeVerify: (id) => {
          // Replaced, not written in place: the file may be a hard link shared with the live release.
          const k = join(srv, 'releases', id, treeD.manifest.hosts[0]!.modules[1]!.name);
          writeFileSync(`${k}.x`, 'x');
          renameSync(`${k}.x`, k);
        },
      })),
      'DeployVerifyError',
      /is 1 bytes, sha256/,
    );
    checkLive(r.release);
    assert.ok(lstatSync(join(srv, 'current')).isSymbolicLink());
  });
}

test.run();
