/**
 * The Prometheus exposition's formats, content types and helpers, without prom-client: the
 * routes and the server use these while prom-client itself is loaded only when the metrics are
 * first needed (server/_run_metrics.ts). The content types equal prom-client's
 * (`client.Registry.*_CONTENT_TYPE`, checked by server/_metrics_test.ts).
 *
 * @module
 */

/** Content type of the Prometheus text format 0.0.4. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
/** Content type of OpenMetrics 1.0.0. */
export const OPENMETRICS_CONTENT_TYPE =
  "application/openmetrics-text; version=1.0.0; charset=utf-8";

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
