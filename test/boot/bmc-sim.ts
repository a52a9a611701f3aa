// A lab server behind a BMC, for the power and flash tests: OpenIPMI's
// ipmi_sim with an IPMI v2 LAN interface on 127.0.0.1 (its own config and
// emulation command file in a temp dir), whose chassis power and boot-device
// commands run a small shell script (`chassis_control`, ipmi_sim's hook for
// real power hardware):
//   set power 1   start the "server": with the next boot device set to PXE,
//                 `crossguard run --boot pxe` (a QEMU booting from the tree
//                 through dnsmasq in a network namespace, as an operator
//                 would try it), else a QEMU with no disk and no NIC ROM (a
//                 server booting its empty local disk); the boot device is
//                 used once, like IPMI's "next boot only" flag
//   set power 0   SIGTERM to the server (run stops QEMU, dnsmasq and the
//                 namespace itself); "power" reads 1 until it is gone
//   set boot X    remember the next boot device
// The server's serial port is a TCP relay in this process that the BMC stays
// connected to across power cycles (as a BMC's UART is wired to the board);
// it reconnects to each new server's console (`run --console tcp:…`). The
// BMC's SOL device is that relay (`sol "tcp:…"`).

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const BMC_USER = 'admin';
export const BMC_PASSWORD = 'power-test-secret';

/** Why ipmi_sim cannot run here, or null. */
export function bmcSimUnavailable(): string | null {
  for (const [cmd, pkg] of [['ipmi_sim', 'openipmi'], ['ipmitool', 'ipmitool']] as const)
    if (spawnSync('sh', ['-c', `command -v ${cmd}`]).status !== 0) return `${cmd} is not installed (apt-get install ${pkg}; toolchain/setup.sh does)`;
  return null;
}

async function freePort(kind: 'udp' | 'tcp'): Promise<number> {
  if (kind === 'udp') {
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    const p = s.address().port;
    s.close();
    return p;
  }
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const p = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return p;
}

export interface BmcSimOptions {
  /** The netboot tree the server boots from. */
  tree: string;
  /** Its NIC's MAC. */
  mac: string;
  /** node + the CLI bundle, for `run --boot pxe`. */
  node: string;
  cli: string;
  cwd: string;
}

export interface BmcSim {
  /** ipmi://admin@127.0.0.1:PORT?cipher=3 (suite 3: ipmi_sim has no cipher-suite list for ipmitool to ask for) */
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** The chassis script's log: one line per power and boot-device change, and each server start/stop. */
  chassisLog(): string;
  /** The servers' own output (run's progress, QEMU's errors). */
  serverLog(): string;
  /** pid of the running server, or null. */
  serverPid(): number | null;
  /** Waits until the chassis log matches `re` (or `ms` pass); true when it did. */
  waitLog(re: RegExp, ms: number): Promise<boolean>;
  stop(): Promise<void>;
}

function chassisScript(dir: string, o: BmcSimOptions, consolePort: number): string {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const pxe = [o.node, o.cli, 'run', '--boot', 'pxe', '--image', o.tree, '--mac', o.mac, '--net', 'netns', '--emulator', 'qemu', '--console', `tcp:127.0.0.1:${consolePort}`].map(q).join(' ');
  const disk = ['qemu-system-x86_64', '-display', 'none', '-nodefaults', '-m', '64', '-net', 'none', '-serial', `tcp:127.0.0.1:${consolePort},server=on,wait=off`].map(q).join(' ');
  return `#!/bin/sh
# ipmi_sim chassis_control hook: $1 MC address, $2 get|set, then names (get) or name value pairs (set).
D=${q(dir)}
log() { echo "$(date +%s.%N) $*" >> "$D/chassis.log"; }
running() { [ -s "$D/server.pid" ] && kill -0 "$(cat "$D/server.pid")" 2>/dev/null; }
start_server() {
  dev=$(cat "$D/bootdev" 2>/dev/null || echo default)
  echo default > "$D/bootdev"
  if [ "$dev" = pxe ]; then cmd=${q(pxe)}; what="pxe boot"; else cmd=${q(disk)}; what="disk boot (no disk)"; fi
  # Own session, no inherited descriptors: ipmi_sim waits for this script's output to end.
  cd ${q(o.cwd)} && setsid sh -c "exec $cmd" </dev/null >>"$D/server.log" 2>&1 &
  echo $! > "$D/server.pid"
  log "server start pid=$! $what"
}
op=$2; shift 2
case $op in
get)
  for p in "$@"; do
    case $p in
    power) if running; then echo "power:1"; else echo "power:0"; fi ;;
    boot) echo "boot:$(cat "$D/bootdev" 2>/dev/null || echo default)" ;;
    esac
  done ;;
set)
  while [ $# -ge 2 ]; do
    case $1 in
    power)
      log "power $2"
      if [ "$2" = 1 ]; then
        # A cycle's power-on may come while the last server still shuts down: wait for it, in the background.
        ( n=0; while running && [ $n -lt 300 ]; do sleep 0.1; n=$((n+1)); done; start_server ) </dev/null >/dev/null 2>&1 &
      elif running; then
        log "server stop pid=$(cat "$D/server.pid")"
        kill -TERM "$(cat "$D/server.pid")"
      fi ;;
    boot) log "boot $2"; echo "$2" > "$D/bootdev" ;;
    esac
    shift 2
  done ;;
esac
exit 0
`;
}

/** The serial relay: the BMC's end stays; the server's end is re-dialled while it is down. */
function serialRelay(consolePort: number): { server: Server; port: () => number; stop: () => void } {
  let bmcSide: Socket | null = null;
  let hostSide: Socket | null = null;
  let pending: Buffer[] = [];
  let stopped = false;
  const server = createServer((s) => {
    bmcSide?.destroy();
    bmcSide = s;
    s.on('data', (b: Buffer) => hostSide?.write(b));
    s.on('error', () => {});
    s.on('close', () => bmcSide === s && (bmcSide = null));
    for (const b of pending) s.write(b);
    pending = [];
  });
  const dial = () => {
    if (stopped || hostSide) return;
    const h = netConnect({ host: '127.0.0.1', port: consolePort });
    h.on('connect', () => {
      hostSide = h;
      h.on('data', (b: Buffer) => {
        if (bmcSide) bmcSide.write(b);
        else if (pending.reduce((n, x) => n + x.length, 0) < 1 << 20) pending.push(b);
      });
    });
    h.on('error', () => {});
    h.on('close', () => {
      if (hostSide === h) hostSide = null;
      if (!stopped) setTimeout(dial, 100);
    });
  };
  dial();
  return {
    server,
    port: () => (server.address() as { port: number }).port,
    stop: () => {
      stopped = true;
      hostSide?.destroy();
      bmcSide?.destroy();
      server.close();
    },
  };
}

/** Starts ipmi_sim with its chassis script and the serial relay; stop() ends the server, ipmi_sim and the relay. */
export async function startBmcSim(o: BmcSimOptions): Promise<BmcSim> {
  const dir = mkdtempSync(join(tmpdir(), 'cg-power-bmc-'));
  const port = await freePort('udp');
  const consolePort = await freePort('tcp');
  const relay = serialRelay(consolePort);
  await new Promise<void>((r) => relay.server.listen(0, '127.0.0.1', () => r()));
  writeFileSync(join(dir, 'chassis.sh'), chassisScript(dir, o, consolePort));
  chmodSync(join(dir, 'chassis.sh'), 0o755);
  writeFileSync(join(dir, 'chassis.log'), '');
  writeFileSync(
    join(dir, 'lan.conf'),
    `name "cgpower"
set_working_mc 0x20
startlan 1
  addr 127.0.0.1 ${port}
  priv_limit admin
  allowed_auths_callback none md2 md5 straight
  allowed_auths_user none md2 md5 straight
  allowed_auths_operator none md2 md5 straight
  allowed_auths_admin none md2 md5 straight
  guid a123456789abcdefa123456789abcdef
endlan
chassis_control "${join(dir, 'chassis.sh')} 0x20"
sol "tcp:127.0.0.1:${relay.port()}" 115200
user 2 true "${BMC_USER}" "${BMC_PASSWORD}" admin 10 none md2 md5 straight
`,
  );
  // The BMC itself: one management controller at the IPMB address 0x20.
  writeFileSync(join(dir, 'bmc.emu'), 'mc_setbmc 0x20\nmc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02\nmc_enable 0x20\n');
  const state = join(dir, 'state');
  spawnSync('mkdir', ['-p', state]);
  // -n: no command console on stdio (stdin must not be a terminal it would read).
  const sim: ChildProcess = spawn('ipmi_sim', ['-c', join(dir, 'lan.conf'), '-f', join(dir, 'bmc.emu'), '-s', state, '-n'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let simOut = '';
  sim.stdout?.on('data', (b: Buffer) => (simOut += b.toString()));
  sim.stderr?.on('data', (b: Buffer) => (simOut += b.toString()));
  const simExited = new Promise<void>((r) => sim.once('exit', () => r()));
  // Up when it answers a session (ipmitool with the test's password, in its environment).
  const t0 = Date.now();
  for (;;) {
    const r = spawnSync('ipmitool', ['-I', 'lanplus', '-H', '127.0.0.1', '-p', String(port), '-U', BMC_USER, '-C', '3', '-E', '-N', '1', '-R', '1', 'mc', 'info'], {
      env: { ...process.env, IPMI_PASSWORD: BMC_PASSWORD },
      encoding: 'utf8',
    });
    if (r.status === 0) break;
    if (sim.exitCode !== null || Date.now() - t0 > 10_000) {
      relay.stop();
      sim.kill('SIGKILL');
      throw new Error(`ipmi_sim did not come up on 127.0.0.1:${port}: ${simOut}${r.stderr}`);
    }
    await new Promise((res) => setTimeout(res, 200));
  }
  const read = (f: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8') : '');
  const serverPid = (): number | null => {
    const pid = Number(read('server.pid').trim());
    if (!pid) return null;
    try {
      process.kill(pid, 0);
      return pid;
    } catch {
      return null;
    }
  };
  return {
    url: `ipmi://${BMC_USER}@127.0.0.1:${port}?cipher=3`,
    port,
    dir,
    chassisLog: () => read('chassis.log'),
    serverLog: () => read('server.log'),
    serverPid,
    async waitLog(re, ms) {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        if (re.test(read('chassis.log'))) return true;
        await new Promise((res) => setTimeout(res, 100));
      }
      return re.test(read('chassis.log'));
    },
    async stop() {
      const pid = serverPid();
      if (pid !== null) {
        process.kill(pid, 'SIGTERM');
        for (let i = 0; i < 100 && serverPid() !== null; i++) await new Promise((res) => setTimeout(res, 100));
        if (serverPid() !== null) process.kill(-pid, 'SIGKILL');
      }
      sim.kill('SIGTERM');
      await Promise.race([simExited, new Promise((res) => setTimeout(res, 3000))]);
      if (sim.exitCode === null) sim.kill('SIGKILL');
      relay.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
