// crossguard deploy: checks the arguments and hands over to deploy/deploy.ts
// (a tree) or deploy/rollback.ts (--rollback). Steps go to stderr, the
// result is one line on stdout.

import { UsageError } from '../../../qemu/errors.js';
import { deployTree, type DeployOptions } from '../deploy/deploy.js';
import { rollbackRelease } from '../deploy/rollback.js';
import { formatTarget, parseTarget } from '../deploy/target.js';

export interface DeployArgs {
  dir?: string;
  to: string;
  keep: number;
  rollback?: boolean;
  dryRun?: boolean;
  identity?: string;
  knownHosts?: string;
  insecureHostKey?: boolean;
}

const say = (line: string) => process.stderr.write(`crossguard: ${line}\n`);

/** Checked options (pure; throws UsageError / DeployInputError). */
export function planDeploy(a: DeployArgs): DeployOptions {
  parseTarget(a.to);
  if (a.rollback && a.dir !== undefined) throw new UsageError('--rollback switches the server back to its previous release: give no tree DIR with it');
  if (!a.rollback && a.dir === undefined) throw new UsageError('name the netboot tree to deploy: crossguard deploy DIR --to sftp://USER@HOST/PATH');
  if (a.knownHosts !== undefined && a.insecureHostKey) throw new UsageError('--known-hosts and --insecure-host-key exclude each other: drop one');
  const o: DeployOptions = { keep: a.keep };
  if (a.dryRun) o.dryRun = true;
  if (a.identity !== undefined) o.identity = a.identity;
  if (a.knownHosts !== undefined) o.knownHosts = a.knownHosts;
  if (a.insecureHostKey) o.insecureHostKey = true;
  return o;
}

const hostList = (hs: (string | null)[]) => hs.map((h) => h ?? 'default').join(', ');

export default async function deploy(a: DeployArgs): Promise<number> {
  const opts = planDeploy(a);
  const where = formatTarget(parseTarget(a.to));
  const dry = a.dryRun ? 'dry run: would ' : '';
  if (a.rollback) {
    const r = await rollbackRelease(a.to, opts, say);
    process.stdout.write(`${dry}${a.dryRun ? 'roll back' : 'rolled back'} ${where} from release ${r.previous} to ${r.release} (hosts ${hostList(r.hosts)})\n`);
    return 0;
  }
  const r = await deployTree(a.dir!, a.to, opts, say);
  const mib = (r.uploaded.bytes / (1 << 20)).toFixed(1);
  process.stdout.write(
    `${dry}${a.dryRun ? 'deploy' : 'deployed'} release ${r.release} to ${where} (hosts ${hostList(r.hosts)}${r.carried.length ? `; kept from ${r.previous}: ${hostList(r.carried)}` : ''})` +
      (a.dryRun ? '\n' : `: ${r.uploaded.files} files uploaded (${mib} MiB), ${r.kept} already there, ${r.linked + r.copied} from the previous release, verified by ${r.verifiedBy}${r.removed.length ? `, removed ${r.removed.join(', ')}` : ''}\n`),
  );
  return 0;
}
