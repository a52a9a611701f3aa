// A deterministic simulator for scheduler policies: it loads a policy's
// .wasm from build/policy (the very file the monitor embeds), and drives it
// the way the monitor's scheduler core does, on a virtual clock in TSC ticks:
//
//   each CPU:   id = pick_next(cpu, now); slice = pick_slice(cpu)
//               id < 0: idle until now + slice (slice 0: until kicked)
//               else run id until now + slice, or until on_tick says 1, or
//               a kick preempts it, or the guest halts; then
//               vcpu_ran(id, cpu, ran, now) and, if it halted,
//               vcpu_block(id, now); then pick again
//   every tick: on_tick(cpu, now) on each CPU running a vCPU
//   a wake-up:  cpu = vcpu_wake(id, now); cpu >= 0: kick that CPU (a
//               running vCPU there is preempted, an idle CPU picks)
//
// Guests are behaviours (CPU-bound, run-then-sleep, the tick dodger). The
// simulator checks the policy's answers (a picked vCPU exists, is runnable,
// is not running elsewhere, may use that CPU; slices are positive) and
// throws SimError when one is wrong. Nothing here reads a real clock.

import { instantiate, type Imports } from '@assemblyscript/loader';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

export const ROOT = resolve(process.env.CG_ROOT ?? process.cwd());
export const POLICY_DIR = join(ROOT, 'build', 'policy');

/** The policy's exports as the ABI declares them (i64 is bigint in JS). */
export interface PolicyExports {
  init(ncpus: number, tsc_hz: bigint): number;
  vcpu_add(id: number, vm: number, weight: number, cap: number, flags: number): number;
  vcpu_remove(id: number): void;
  vcpu_wake(id: number, now: bigint): number;
  vcpu_block(id: number, now: bigint): void;
  vcpu_ran(id: number, cpu: number, ran: bigint, now: bigint): void;
  pick_next(cpu: number, now: bigint): number;
  pick_slice(cpu: number): bigint;
  on_tick(cpu: number, now: bigint): number;
  set_param(id: number, key: number, value: bigint): number;
}

/** Reads build/policy/<name>.wasm; a clear error when the build has not run. */
export async function policyBytes(name: string): Promise<Uint8Array> {
  const path = join(POLICY_DIR, `${name}.wasm`);
  try {
    return await readFile(path);
  } catch {
    throw new Error(`${path} is missing: build the policies first with \`node build/js/crossguard.mjs policy build\` (make test does this)`);
  }
}

/** A fresh instance of a policy (its own memory), with env.log collected into `logs`. */
export async function loadPolicy(name: string, logs: [number, bigint][] = []): Promise<PolicyExports> {
  const bytes = await policyBytes(name);
  const env = { log: (code: number, value: bigint) => void logs.push([code, value]) };
  const { exports } = await instantiate<Record<string, unknown>>(bytes, { env } as Imports);
  return exports as unknown as PolicyExports;
}

export type Behaviour =
  /** Always wants the CPU. */
  | { kind: 'busy' }
  /** Runs `run` ticks of CPU, then halts for `sleep` ticks, and again. */
  | { kind: 'io'; run: number; sleep: number }
  /** The tick dodger: halts `margin` ticks before every tick and wakes `margin` after it. */
  | { kind: 'dodge'; margin: number }
  /** Starts halted and wakes only when the test calls wake(). */
  | { kind: 'asleep' };

export interface SimVcpu {
  id: number;
  vm?: number;
  weight?: number;
  cap?: number;
  flags?: number;
  behaviour: Behaviour;
}

export interface SimOptions {
  cpus: number;
  vcpus: SimVcpu[];
  /** Ticks per second (default 1e9: one tick is a nanosecond). */
  tscHz?: number;
  /** Period of on_tick (default 1 ms). */
  tick?: number;
  /** Keep every run as a {id, cpu, start, end} record. */
  trace?: boolean;
  /** Called after add and before the first wake, e.g. to set_param. */
  setup?: (p: PolicyExports) => void;
}

export class SimError extends Error {
  override name = 'SimError';
}

export interface Run {
  id: number;
  cpu: number;
  start: number;
  end: number;
}

interface CpuState {
  cur: number; // vCPU running, or -1
  start: number;
  sliceEnd: number; // Infinity when idle until kicked
  needsPick: boolean;
}

interface VcpuState {
  spec: SimVcpu;
  runnable: boolean;
  cpu: number; // running on, or -1
  wakeAt: number; // when a halted vCPU wakes by itself
  cpuSinceWake: number; // io: CPU used since it last woke
}

export class Sim {
  readonly p: PolicyExports;
  readonly cpus: number;
  readonly tscHz: number;
  readonly tick: number;
  now = 0;
  /** Run time per vCPU id. */
  readonly ran = new Map<number, number>();
  /** CPUs each vCPU ran on. */
  readonly ranOn = new Map<number, Set<number>>();
  readonly runs: Run[] = [];
  /** Every vcpu_wake: who, when, which CPU the policy asked to kick. */
  readonly wakes: { id: number; t: number; cpu: number }[] = [];
  private readonly cpu: CpuState[];
  private readonly v = new Map<number, VcpuState>();
  private readonly trace: boolean;
  private nextTick: number;

  constructor(p: PolicyExports, o: SimOptions) {
    this.p = p;
    this.cpus = o.cpus;
    this.tscHz = o.tscHz ?? 1e9;
    this.tick = o.tick ?? this.tscHz / 1000;
    this.trace = o.trace ?? false;
    this.nextTick = this.tick;
    this.cpu = Array.from({ length: o.cpus }, () => ({ cur: -1, start: 0, sliceEnd: Infinity, needsPick: true }));
    const rc = p.init(o.cpus, BigInt(this.tscHz));
    if (rc !== 0) throw new SimError(`init(${o.cpus}, ${this.tscHz}) returned ${rc}`);
    for (const s of o.vcpus) {
      const r = p.vcpu_add(s.id, s.vm ?? s.id, s.weight ?? 100, s.cap ?? 0, s.flags ?? 0);
      if (r !== 0) throw new SimError(`vcpu_add(${s.id}) returned ${r}`);
      this.v.set(s.id, { spec: s, runnable: false, cpu: -1, wakeAt: Infinity, cpuSinceWake: 0 });
      this.ran.set(s.id, 0);
      this.ranOn.set(s.id, new Set());
    }
    o.setup?.(p);
    for (const s of o.vcpus) if (s.behaviour.kind !== 'asleep') this.doWake(s.id);
    this.pickAll();
  }

  static async create(policy: string, o: SimOptions): Promise<Sim> {
    return new Sim(await loadPolicy(policy), o);
  }

  /** Make a halted vCPU runnable now; returns the CPU the policy asked to kick. */
  wake(id: number): number {
    const cpu = this.doWake(id);
    this.pickAll();
    return cpu;
  }

  private doWake(id: number): number {
    const v = this.vcpu(id);
    if (v.runnable) return -1;
    v.runnable = true;
    v.wakeAt = Infinity;
    v.cpuSinceWake = 0;
    const cpu = this.p.vcpu_wake(id, BigInt(this.now));
    this.wakes.push({ id, t: this.now, cpu });
    if (cpu >= this.cpus) throw new SimError(`vcpu_wake(${id}) asked to kick CPU ${cpu} of ${this.cpus}`);
    if (cpu >= 0) this.kick(cpu);
    return cpu;
  }

  /** Halt a vCPU now (it leaves its CPU if it runs); it stays halted until wake(). */
  block(id: number): void {
    const v = this.vcpu(id);
    if (v.cpu >= 0) this.leave(v.cpu, true);
    else if (v.runnable) {
      v.runnable = false;
      this.p.vcpu_block(id, BigInt(this.now));
    }
    v.wakeAt = Infinity;
    this.pickAll();
  }

  /** Which vCPU each CPU runs now (-1: idle). */
  running(): number[] {
    return this.cpu.map((c) => c.cur);
  }

  isRunnable(id: number): boolean {
    return this.vcpu(id).runnable;
  }

  /** Advance the clock by `ticks`, processing every event on the way. */
  advance(ticks: number): void {
    const end = this.now + ticks;
    for (;;) {
      const t = Math.min(end, this.nextEvent());
      this.now = t;
      this.step(t);
      if (t >= end) break;
    }
  }

  private vcpu(id: number): VcpuState {
    const v = this.v.get(id);
    if (!v) throw new SimError(`no vCPU ${id} in this simulation`);
    return v;
  }

  /** When the running vCPU on c halts by itself. */
  private haltAt(c: CpuState): number {
    const v = this.vcpu(c.cur);
    const b = v.spec.behaviour;
    if (b.kind === 'io') return c.start + Math.max(b.run - v.cpuSinceWake, 0);
    if (b.kind === 'dodge') {
      const next = Math.floor(c.start / this.tick) * this.tick + this.tick;
      return Math.max(next - b.margin, c.start);
    }
    return Infinity;
  }

  private nextEvent(): number {
    let t = this.nextTick;
    for (const c of this.cpu) {
      t = Math.min(t, c.sliceEnd);
      if (c.cur >= 0) t = Math.min(t, this.haltAt(c));
    }
    for (const v of this.v.values()) t = Math.min(t, v.wakeAt);
    return t;
  }

  private step(t: number): void {
    // Guests that halt now, then slices that end, then wake-ups, then the tick.
    this.cpu.forEach((c, i) => {
      if (c.cur >= 0 && this.haltAt(c) <= t) this.leave(i, true);
    });
    this.cpu.forEach((c, i) => {
      if (c.sliceEnd > t) return;
      if (c.cur >= 0) this.leave(i, false);
      else c.needsPick = true; // timed idle is over
    });
    for (const [id, v] of this.v) if (v.wakeAt <= t) this.doWake(id);
    if (this.nextTick <= t) {
      this.nextTick += this.tick;
      this.cpu.forEach((c, i) => {
        if (c.cur < 0 || c.needsPick) return;
        const r = this.p.on_tick(i, BigInt(t));
        if (r === 1) this.leave(i, false);
        else if (r !== 0) throw new SimError(`on_tick(${i}) returned ${r}`);
      });
    }
    this.pickAll();
  }

  /** The vCPU on CPU i leaves it (halted: it also blocks). */
  private leave(i: number, halted: boolean): void {
    const c = this.cpu[i]!;
    const id = c.cur;
    const v = this.vcpu(id);
    const ran = this.now - c.start;
    this.ran.set(id, this.ran.get(id)! + ran);
    if (ran > 0) this.ranOn.get(id)!.add(i);
    if (this.trace && ran > 0) this.runs.push({ id, cpu: i, start: c.start, end: this.now });
    v.cpuSinceWake += ran;
    v.cpu = -1;
    c.cur = -1;
    c.sliceEnd = Infinity;
    c.needsPick = true;
    this.p.vcpu_ran(id, i, BigInt(ran), BigInt(this.now));
    if (!halted) return;
    v.runnable = false;
    this.p.vcpu_block(id, BigInt(this.now));
    const b = v.spec.behaviour;
    if (b.kind === 'io') v.wakeAt = this.now + b.sleep;
    else if (b.kind === 'dodge') v.wakeAt = Math.ceil((this.now + 1) / this.tick) * this.tick + b.margin;
  }

  private kick(i: number): void {
    const c = this.cpu[i]!;
    if (c.cur >= 0) this.leave(i, false);
    else c.needsPick = true;
  }

  private pickAll(): void {
    this.cpu.forEach((c, i) => {
      if (!c.needsPick) return;
      c.needsPick = false;
      const id = this.p.pick_next(i, BigInt(this.now));
      const slice = Number(this.p.pick_slice(i));
      if (id < 0) {
        if (slice < 0) throw new SimError(`pick_slice(${i}) after an idle pick returned ${slice}`);
        c.sliceEnd = slice === 0 ? Infinity : this.now + slice;
        return;
      }
      const v = this.v.get(id);
      if (!v) throw new SimError(`pick_next(${i}) returned ${id}, which was never added`);
      if (!v.runnable) throw new SimError(`pick_next(${i}) returned vCPU ${id}, which is halted`);
      if (v.cpu >= 0) throw new SimError(`pick_next(${i}) returned vCPU ${id}, already running on CPU ${v.cpu}`);
      const pref = ((v.spec.flags ?? 0) & 0xff) - 1;
      if (pref >= 0 && pref !== i) throw new SimError(`pick_next(${i}) returned vCPU ${id}, which may only run on CPU ${pref}`);
      if (!(slice > 0)) throw new SimError(`pick_slice(${i}) returned ${slice} for vCPU ${id}`);
      v.cpu = i;
      c.cur = id;
      c.start = this.now;
      c.sliceEnd = this.now + slice;
    });
  }
}

/** Jain's fairness index of xs: 1 when all equal, 1/n when one takes all. */
export function jain(xs: number[]): number {
  const sum = xs.reduce((a, b) => a + b, 0);
  const sq = xs.reduce((a, b) => a + b * b, 0);
  return (sum * sum) / (xs.length * sq);
}
