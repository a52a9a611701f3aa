// Reading the spinner guest (test/guests/spinner.c): how much of the CPU a
// VM got over its window, from its own iteration count and calibration.

import type { BootOutcome } from './pool.js';

export interface Spin {
  iterations: number;
  /** Share of one CPU over the window, 0..1. */
  share: number;
}

/** The spinner report of VM `name`, or null if it printed none. */
export function spinOf(o: BootOutcome, name: string): Spin | null {
  const re = new RegExp(`^\\[${name}\\] spin iterations=(\\d+) burst_iters=(\\d+) burst_ticks=(\\d+) window=(\\d+)$`);
  for (const l of o.lines) {
    const m = re.exec(l);
    if (!m) continue;
    const [iterations, burstIters, burstTicks, windowM] = m.slice(1).map(Number) as [number, number, number, number];
    return { iterations, share: (iterations * (burstTicks / burstIters)) / (windowM * 1e6) };
  }
  return null;
}

/** Jain's fairness index of xs: 1 when all equal, 1/n when one takes all. */
export function jain(xs: number[]): number {
  const sum = xs.reduce((a, b) => a + b, 0);
  const sq = xs.reduce((a, b) => a + b * b, 0);
  return (sum * sum) / (xs.length * sq);
}
