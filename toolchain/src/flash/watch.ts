// What `crossguard flash` waits for on the host's serial line (pure): the
// monitor's `@cg ready`, then `@cg vm-start name=…` for every VM of the
// host's set (docs/markers.md). It fails at the first sign that this will not
// happen: `@cg fatal`, a VM of the set stopping before it started
// (`@cg vm-stop name=… reason=…`, e.g. create-failed on a machine without
// VT-x), `@cg vms-done` with VMs not started, or a monitor that came up
// from another release than the one just deployed.
//
// Lines are the serial output as sent: the monitor's markers, its shell and
// the VMs' tagged output. Markers are found with the harness's parser.

import { parseMarker } from '../../../qemu/markers.js';

export type WatchEvent =
  | { kind: 'boot'; loader: string; cmdline: string }
  | { kind: 'ready'; cpus: string; vmx: string }
  | { kind: 'vm-start'; name: string; started: number; of: number };

export type WatchState = { status: 'waiting' } | { status: 'done' } | { status: 'failed'; step: 'boot' | 'vms'; why: string };

export class BootWatch {
  private ready = false;
  /** The ready marker said no CPU is in VMX root (for the failure message). */
  private vmxOff = false;
  private readonly started = new Set<string>();
  private state: WatchState = { status: 'waiting' };

  /**
   * @param vms the host's VM names (from the manifest)
   * @param release the release just deployed; a `@cg boot` command line that names another release under releases/ fails
   */
  constructor(
    private readonly vms: readonly string[],
    private readonly release: string,
  ) {}

  get result(): WatchState {
    return this.state;
  }

  /** Feeds one serial line; returns what it showed (nothing for most lines). */
  push(line: string): WatchEvent | null {
    if (this.state.status !== 'waiting') return null;
    const m = parseMarker(line);
    if (!m) return null;
    const f = m.fields;
    switch (m.kind) {
      case 'boot': {
        const cmdline = f.cmdline ?? '';
        const rel = /\breleases\/([A-Za-z0-9._-]+)\//.exec(cmdline);
        if (rel && rel[1] !== this.release)
          this.fail('boot', `the host booted release ${rel[1]}, not ${this.release}: the PXE server serves an older tree (check the deploy target is the tree the lab's DHCP/TFTP serves)`);
        return { kind: 'boot', loader: f.loader ?? '?', cmdline };
      }
      case 'fatal':
        this.fail(this.ready ? 'vms' : 'boot', `the monitor stopped: ${line.trim()}`);
        return null;
      case 'ready':
        this.ready = true;
        this.vmxOff = f.vmx === '0';
        if (this.vms.length === 0) this.state = { status: 'done' };
        return { kind: 'ready', cpus: f.cpus ?? '?', vmx: f.vmx ?? '?' };
      case 'vm-start': {
        const name = f.name ?? '';
        if (!this.vms.includes(name) || this.started.has(name)) return null;
        this.started.add(name);
        if (this.started.size === this.vms.length) this.state = { status: 'done' };
        return { kind: 'vm-start', name, started: this.started.size, of: this.vms.length };
      }
      case 'vm-stop': {
        const name = f.name ?? '';
        if (this.vms.includes(name) && !this.started.has(name))
          this.fail('vms', `VM ${name} did not start (${f.reason ?? 'no reason given'})${f.reason === 'create-failed' && this.vmxOff ? ': the host has no usable VT-x (enable it in the firmware setup)' : ''}`);
        return null;
      }
      case 'vms-done':
        this.fail('vms', `the monitor ended its VM set with ${this.missing().join(', ')} never started`);
        return null;
      default:
        return null;
    }
  }

  /** VMs of the set not started yet. */
  missing(): string[] {
    return this.vms.filter((v) => !this.started.has(v));
  }

  /** True once `@cg ready` came. */
  get isReady(): boolean {
    return this.ready;
  }

  private fail(step: 'boot' | 'vms', why: string): void {
    this.state = { status: 'failed', step, why };
  }
}
