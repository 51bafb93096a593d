/**
 * Shared statistics and table printing of the benchmarks: medians with min–max over repeated
 * samples, latency percentiles, and plain-text tables.
 *
 * @module
 */

/** Repeated measurements of one quantity. */
export interface Summary {
  median: number;
  min: number;
  max: number;
  n: number;
}

/** Median, min and max of `samples` (empty → NaN). */
export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return { median: NaN, min: NaN, max: NaN, n };
  const mid = Math.floor(n / 2);
  const median = n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted[n - 1]!, n };
}

/** The `p`-th percentile (0–100) of `sorted` (ascending), nearest-rank. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** How many repetitions a workload makes. */
export interface Repeat {
  warmup: number;
  reps: number;
  /**
   * Keep warming up until this much time went by, and keep measuring until this much time
   * went by (fast workloads get more samples and a JIT-warm start). @default 0
   */
  minMs?: number;
}

/** Most samples one measurement takes. */
const MAX_SAMPLES = 10_000;

/**
 * Runs `fn` at least `warmup` times untimed, then at least `reps` times, and returns the
 * wall-clock duration of each timed call in milliseconds.
 */
export async function measure(repeat: Repeat, fn: () => Promise<unknown>): Promise<number[]> {
  const minMs = repeat.minMs ?? 0;
  const warmupEnd = performance.now() + minMs / 2;
  for (let i = 0; i < repeat.warmup || (performance.now() < warmupEnd && i < MAX_SAMPLES); i++) {
    await fn();
  }
  const samples: number[] = [];
  const end = performance.now() + minMs;
  while (
    samples.length < repeat.reps ||
    (performance.now() < end && samples.length < MAX_SAMPLES)
  ) {
    const started = performance.now();
    await fn();
    samples.push(performance.now() - started);
  }
  return samples;
}

/** A number with a sensible count of digits for a table. */
export function fmt(value: number, digits?: number): string {
  if (!Number.isFinite(value)) return "–";
  if (digits !== undefined) return value.toFixed(digits);
  const abs = Math.abs(value);
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  return value.toFixed(3);
}

/** `median (min–max)`. */
export function fmtSummary(s: Summary, scale = 1, digits?: number): string {
  if (s.n === 0) return "–";
  const median = fmt(s.median * scale, digits);
  if (s.n === 1) return median;
  return `${median} (${fmt(s.min * scale, digits)}–${fmt(s.max * scale, digits)})`;
}

/** Bytes as MiB. */
export function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)}`;
}

/** A plain-text table (Markdown pipe syntax, so it can be pasted into BENCHMARKS.md). */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [
    line(headers),
    `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`,
    ...rows.map(line),
  ].join("\n");
}
