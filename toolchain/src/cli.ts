// The crossguard command line. This file only declares commands; each one's
// implementation loads lazily from commands/<name>.ts. Errors are handled
// once, at the bottom: known ones print one `crossguard: <message>` line and
// exit with their status; anything else is a bug and shows its stack.

import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { UsageError } from '../../qemu/errors.js';
import { exitOnError } from './fatal.js';
import { RUN_EPILOGUE } from './help.js';
import { CONSOLE_EPILOGUE } from '../../console/help.js';

async function main(argv: string[]): Promise<number> {
  let status = 0;
  await yargs(argv)
    .scriptName('crossguard')
    .usage('$0 <command> [options]')
    .command(
      'build',
      'Build build/crossguard.elf and build/crossguard.iso (runs make)',
      (y) => y,
      async () => {
        await (await import('./commands/build.js')).default();
      },
    )
    .command(
      'image',
      'Make a GRUB ISO (BIOS + UEFI) that boots a monitor ELF over Multiboot2 (or 1), or a netboot tree (--format pxe, docs/pxe.md)',
      (y) =>
        y
          .option('format', { choices: ['iso', 'pxe'] as const, default: 'iso' as const, describe: 'iso: a GRUB ISO; pxe: a directory for a TFTP/HTTP server (iPXE, GRUB BIOS and UEFI)' })
          .option('elf', { type: 'string', default: 'build/crossguard.elf', describe: 'monitor ELF to boot' })
          .option('out', { type: 'string', describe: 'ISO to write (default build/crossguard.iso), or the tree directory (default build/pxe)' })
          .option('cmdline', { type: 'string', describe: 'kernel command line' })
          .option('serial', { type: 'string', describe: "the monitor's serial port: com1 (default), com2 or 0xPORT, optionally ,BAUD (adds cg.serial= to the command line; GRUB's console follows)" })
          .option('entry', {
            choices: ['multiboot2', 'multiboot'] as const,
            default: 'multiboot2' as const,
            describe: 'protocol of the default GRUB entry',
          })
          .option('vms', { type: 'string', describe: 'pack the VMs of this description (docs/vm-config.md) into the image; with --format pxe the set of hosts not named by --host' })
          .option('mem', { type: 'number', describe: 'with --vms/--host: machine RAM in MiB each set must fit (default 1024)' })
          .option('host', { type: 'string', array: true, describe: 'pxe: MAC=FILE, the VM set of the host with that NIC (repeatable)' })
          .option('http-base', { type: 'string', describe: 'pxe: iPXE fetches payloads from this URL first (e.g. http://${next-server}), TFTP if that fails' })
          .option('release', { type: 'string', describe: 'pxe: release id (default: 12 hex digits from the content)' })
          .option('max-file-bytes', { type: 'number', describe: 'pxe: the largest file the tree may hold (default 33553920: 65535 TFTP blocks of 512 bytes)' }),
      async (a) => {
        await (await import('./commands/image.js')).default(a);
      },
    )
    .command('policy', 'Scheduler policies (AssemblyScript → WebAssembly): build, check', (y) =>
      y
        .command(
          'build',
          'Compile every firmware/policy/*.ts to OUT/<name>.wasm and check it against the ABI',
          (b) => b.option('out', { type: 'string', default: 'build/policy', describe: 'output directory' }),
          async (a) => {
            await (await import('./commands/policy.js')).build(a);
          },
        )
        .command(
          'check <files..>',
          'Check .wasm files against the policy ABI (firmware/include/abi/policy_abi.h)',
          (b) => b.positional('files', { type: 'string', array: true, demandOption: true }),
          async (a) => {
            await (await import('./commands/policy.js')).check({ files: a.files as string[] });
          },
        )
        .demandCommand(1, 'name a policy command: build or check'),
    )
    .command(
      'run',
      'Build, boot in an emulator, and attach the serial line',
      (y) =>
        y
          .option('emulator', {
            choices: ['auto', 'bochs', 'qemu', 'kvm'] as const,
            default: 'auto' as const,
            describe: 'auto = kvm with nested VT-x, else bochs, else qemu (TCG)',
          })
          .option('boot', { choices: ['iso', 'elf', 'pxe'] as const, default: 'iso' as const, describe: 'GRUB ISO, the ELF via QEMU -kernel (Multiboot1), or a network boot from the netboot tree --image DIR' })
          .option('mac', { type: 'string', describe: 'with --boot pxe: the NIC\'s MAC, which picks the host\'s VM set (default 52:54:00:12:34:56)' })
          .option('loader', { choices: ['ipxe', 'grub'] as const, describe: 'with --boot pxe: BIOS: iPXE (default) or GRUB netboot (core.0); UEFI: OVMF PXE + GRUB EFI (grub, default) or QEMU\'s iPXE EFI ROM chaining GRUB EFI (ipxe)' })
          .option('net', { choices: ['auto', 'netns', 'user'] as const, describe: 'with --boot pxe: a network namespace with dnsmasq (needs root; auto when root) or QEMU user networking' })
          .option('firmware', { choices: ['bios', 'uefi'] as const, default: 'bios' as const, describe: 'platform firmware (uefi: QEMU with OVMF, ISO or network boot)' })
          .option('cpus', { type: 'number', default: 2 })
          .option('mem', { type: 'number', describe: 'machine RAM in MiB (default 512); with --kernel the guest RAM (default 128 as in QEMU; the machine gets 128 more)' })
          .option('timeout', { type: 'number', default: 0, describe: 'seconds before giving up (0 = none)' })
          .option('until', { type: 'string', describe: 'stop with status 0 when a serial line matches this regex (every mode; with --vms/--kernel a guest line matches with or without its [vm] tag)' })
          .option('serial-log', { type: 'string', describe: 'also append serial output to FILE' })
          .option('console', { type: 'string', describe: 'serve the serial line on tcp:HOST:PORT instead of the terminal' })
          .option('cmdline', { type: 'string', describe: 'kernel command line' })
          .option('image', { type: 'string', describe: 'boot this ISO/ELF instead of build/crossguard.{iso,elf} (skips the build); with --boot pxe the netboot tree' })
          .option('build', { type: 'boolean', default: true, describe: 'build first (--no-build to skip)' })
          .option('vms', { type: 'string', describe: 'run the VMs described in this JSON file (docs/vm-config.md)' })
          .option('kernel', { type: 'string', describe: 'run this Multiboot1 kernel or Linux bzImage as one VM, like qemu -kernel' })
          .option('append', { type: 'string', describe: 'with --kernel: the kernel arguments' })
          .option('initrd', { type: 'string', describe: 'with --kernel: a Linux kernel\'s initrd, or a Multiboot module "FILE [ARGS]" (repeatable)' })
          .option('smp', { type: 'number', describe: 'with --kernel: guest vCPUs (default 1)' })
          .option('ips', {
            type: 'number',
            describe: "Bochs: emulated instructions per second, the guests' TSC rate (default 4000000; 50000000 when a VM is a Linux kernel)",
          })
          .option('verbose', { type: 'boolean', default: false, describe: 'with --vms/--kernel: monitor output to stderr' })
          .epilogue(RUN_EPILOGUE),
      async (a) => {
        status = await (await import('./commands/run.js')).default(a);
      },
    )
    .command('pxe', 'Serve a netboot tree on a lab network (docs/pxe.md)', (y) =>
      y
        .command(
          'serve <dir>',
          'Serve the tree DIR on --interface with a real dnsmasq (DHCP or proxy-DHCP, TFTP) and an HTTP server; log each host\'s steps by MAC; Ctrl-C stops',
          (b) =>
            b
              .positional('dir', { type: 'string', demandOption: true, describe: 'a netboot tree (crossguard image --format pxe --out DIR)' })
              .option('interface', { type: 'string', demandOption: true, describe: 'the lab network interface (it must have the server\'s IPv4 address)' })
              .option('proxy', { type: 'boolean', default: false, describe: 'proxy-DHCP next to the lab\'s own DHCP server (which keeps leasing addresses)' })
              .option('range', { type: 'string', describe: 'full DHCP: FIRST,LAST addresses to lease (an isolated lab network only)' })
              .option('http-port', { type: 'number', describe: 'serve HTTP on this port (default: the port of the tree\'s http://${next-server} base, if any)' }),
          async (a) => {
            status = await (await import('./commands/pxe-serve.js')).default({
              dir: a.dir as string,
              interface: a.interface,
              proxy: a.proxy,
              ...(a.range !== undefined ? { range: a.range } : {}),
              ...(a['http-port'] !== undefined ? { httpPort: a['http-port'] } : {}),
            });
          },
        )
        .demandCommand(1, 'name a pxe command: serve'),
    )
    .command(
      'power <action>',
      'Chassis power and next boot device of a lab server through its BMC (IPMI v2, ipmitool; docs/lab.md)',
      (y) =>
        y
          .positional('action', { choices: ['status', 'on', 'off', 'cycle', 'pxe'] as const, demandOption: true, describe: 'pxe = next boot from the network, then power cycle (or on)' })
          .option('bmc', { type: 'string', demandOption: true, describe: 'ipmi://USER@HOST[:PORT] (port 623 by default)' })
          .option('password-file', { type: 'string', describe: 'file holding the BMC password (else CG_BMC_PASSWORD or IPMI_PASSWORD; never on the command line)' }),
      async (a) => {
        status = await (await import('./commands/power.js')).default({ action: a.action, bmc: a.bmc, ...(a.passwordFile !== undefined ? { passwordFile: a.passwordFile } : {}) });
      },
    )
    .command(
      'flash',
      'Put a VM set on a lab server: netboot tree, deploy, next boot PXE, power cycle, wait for its VMs on serial-over-LAN (docs/lab.md)',
      (y) =>
        y
          .option('bmc', { type: 'string', demandOption: true, describe: 'the server\'s BMC: ipmi://USER@HOST[:PORT]' })
          .option('mac', { type: 'string', demandOption: true, describe: 'the MAC of the NIC the server boots from' })
          .option('vms', { type: 'string', demandOption: true, describe: 'the VM set it runs (docs/vm-config.md)' })
          .option('to', { type: 'string', describe: 'the PXE server: sftp://USER@HOST[:PORT]/PATH' })
          .option('tree-dir', { type: 'string', describe: 'the PXE server\'s tree as a local directory (replaced whole)' })
          .option('timeout', { type: 'number', default: 300, describe: 'seconds from power cycle to every VM started' })
          .option('password-file', { type: 'string', describe: 'file holding the BMC password (else CG_BMC_PASSWORD or IPMI_PASSWORD)' })
          .option('elf', { type: 'string', default: 'build/crossguard.elf', describe: 'monitor ELF' })
          .option('cmdline', { type: 'string', describe: 'monitor command line' })
          .option('http-base', { type: 'string', describe: 'iPXE fetches payloads from this URL first (docs/pxe.md)' })
          .option('max-file-bytes', { type: 'number', describe: 'the largest file the tree may hold (default 33553920, docs/pxe.md)' })
          .option('mem', { type: 'number', describe: 'machine RAM in MiB the set must fit (default 1024)' })
          .option('serial-log', { type: 'string', describe: 'append the host\'s serial output to FILE' })
          .option('keep', { type: 'number', describe: 'with --to: release directories to keep on the server (default 3)' })
          .option('identity', { type: 'string', describe: 'with --to: SSH private key file (else the agent, or CROSSGUARD_SSH_PASSWORD)' })
          .option('known-hosts', { type: 'string', describe: 'with --to: known_hosts file (default ~/.ssh/known_hosts)' })
          .option('insecure-host-key', { type: 'boolean', describe: 'with --to: do not check the SSH host key' }),
      async (a) => {
        status = await (await import('./commands/flash.js')).default({
          bmc: a.bmc,
          mac: a.mac,
          vms: a.vms,
          timeout: a.timeout,
          elf: a.elf,
          ...(a.to !== undefined ? { to: a.to } : {}),
          ...(a.treeDir !== undefined ? { treeDir: a.treeDir } : {}),
          ...(a.passwordFile !== undefined ? { passwordFile: a.passwordFile } : {}),
          ...(a.cmdline !== undefined ? { cmdline: a.cmdline } : {}),
          ...(a.httpBase !== undefined ? { httpBase: a.httpBase } : {}),
          ...(a.maxFileBytes !== undefined ? { maxFileBytes: a.maxFileBytes } : {}),
          ...(a.mem !== undefined ? { mem: a.mem } : {}),
          ...(a.serialLog !== undefined ? { serialLog: a.serialLog } : {}),
          ...(a.keep !== undefined ? { keep: a.keep } : {}),
          ...(a.identity !== undefined ? { identity: a.identity } : {}),
          ...(a.knownHosts !== undefined ? { knownHosts: a.knownHosts } : {}),
          ...(a.insecureHostKey !== undefined ? { insecureHostKey: a.insecureHostKey } : {}),
        });
      },
    )
    .command(
      'deploy [dir]',
      'Deploy a netboot tree to a PXE server over SFTP and make it live (releases, verify, atomic switch; docs/pxe.md)',
      (y) =>
        y
          .positional('dir', { type: 'string', describe: 'the netboot tree (crossguard image --format pxe --out DIR)' })
          .option('to', { type: 'string', demandOption: true, describe: 'sftp://USER@HOST[:PORT]/PATH: the directory the PXE server serves' })
          .option('keep', { type: 'number', default: 3, describe: 'release directories to keep on the server (the live one always stays)' })
          .option('rollback', { type: 'boolean', default: false, describe: 'make the release before the live one live again (no DIR)' })
          .option('dry-run', { type: 'boolean', default: false, describe: 'read the server, print the plan, change nothing' })
          .option('identity', { type: 'string', describe: 'private key file (else the SSH agent, or CROSSGUARD_SSH_PASSWORD)' })
          .option('known-hosts', { type: 'string', describe: 'known_hosts file to check the host key (default ~/.ssh/known_hosts)' })
          .option('insecure-host-key', { type: 'boolean', default: false, describe: 'do not check the host key (prints its fingerprint)' }),
      async (a) => {
        status = await (await import('./commands/deploy.js')).default({
          ...(a.dir !== undefined ? { dir: a.dir } : {}),
          to: a.to,
          keep: a.keep,
          rollback: a.rollback,
          dryRun: a.dryRun,
          ...(a.identity !== undefined ? { identity: a.identity } : {}),
          ...(a.knownHosts !== undefined ? { knownHosts: a.knownHosts } : {}),
          insecureHostKey: a.insecureHostKey,
        });
      },
    )
    .command('lava', 'LAVA lab integration: job definitions, emulated boards (docs/lava.md)', (y) =>
      y
        .command(
          'job',
          'Write a LAVA job definition that boots a VM set and reads its results from the serial line',
          (b) =>
            b
              .option('vms', { type: 'string', demandOption: true, describe: 'the VM set (docs/vm-config.md)' })
              .option('boot', { choices: ['minimal', 'ipxe', 'grub', 'qemu'] as const, default: 'minimal' as const, describe: "LAVA boot method: minimal (the board's power-on boots the set, the Bochs board), ipxe/grub (tftp deploy), qemu (tmpfs deploy, -kernel)" })
              .option('device-type', { type: 'string', describe: 'LAVA device type (default crossguard-bochs for minimal, crossguard-qemu otherwise)' })
              .option('timeout', { type: 'number', default: 600, describe: 'seconds the VM set may run (the test action); the job adds the boot and LAVA\'s own steps' })
              .option('boot-timeout', { type: 'number', default: 120, describe: 'seconds from power-on to the monitor running (@cg mem)' })
              .option('out', { type: 'string', default: 'job.yaml', describe: 'the job file (JSON, which LAVA reads as YAML)' })
              .option('files', { type: 'string', describe: 'ipxe/grub/qemu: where the deploy\'s files go (default: beside the job, JOB.files)' })
              .option('url-base', { type: 'string', describe: 'ipxe/grub/qemu: the URL the lab serves --files at (default: file:// URLs)' })
              .option('elf', { type: 'string', describe: 'the monitor ELF (default build/crossguard.elf)' })
              .option('cmdline', { type: 'string', describe: 'the monitor command line (default cg.shell=0)' })
              .option('mem', { type: 'number', describe: 'machine RAM in MiB the set must fit (default 512)' }),
          async (a) => {
            await (await import('./commands/lava.js')).job(a);
          },
        )
        .command(
          'device',
          'Write the LAVA device file of an emulated board (and its board file) that lava-run takes, and its device-type template and dictionary for a lab',
          (b) =>
            b
              .option('emulator', { choices: ['qemu', 'bochs'] as const, demandOption: true, describe: 'bochs: VMs run (VT-x), boot minimal; qemu: TCG, boot qemu, ipxe or grub' })
              .option('boot', { choices: ['minimal', 'ipxe', 'grub', 'qemu'] as const, describe: 'the boot method the board offers (default minimal for bochs, qemu for qemu)' })
              .option('vms', { type: 'string', describe: 'bochs: the VM set its power-on boots' })
              .option('out', { type: 'string', default: 'device.yaml', describe: 'the device file; the board file and state go beside it' })
              .option('port', { type: 'number', default: 4560, describe: "the board's serial line on 127.0.0.1:PORT" })
              .option('cpus', { type: 'number', default: 2 })
              .option('mem', { type: 'number', describe: 'machine RAM in MiB (default 512)' })
              .option('elf', { type: 'string', describe: 'bochs: the monitor ELF (default build/crossguard.elf)' })
              .option('cmdline', { type: 'string', describe: 'bochs: the monitor command line (default cg.shell=0)' })
              .option('device-type', { type: 'string', describe: 'the lab form: its device type (default crossguard-bochs or crossguard-qemu)' })
              .option('hostname', { type: 'string', describe: "the lab form: the device dictionary's name (default <device-type>-01)" }),
          async (a) => {
            await (await import('./commands/lava.js')).device(a);
          },
        )
        .command(
          'board <verb>',
          false, // hidden: the power and connect commands a device file names
          (b) =>
            b
              .positional('verb', { choices: ['power-on', 'power-off', 'connect'] as const, demandOption: true })
              .option('board', { type: 'string', demandOption: true }),
          async (a) => {
            status = await (await import('./commands/lava.js')).board({ verb: a.verb as 'power-on' | 'power-off' | 'connect', board: a.board });
          },
        )
        .demandCommand(1, 'name a lava command: job or device'),
    )
    .command('lab', 'Run VM sets through a lab engine (LAVA)', (y) =>
      y
        .command(
          'run',
          'Render a LAVA job and an emulated board, run it with lava-run, print each test case; exit 1 when one failed',
          (b) =>
            b
              .option('engine', { choices: ['lava'] as const, default: 'lava' as const })
              .option('vms', { type: 'string', demandOption: true, describe: 'the VM set (docs/vm-config.md)' })
              .option('boot', { choices: ['minimal', 'ipxe', 'grub', 'qemu'] as const, default: 'minimal' as const, describe: 'minimal: a Bochs board (VMs run); qemu/ipxe/grub: a QEMU TCG board (boot paths; VMs end create-failed)' })
              .option('timeout', { type: 'number', default: 600, describe: 'seconds the VM set may run' })
              .option('boot-timeout', { type: 'number', default: 120, describe: 'seconds from power-on to the monitor running' })
              .option('dir', { type: 'string', describe: 'where the job, device, board and LAVA log go (default a new temporary directory)' })
              .option('cpus', { type: 'number', default: 2 })
              .option('mem', { type: 'number', describe: 'machine RAM in MiB (default 512)' })
              .option('elf', { type: 'string', describe: 'the monitor ELF (default build/crossguard.elf)' })
              .option('cmdline', { type: 'string', describe: 'the monitor command line (default cg.shell=0)' })
              .option('quiet', { type: 'boolean', default: false, describe: "no progress (LAVA's steps, the serial line) on stderr" }),
          async (a) => {
            status = await (await import('./commands/lab.js')).default(a);
          },
        )
        .demandCommand(1, 'name a lab command: run'),
    )
    .command(
      'pxe-http-serve <dir>',
      false, // hidden: run --boot pxe starts it inside its lab namespace
      (y) =>
        y
          .positional('dir', { type: 'string', demandOption: true })
          .option('listen', { type: 'string', demandOption: true })
          .option('prefix', { type: 'string' }),
      async (a) => {
        status = await (await import('./commands/pxe-http.js')).default({ dir: a.dir as string, listen: a.listen, ...(a.prefix ? { prefix: a.prefix } : {}) });
      },
    )
    .command(
      'console',
      'Operator console client: talk to a running monitor (people, or one request with exec)',
      (y) =>
        y
          .option('connect', { type: 'string', demandOption: true, describe: 'where the line is: tcp:HOST:PORT, unix:PATH, serial:DEV[@BAUD], ssh://USER@HOST[:PORT], ipmi-sol://USER@BMC[:PORT]' })
          .option('timeout', { type: 'number', default: 30, describe: 'seconds to wait for connecting and each reply (0 = forever)' })
          .option('log', { type: 'string', describe: 'append every byte of the session (both ways) to FILE' })
          .option('line', { type: 'boolean', default: false, describe: 'local line editing with history and Tab completion (default: raw passthrough)' })
          .option('identity', { type: 'string', describe: 'ssh: private key file' })
          .option('known-hosts', { type: 'string', describe: 'ssh: known_hosts file to check the host key (default ~/.ssh/known_hosts)' })
          .option('insecure-host-key', { type: 'boolean', default: false, describe: 'ssh: do not check the host key (prints its fingerprint)' })
          .option('password-file', { type: 'string', describe: 'ipmi-sol: file holding the BMC password (else CG_BMC_PASSWORD or IPMI_PASSWORD)' })
          .command(
            'exec <words..>',
            'Send one request (COMMAND [ARGS...]) and print the reply',
            (b) =>
              b
                .positional('words', { type: 'string', array: true, demandOption: true, describe: 'the command and its arguments, e.g. vm stop web1' })
                .option('json', { type: 'boolean', default: false, describe: "print the reply's data as JSON" }),
            async (a) => {
              status = await (await import('./commands/console.js')).exec(a);
            },
          )
          .epilogue(CONSOLE_EPILOGUE),
      async (a) => {
        status = await (await import('./commands/console.js')).interactive(a);
      },
    )
    .demandCommand(1, 'name a command')
    .strict()
    .version(false)
    .help()
    .alias('h', 'help')
    .fail((msg, err) => {
      throw err ?? new UsageError(`${msg.replace(/\s*\n\s*/g, ' ')} (see crossguard --help)`);
    })
    .parseAsync();
  return status;
}

main(hideBin(process.argv)).then((status) => process.exit(status), exitOnError);
