// The LAVA `monitors` test action that turns crossguard's serial line into
// test cases (pure). The board has no shell, so LAVA only watches the line:
// one monitor, started at the first `@cg cpu` line and ended by `@cg
// vms-done` (or `@cg fatal`), with one regular expression for every result
// line. LAVA takes a test case from a match's `test_case_id` and `result`
// groups, maps `result` through `fixupdict` and keeps it when it is then
// pass, fail, skip or unknown; it names the case by lowering
// `test_case_id` and turning each run of non-word characters into `_`.
//
// The lines, and the cases they become (docs/markers.md, docs/lava.md):
//   @cg ready cpus=…                      `ready`: pass
//   @cg vm-start name=web1 …              `vm_start_name_web1`: pass
//   @cg vm-exit name=web1 status=S …      `web1`: pass when S is 1 (the guest
//                                          wrote 0 to isa-debug-exit) or 0
//                                          (power-off, exit hypercall 0), else fail
//   @cg vm-stop name=web1 reason=R        `web1`: fail
//   [web1] ok N [-] name / not ok N name  `name`: pass / fail (TAP)
//   [web1] PASS: name / FAIL: name / SKIP: name   `name`: pass / fail / skip
//
// Python's `re` allows each group name once, and a TAP line has its result
// before its name while a vm-exit line has it after, so the pattern reads
// each group in a lookahead from the line start and then consumes the line.
// Only the monitor's markers start a line with `@cg ` (a guest's own `@cg`
// reaches the line as `\@cg`, docs/markers.md), and guest lines start with
// their `[vm] ` tag. Lines end `\r\n`, or `\r\r\n` through a pty (LAVA's
// QEMU), hence `\r*\n`; matching up to the newline means a line is only read
// once it is whole.

/** Where the monitor starts reading: the first CPU's line (after the boot action saw `@cg mem`). */
export const MONITOR_START = '@cg cpu ';
/** Where it stops: every VM has ended, or the monitor died. */
export const MONITOR_END = '@cg (?:vms-done|fatal) ';
/** The boot action's prompt: the monitor has its memory (so it runs and speaks). */
export const BOOT_PROMPT = '@cg mem ';
/** What a board's boot loader gives way to: the monitor's first line. */
export const KERNEL_START = '@cg boot ';
/** The name LAVA gives the test suite (the monitor's `name`). */
export const SUITE = 'crossguard';

const TAG = String.raw`\[[^\]\r\n]*\] `;
const RESULT_WORDS = [
  'not ok', 'ok', 'PASS', 'FAIL', 'SKIP', 'ready', 'vm-start',
  // status 0 or 1 alone; any other status (and a stop's reason) is a failure.
  String.raw`status=[01](?!\S)`, 'status', 'reason',
];
const RESULT = String.raw`(?=(?:${TAG}|@cg (?:vm-(?:exit|stop) name=\S+ )?)(?P<result>${RESULT_WORDS.join('|')})\b)`;
const CASE_PREFIX = String.raw`(?:${TAG}(?:(?:not )?ok \d+ (?:- )?|(?:PASS|FAIL|SKIP): )|@cg (?:vm-(?:exit|stop) name=)?)`;
const CASE_ID = String.raw`(?P<test_case_id>ready(?=\s)|vm-start name=\S+|[^\r\n]+?(?=\s+#|\s+status=|\s+reason=|\r*\n))`;

/** The one pattern (Python `re` syntax; LAVA compiles it with DOTALL). */
export const MONITOR_PATTERN = String.raw`(?m)^${RESULT}(?=${CASE_PREFIX}${CASE_ID})[^\r\n]*\r*\n`;

/** What each captured `result` means to LAVA. */
export const FIXUPDICT: Readonly<Record<string, string>> = {
  ok: 'pass',
  'not ok': 'fail',
  PASS: 'pass',
  FAIL: 'fail',
  SKIP: 'skip',
  ready: 'pass',
  'vm-start': 'pass',
  'status=0': 'pass',
  'status=1': 'pass',
  status: 'fail',
  reason: 'fail',
};

/** LAVA's case name for a test_case_id: lowered, each run of non-word characters made `_` (as lava_dispatcher does). */
export function lavaCaseId(id: string): string {
  return id.trim().toLowerCase().replace(/[^A-Za-z0-9_]+/g, '_');
}

/** The case name LAVA gives a VM's start. */
export function startCase(vm: string): string {
  return lavaCaseId(`vm-start name=${vm}`);
}

/** The case name LAVA gives a VM's end (its exit or stop). */
export function endCase(vm: string): string {
  return lavaCaseId(vm);
}

/** The `test: monitors:` action for a job. */
export function monitorAction(timeoutS: number): Record<string, unknown> {
  return {
    test: {
      timeout: { seconds: timeoutS },
      monitors: [{ name: SUITE, start: MONITOR_START, end: MONITOR_END, pattern: MONITOR_PATTERN, fixupdict: { ...FIXUPDICT } }],
    },
  };
}
