// test/guests/manifest.ini: one `[name]` section per test guest with
// `key = value` lines (split at the first `=`, both sides trimmed), `;`
// comments on their own lines, blank lines ignored. Every error names the
// line. Keys: file (required), smp, mem, extra_params, timeout (seconds),
// expect (required: a QEMU-convention exit status, or `stop:<reason>`),
// qemu_expect, groups (space-separated), on_unassigned_access (ignore or
// stop, the VM description's field), alone (yes: never shares its boot with
// other guests; no, the default), nic (`<network> [mac=M]
// [packets_per_s=N]`: one virtio-net NIC, as a VM description's nics line;
// guests.test.ts boots every entry with a nic as one VM set),
// monitor_params (`cg.key=value` words for the monitor's own command line,
// e.g. cg.apicv=0: the boot is the monitor's, so guests.test.ts boots such
// an entry only beside entries with the same words).

export type Expectation = { kind: 'status'; status: number } | { kind: 'stop'; reason: string };

export interface ManifestEntry {
  name: string;
  file: string;
  smp: number;
  memMiB: number;
  extraParams: string;
  timeoutS: number;
  expect: Expectation;
  qemuExpect?: Expectation;
  /** One NIC (a VM description's `nics` entry); absent: none. */
  nic?: { network: string; mac?: string; packets_per_s?: number };
  /** Words for the monitor's command line (`cg.key=value`); absent: none (its defaults). */
  monitorParams?: string;
  /** The VM description's on_unassigned_access; absent: not given (ignore). */
  onUnassignedAccess?: 'ignore' | 'stop';
  groups: string[];
  /** Needs the emulated machine to itself (timing, whole-machine checks): never batched. */
  alone: boolean;
  /** Line of the `[name]` header. */
  line: number;
}

/** A malformed manifest; the message starts `<source> line N:`. */
export class ManifestError extends Error {
  override name = 'ManifestError';
}

export const MANIFEST_KEYS = ['file', 'smp', 'mem', 'extra_params', 'timeout', 'expect', 'qemu_expect', 'groups', 'on_unassigned_access', 'alone', 'nic', 'monitor_params'] as const;
type Key = (typeof MANIFEST_KEYS)[number];
/** One word of monitor_params: a monitor option (docs/markers.md), nothing a shell or GRUB would read otherwise. */
const MONITOR_WORD = /^cg\.[a-z]+=[A-Za-z0-9.,_-]+$/;
/** Section names double as VM names. */
const SECTION = /^\[([a-z][a-z0-9_-]{0,30})\]$/;

/** Parses `expect`/`qemu_expect` values; null when malformed. */
export function parseExpectation(v: string): Expectation | null {
  if (/^\d{1,3}$/.test(v) && Number(v) <= 255) return { kind: 'status', status: Number(v) };
  const m = /^stop:([a-z0-9-]+)$/.exec(v);
  return m ? { kind: 'stop', reason: m[1]! } : null;
}

/** Human form of an expectation, for test messages. */
export function showExpectation(e: Expectation): string {
  return e.kind === 'status' ? `exit status ${e.status}` : `stop (${e.reason})`;
}

export function parseManifest(text: string, source = 'manifest.ini'): ManifestEntry[] {
  const entries: ManifestEntry[] = [];
  const fail = (line: number, msg: string): never => {
    throw new ManifestError(`${source} line ${line}: ${msg}`);
  };
  let cur: { name: string; line: number; values: Map<Key, { value: string; line: number }> } | undefined;

  const close = () => {
    if (!cur) return;
    const { name, line, values } = cur;
    const get = (k: Key) => values.get(k);
    const int = (k: Key, def: number, lo: number, hi: number): number => {
      const v = get(k);
      if (!v) return def;
      if (!/^\d+$/.test(v.value) || Number(v.value) < lo || Number(v.value) > hi)
        fail(v.line, `${k} = ${v.value} is not a whole number from ${lo} to ${hi}`);
      return Number(v.value);
    };
    const file = get('file');
    if (!file) fail(line, `[${name}] has no file; add "file = <name>.elf"`);
    const exp = get('expect');
    if (!exp) fail(line, `[${name}] has no expect; add "expect = 1" (or stop:<reason>)`);
    const expect = parseExpectation(exp!.value) ?? fail(exp!.line, `expect = ${exp!.value} is not a status (0-255) or stop:<reason>`);
    const entry: ManifestEntry = {
      name,
      file: file!.value,
      smp: int('smp', 1, 1, 16),
      memMiB: int('mem', 64, 2, 65536),
      extraParams: get('extra_params')?.value ?? '',
      timeoutS: int('timeout', 60, 1, 3600),
      expect,
      groups: (get('groups')?.value ?? '').split(/\s+/).filter(Boolean),
      alone: false,
      line,
    };
    const q = get('qemu_expect');
    if (q) entry.qemuExpect = parseExpectation(q.value) ?? fail(q.line, `qemu_expect = ${q.value} is not a status (0-255) or stop:<reason>`);
    const un = get('on_unassigned_access');
    if (un) {
      if (un.value !== 'ignore' && un.value !== 'stop') fail(un.line, `on_unassigned_access = ${un.value} is not ignore or stop`);
      entry.onUnassignedAccess = un.value as 'ignore' | 'stop';
    }
    const alone = get('alone');
    if (alone) {
      if (alone.value !== 'yes' && alone.value !== 'no') fail(alone.line, `alone = ${alone.value} is not yes or no`);
      entry.alone = alone.value === 'yes';
    }
    const nic = get('nic');
    if (nic) {
      const [network, ...opts] = nic.value.split(/\s+/);
      if (!network || !/^[a-z][a-z0-9_-]*$/.test(network)) fail(nic.line, `nic = ${nic.value} does not start with a network name`);
      entry.nic = { network: network! };
      for (const o of opts) {
        const m = /^(mac|packets_per_s)=(\S+)$/.exec(o);
        if (!m) fail(nic.line, `nic option ${o} is not mac=<MAC> or packets_per_s=<N>`);
        if (m![1] === 'mac') entry.nic.mac = m![2]!;
        else if (/^\d+$/.test(m![2]!)) entry.nic.packets_per_s = Number(m![2]);
        else fail(nic.line, `packets_per_s=${m![2]} is not a whole number`);
      }
    }
    const mon = get('monitor_params');
    if (mon) {
      const words = mon.value.split(/\s+/).filter(Boolean);
      const badWord = words.find((w) => !MONITOR_WORD.test(w));
      if (!words.length || badWord !== undefined) fail(mon.line, `monitor_params word ${badWord ?? '(none)'} is not cg.<key>=<value>`);
      entry.monitorParams = words.join(' ');
    }
    if (!/^[A-Za-z0-9._-]+$/.test(entry.file)) fail(file!.line, `file = ${entry.file} is not a plain file name in build/guests`);
    entries.push(entry);
  };

  text.split('\n').forEach((raw, i) => {
    const n = i + 1;
    const l = raw.replace(/\r$/, '').trim();
    if (l === '' || l.startsWith(';')) return;
    if (l.startsWith('[')) {
      const m = SECTION.exec(l);
      if (!m) fail(n, `${l} is not a section header [name] (name: [a-z][a-z0-9_-]{0,30})`);
      if (entries.some((e) => e.name === m![1]) || cur?.name === m![1]) fail(n, `[${m![1]}] appears twice; rename one`);
      close();
      cur = { name: m![1]!, line: n, values: new Map() };
      return;
    }
    const eq = l.indexOf('=');
    if (eq < 0) fail(n, `"${l}" is not "key = value", a [section] or a ; comment`);
    const key = l.slice(0, eq).trim();
    const value = l.slice(eq + 1).trim();
    if (!cur) fail(n, `${key} before any [section]; put it under one`);
    if (!(MANIFEST_KEYS as readonly string[]).includes(key)) fail(n, `unknown key ${key}; allowed: ${MANIFEST_KEYS.join(', ')}`);
    if (cur!.values.has(key as Key)) fail(n, `${key} given twice in [${cur!.name}]`);
    cur!.values.set(key as Key, { value, line: n });
  });
  close();
  return entries;
}

/** The `SUMMARY: N tests, M unexpected failures` line in a guest's output, if any. */
export function guestSummary(output: string): { tests: number; failures: number } | null {
  const m = /^SUMMARY: (\d+) tests, (\d+) unexpected failures/m.exec(output);
  return m ? { tests: Number(m[1]), failures: Number(m[2]) } : null;
}
