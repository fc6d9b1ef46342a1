/**
 * Small statistics helpers for the benchmarks: percentiles, medians, ratios.
 *
 * @module
 */

/**
 * The `p`-th percentile (0–100) of `values` by linear interpolation between closest ranks.
 *
 * @param values Samples, in any order (not modified).
 * @param p The percentile, 0–100.
 * @returns The percentile, or `NaN` when there are no samples.
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return percentileOfSorted(sorted, p);
}

/**
 * Like {@linkcode percentile}, for samples already sorted in ascending order.
 *
 * @param sorted Samples sorted ascending.
 * @param p The percentile, 0–100.
 * @returns The percentile, or `NaN` when there are no samples.
 */
export function percentileOfSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = (Math.min(100, Math.max(0, p)) / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
}

/**
 * The median of `values`.
 *
 * @param values Samples.
 * @returns The median, or `NaN` when there are none.
 */
export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/**
 * `a / b`, or `NaN` when `b` is 0 and `a` is not.
 *
 * @param a Numerator.
 * @param b Denominator.
 * @returns The ratio (`0 / 0` is reported as 1: both at the floor).
 */
export function ratio(a: number, b: number): number {
  if (b === 0) return a === 0 ? 1 : NaN;
  return a / b;
}

/**
 * Rounds to `digits` significant digits, for reports.
 *
 * @param value The number.
 * @param digits Significant digits; default 3.
 * @returns The rounded number (`NaN` and infinities unchanged).
 */
export function round(value: number, digits = 3): number {
  if (!Number.isFinite(value) || value === 0) return value;
  const scale = 10 ** (digits - 1 - Math.floor(Math.log10(Math.abs(value))));
  return Math.round(value * scale) / scale;
}

/** Summary of latency samples in ms. */
export interface LatencySummary {
  /** Number of samples. */
  n: number;
  /** Median. */
  p50: number;
  /** 90th percentile. */
  p90: number;
  /** 99th percentile. */
  p99: number;
  /** Largest sample. */
  max: number;
  /** Arithmetic mean. */
  mean: number;
}

/**
 * Summarises latency samples.
 *
 * @param values Samples in ms.
 * @returns Count, p50, p90, p99, max and mean.
 */
export function summarize(values: readonly number[]): LatencySummary {
  const sorted = [...values].sort((a, b) => a - b);
  const sum = sorted.reduce((total, value) => total + value, 0);
  return {
    n: sorted.length,
    p50: percentileOfSorted(sorted, 50),
    p90: percentileOfSorted(sorted, 90),
    p99: percentileOfSorted(sorted, 99),
    max: sorted.length === 0 ? NaN : sorted[sorted.length - 1],
    mean: sorted.length === 0 ? NaN : sum / sorted.length,
  };
}

/**
 * The order of contenders in round `round`: rotated, and reversed every other round, so that
 * over `2 × n` rounds every contender runs first, last and right after each other contender
 * equally often (for three contenders: all six orders). A plain rotation keeps the cyclic
 * order, so one contender would always run right after the same neighbour and inherit its
 * after-effects (GC debt, sockets in TIME_WAIT).
 *
 * @param contenders The contenders.
 * @param round The round number, from 0.
 * @returns The contenders in this round's order.
 */
export function rotation<T>(contenders: readonly T[], round: number): T[] {
  const list = round % 2 === 0 ? [...contenders] : [...contenders].reverse();
  const shift = Math.floor(round / 2) % list.length;
  return [...list.slice(shift), ...list.slice(0, shift)];
}
