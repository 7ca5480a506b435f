/**
 * What a benchmark suite is. Suites live beside the code they measure as `*.bench.ts` and export
 * `suite`; `npm run bench` finds them. Figures are medians of several runs so one slow run (GC,
 * the other core busy) does not decide the result.
 */
export type BenchRecord = { suite: string } & Record<string, string | number | boolean | null>;

export interface BenchContext {
  /** Fewer and smaller runs: for smoke-testing the suite, not for figures. */
  readonly quick: boolean;
  /** Progress for humans; silent under --json. */
  progress(message: string): void;
}

export interface BenchSuite {
  readonly name: string;
  readonly description: string;
  run(ctx: BenchContext): AsyncIterable<BenchRecord> | Iterable<BenchRecord>;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Runs `fn` `runs` times after `warmup` untimed runs; returns each run's seconds. */
export function timeRuns(fn: () => void, runs: number, warmup = 1): number[] {
  for (let i = 0; i < warmup; i++) fn();
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    out.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return out;
}

/** Input megabits per second from a bit count and the median run time. */
export function mbps(bits: number, seconds: readonly number[]): number {
  return round(bits / median(seconds) / 1e6, 3);
}

export function round(x: number, digits = 3): number {
  const p = 10 ** digits;
  return Math.round(x * p) / p;
}
