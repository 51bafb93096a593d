/**
 * A tiny Prometheus registry (no dependency): counters, gauges and histograms with labels,
 * rendered in the text exposition format 0.0.4.
 *
 * @module
 */

/** Label values of one series, keyed by label name. */
export type Labels = Readonly<Record<string, string>>;

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Content type of {@link MetricsRegistry.render}'s output. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Escapes a label value: backslash, double quote and line feed. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

/** A sample value: integers as is, infinities as +Inf/-Inf. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

/** What every metric has: a name, a help text, a type and label names. */
export abstract class Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: "counter" | "gauge" | "histogram",
    readonly labelNames: readonly string[],
  ) {
    if (!METRIC_NAME.test(name)) {
      throw new TypeError(`Cannot register metric: invalid name "${name}"`);
    }
    for (const label of labelNames) {
      if (!LABEL_NAME.test(label) || label.startsWith("__")) {
        throw new TypeError(`Cannot register metric "${name}": invalid label name "${label}"`);
      }
    }
  }

  /** The key of a series and its label values in `labelNames` order. */
  protected seriesKey(labels: Labels): { key: string; values: string[] } {
    const values = this.labelNames.map((label) => {
      const value = labels[label];
      if (typeof value !== "string") {
        throw new TypeError(`Cannot record metric "${this.name}": label "${label}" is missing`);
      }
      return value;
    });
    return { key: values.join("\u0000"), values };
  }

  /** `{a="x",b="y"}` for the label values, with `extra` appended; "" without labels. */
  protected labelText(values: readonly string[], extra?: [string, string]): string {
    const pairs = this.labelNames.map((label, i) => `${label}="${escapeLabelValue(values[i]!)}"`);
    if (extra) pairs.push(`${extra[0]}="${escapeLabelValue(extra[1])}"`);
    return pairs.length === 0 ? "" : `{${pairs.join(",")}}`;
  }

  /** The sample lines, without HELP and TYPE. */
  abstract samples(): string[];

  render(): string {
    const head = `# HELP ${this.name} ${escapeHelp(this.help)}\n# TYPE ${this.name} ${this.type}\n`;
    const lines = this.samples();
    return head + lines.map((line) => line + "\n").join("");
  }
}

/** A monotonically increasing count per label set. */
export class Counter extends Metric {
  readonly #values = new Map<string, { labels: string[]; value: number }>();

  constructor(name: string, help: string, labelNames: readonly string[] = []) {
    super(name, help, "counter", labelNames);
  }

  /** Adds `value` (default 1) to the series; a series starts at 0. */
  inc(labels: Labels = {}, value = 1): void {
    if (!(value >= 0)) {
      throw new RangeError(`Cannot increment counter "${this.name}": ${value} is negative`);
    }
    const { key, values } = this.seriesKey(labels);
    const entry = this.#values.get(key);
    if (entry) entry.value += value;
    else this.#values.set(key, { labels: values, value });
  }

  /** Current value of a series (0 when it was never incremented). */
  get(labels: Labels = {}): number {
    return this.#values.get(this.seriesKey(labels).key)?.value ?? 0;
  }

  samples(): string[] {
    return [...this.#values.values()].map((e) =>
      `${this.name}${this.labelText(e.labels)} ${formatValue(e.value)}`
    );
  }
}

/** A value read when the metrics are rendered. */
export class Gauge extends Metric {
  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    readonly collect: () => Iterable<[Labels, number]>,
  ) {
    super(name, help, "gauge", labelNames);
  }

  samples(): string[] {
    const lines: string[] = [];
    for (const [labels, value] of this.collect()) {
      lines.push(
        `${this.name}${this.labelText(this.seriesKey(labels).values)} ${formatValue(value)}`,
      );
    }
    return lines;
  }
}

/** Default buckets of durations in seconds: 5 ms to 1 h. */
export const DURATION_BUCKETS: readonly number[] = [
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
  60,
  120,
  300,
  600,
  1800,
  3600,
];

/** Observations counted in cumulative buckets, with their sum and count. */
export class Histogram extends Metric {
  readonly buckets: readonly number[];
  readonly #values = new Map<
    string,
    { labels: string[]; counts: number[]; sum: number; count: number }
  >();

  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    buckets: readonly number[] = DURATION_BUCKETS,
  ) {
    super(name, help, "histogram", labelNames);
    if (labelNames.includes("le")) {
      throw new TypeError(`Cannot register histogram "${name}": "le" is a reserved label`);
    }
    const sorted = [...buckets].filter((b) => b !== Infinity).sort((a, b) => a - b);
    if (sorted.some((b, i) => !Number.isFinite(b) || (i > 0 && b === sorted[i - 1]))) {
      throw new RangeError(`Cannot register histogram "${name}": buckets must be distinct numbers`);
    }
    this.buckets = sorted;
  }

  /** Records one observation. */
  observe(labels: Labels, value: number): void {
    const { key, values } = this.seriesKey(labels);
    let entry = this.#values.get(key);
    if (!entry) {
      entry = { labels: values, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.#values.set(key, entry);
    }
    for (let i = 0; i < this.buckets.length; i++) {
      if (value <= this.buckets[i]!) entry.counts[i]!++;
    }
    entry.sum += value;
    entry.count++;
  }

  samples(): string[] {
    const lines: string[] = [];
    for (const e of this.#values.values()) {
      this.buckets.forEach((bound, i) => {
        const labels = this.labelText(e.labels, ["le", formatValue(bound)]);
        lines.push(`${this.name}_bucket${labels} ${e.counts[i]}`);
      });
      lines.push(`${this.name}_bucket${this.labelText(e.labels, ["le", "+Inf"])} ${e.count}`);
      lines.push(`${this.name}_sum${this.labelText(e.labels)} ${formatValue(e.sum)}`);
      lines.push(`${this.name}_count${this.labelText(e.labels)} ${e.count}`);
    }
    return lines;
  }
}

/** Holds metrics and renders them in registration order. */
export class MetricsRegistry {
  readonly #metrics = new Map<string, Metric>();

  /** Adds a metric; its name must be unique. */
  register<M extends Metric>(metric: M): M {
    if (this.#metrics.has(metric.name)) {
      throw new TypeError(`Cannot register metric: "${metric.name}" is already registered`);
    }
    this.#metrics.set(metric.name, metric);
    return metric;
  }

  /** The exposition text of every metric ({@link PROMETHEUS_CONTENT_TYPE}). */
  render(): string {
    return [...this.#metrics.values()].map((metric) => metric.render()).join("");
  }
}
