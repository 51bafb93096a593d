/**
 * The Prometheus exposition of the server, built on prom-client (the Node.js ecosystem's
 * standard client): run metrics, the process metrics prom-client collects (CPU, memory, open
 * file descriptors, event loop lag, …), in the text format 0.0.4 or in OpenMetrics 1.0.0.
 *
 * @module
 */

import client from "prom-client";

/** Content type of the Prometheus text format 0.0.4. */
export const PROMETHEUS_CONTENT_TYPE: string = client.Registry.PROMETHEUS_CONTENT_TYPE;
/** Content type of OpenMetrics 1.0.0. */
export const OPENMETRICS_CONTENT_TYPE: string = client.Registry.OPENMETRICS_CONTENT_TYPE;

/** The two exposition formats of `GET /metrics`. */
export type MetricsFormat = "prometheus" | "openmetrics";

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

/**
 * The format a scraper asks for in its Accept header: OpenMetrics when it names
 * `application/openmetrics-text` (as Prometheus does by default), else the text format.
 */
export function metricsFormatOf(accept: string | null): MetricsFormat {
  return accept !== null && /application\/openmetrics-text/i.test(accept)
    ? "openmetrics"
    : "prometheus";
}

/** The content type of `format`. */
export function metricsContentType(format: MetricsFormat): string {
  return format === "openmetrics" ? OPENMETRICS_CONTENT_TYPE : PROMETHEUS_CONTENT_TYPE;
}

/**
 * Puts a Prometheus-text fragment (e.g. the queue triggers' series) into an exposition of
 * `format`: appended to the text format; for OpenMetrics inserted before `# EOF`, with the
 * counters' metadata named without their `_total` suffix as OpenMetrics requires.
 */
export function appendExposition(text: string, fragment: string, format: MetricsFormat): string {
  if (fragment === "") return text;
  if (format === "prometheus") return text + fragment;
  const counters = new Set<string>();
  for (const match of fragment.matchAll(/^# TYPE (\S+) counter$/gm)) counters.add(match[1]!);
  const open = fragment.replace(
    /^# (HELP|TYPE) (\S+)_total /gm,
    (line, kind, base) => counters.has(`${base}_total`) ? `# ${kind} ${base} ` : line,
  );
  const eof = text.lastIndexOf("# EOF");
  return eof < 0 ? text + open : text.slice(0, eof) + open + text.slice(eof);
}

/** Two prom-client registries (one per format) that every metric is registered in. */
export class MetricsRegistries {
  readonly prometheus: client.Registry = new client.Registry();
  readonly openmetrics: client.Registry<client.OpenMetricsContentType> = new client.Registry<
    client.OpenMetricsContentType
  >();

  /** Also collects prom-client's process metrics (`process_*`, `nodejs_*`) unless false. */
  constructor(options: { processMetrics?: boolean } = {}) {
    this.openmetrics.setContentType(client.Registry.OPENMETRICS_CONTENT_TYPE);
    if (options.processMetrics !== false) {
      client.collectDefaultMetrics({ register: this.prometheus });
      client.collectDefaultMetrics({ register: this.openmetrics });
    }
  }

  /** Both registries, for a metric's `registers` option. */
  get both(): client.Registry[] {
    return [this.prometheus, this.openmetrics as unknown as client.Registry];
  }

  /** The exposition in `format`. */
  render(format: MetricsFormat = "prometheus"): Promise<string> {
    return (format === "openmetrics" ? this.openmetrics : this.prometheus).metrics();
  }
}

/**
 * `api` with `metrics(format)` followed by `extra()` (the queue triggers' Prometheus text),
 * placed as {@link appendExposition} says: how `GET /metrics` gets the triggers' series.
 */
export function withExtraMetrics<
  T extends { metrics(format?: MetricsFormat): Promise<string> },
>(api: T, extra: () => string): T {
  return new Proxy(api, {
    get(target, property) {
      if (property === "metrics") {
        return async (format: MetricsFormat = "prometheus") =>
          appendExposition(await target.metrics(format), extra(), format);
      }
      const value = Reflect.get(target, property, target);
      // Methods run on the target itself (its #private fields are not on the proxy).
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

export { client };
