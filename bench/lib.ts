/** Tiny benchmark helpers: warm up, then the median of repeated timings (robust to a busy machine). */
export interface BenchRow {
  bench: string;
  case: string;
  /** Median milliseconds per operation (or the unit named in `unit`). */
  value: number;
  unit: string;
  /** value / baseline value of the same bench in the same run (lower is faster unless the unit says otherwise). */
  ratio?: number;
  baseline?: string;
  /** A figure that is neither a baseline nor a ratio (a peak, a growth exponent). */
  info?: true;
}

export async function median(fn: () => unknown | Promise<unknown>, { warmup = 3, runs = 15 } = {}): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

export function printRows(rows: BenchRow[]) {
  const w = (s: string, n: number) => s.padEnd(n);
  const caseWidth = Math.max(44, ...rows.map((r) => r.case.length + 2));
  console.log(`${w('bench', 22)}${w('case', caseWidth)}${w('median', 14)}ratio`);
  for (const r of rows) {
    const v = `${r.value < 10 ? r.value.toFixed(3) : r.value.toFixed(1)} ${r.unit}`;
    const ratio = r.ratio === undefined ? (r.info ? '' : '(baseline)') : `${r.ratio.toFixed(3)}× ${r.baseline ?? ''}`;
    console.log(`${w(r.bench, 22)}${w(r.case, caseWidth)}${w(v, 14)}${ratio}`);
  }
}
