// What a lava-run job did, read from its log (pure). lava-run writes one
// log record per line; records with `lvl: results` are test cases: the
// `crossguard` suite's come from the serial line (monitor.ts), the `lava`
// suite's are LAVA's own actions (deploy, boot, …) and the job itself.
// lava-run exits 0 when a test case fails, so this is where a failure shows.
//
// The report: every crossguard case in order; `ready` failed when the line
// never came; each VM of the set that started and never ended is a
// timed-out case named after it, and one that never started and never
// ended is a missing case. When LAVA's own job failed, the first failed
// action names the step (the boot, the deploy) with LAVA's error.

import { BOARD_SAYS } from './board.js';
import { endCase, startCase, SUITE } from './monitor.js';

export interface LavaResult {
  definition: string;
  case: string;
  result: string;
  level?: string;
  extra?: Record<string, unknown>;
  error_msg?: string;
  error_type?: string;
}

export interface LavaLog {
  /** Every results record. */
  results: LavaResult[];
  /** The board's serial lines, as LAVA logged them (`lvl: target`). */
  serial: string[];
}

/** The results records and serial lines of a lava-run log (lines that are not JSON records are skipped). */
export function parseLavaLog(text: string): LavaLog {
  const log: LavaLog = { results: [], serial: [] };
  for (const line of text.split('\n')) {
    if (!line.includes('"results"') && !line.includes('"target"')) continue;
    try {
      const rec = JSON.parse(line) as { lvl?: string; msg?: unknown };
      if (rec.lvl === 'results' && typeof (rec.msg as LavaResult)?.case === 'string') log.results.push(rec.msg as LavaResult);
      else if (rec.lvl === 'target' && typeof rec.msg === 'string') log.serial.push(rec.msg);
    } catch {
      /* not a record */
    }
  }
  return log;
}

/** How a VM ended, from its monitor line (`status=3`, `reason=create-failed`), or null. */
function vmEnd(serial: readonly string[], vm: string): string | null {
  for (const l of serial) {
    const m = /^@cg vm-(exit|stop) name=(\S+) (status=\S+|reason=\S+)/.exec(l);
    if (m && m[2] === vm) return m[1] === 'exit' ? `exit ${m[3]}` : `stopped, ${m[3]}`;
  }
  return null;
}

export interface LabCase {
  name: string;
  result: 'pass' | 'fail' | 'skip' | 'unknown';
  /** Why, for a failure the log alone does not say (timed out, never reached). */
  note?: string;
}

export interface LabReport {
  cases: LabCase[];
  failed: LabCase[];
  /** The LAVA step that failed (deploy, boot, …) and its error, when the job itself failed. */
  step?: string;
  jobError?: string;
  /** What the board said about it (the relay's `crossguard: …` line: a boot loader error, a board that stopped). */
  boardSays?: string;
  ok: boolean;
}

const asResult = (r: string): LabCase['result'] => (r === 'pass' || r === 'fail' || r === 'skip' ? r : 'unknown');

/** Builds the report for a job over the VM set `vms` (names as in the set). */
export function labReport(log: LavaLog, vms: readonly string[]): LabReport {
  const { results, serial } = log;
  const cases: LabCase[] = results.filter((r) => r.definition === SUITE).map((r) => ({ name: r.case, result: asResult(r.result) }));
  // A failed VM case says how the VM ended.
  for (const vm of vms) {
    const c = cases.find((k) => k.name === endCase(vm) && k.result === 'fail');
    const how = vmEnd(serial, vm);
    if (c && how) c.note = `VM ${vm}: ${how}`;
  }
  const have = new Set(cases.map((c) => c.name));
  if (!have.has('ready')) cases.unshift({ name: 'ready', result: 'fail', note: 'the monitor never printed @cg ready' });
  for (const vm of vms) {
    if (have.has(endCase(vm))) continue;
    if (have.has(startCase(vm))) cases.push({ name: endCase(vm), result: 'fail', note: `VM ${vm} started and never ended (timed out)` });
    else cases.push({ name: endCase(vm), result: 'fail', note: `VM ${vm} never started or ended` });
  }
  const report: LabReport = { cases, failed: cases.filter((c) => c.result === 'fail' || c.result === 'unknown'), ok: false };
  const job = results.find((r) => r.definition === 'lava' && r.case === 'job');
  if (!job || job.result !== 'pass') {
    const firstFailed = results.find((r) => r.definition === 'lava' && r.case !== 'job' && r.result === 'fail');
    report.step = firstFailed?.case ?? (job ? 'job' : 'lava-run');
    const fromStep = firstFailed?.extra?.fail;
    report.jobError = job?.error_msg ?? (typeof fromStep === 'string' ? fromStep : undefined) ?? 'lava-run wrote no job result';
    const said = serial.filter((l) => l.startsWith(BOARD_SAYS)).pop();
    if (said) report.boardSays = said.slice(BOARD_SAYS.length);
  }
  report.ok = report.failed.length === 0 && report.step === undefined;
  return report;
}

/** One line per case and a summary line (the lab run's stdout). */
export function formatReport(r: LabReport): string[] {
  const lines = r.cases.map((c) => `${c.result.toUpperCase().padEnd(7)} ${c.name}${c.note ? `  (${c.note})` : ''}`);
  const passed = r.cases.filter((c) => c.result === 'pass').length;
  lines.push(
    `${r.cases.length} cases: ${passed} passed, ${r.failed.length} failed` +
      (r.failed.length ? ` (${r.failed.map((c) => c.name).join(', ')})` : '') +
      (r.step ? `; LAVA step ${r.step} failed: ${r.jobError}${r.boardSays ? ` (the board: ${r.boardSays})` : ''}` : ''),
  );
  return lines;
}

