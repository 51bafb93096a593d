/**
 * The workflow-wide settings: engine settings read from `config:`, `concurrency:`,
 * `retention:` and `services:`.
 *
 * @module
 */

import type {
  ConcurrencySettings,
  ExecutionSettings,
  RetentionSettings,
} from "../workflow_model.ts";
import type { LocatedEntry } from "./located_types.ts";
import { type Checker, MAX_TIMER_MS } from "./_checker.ts";
import { entryOf } from "./_located.ts";
import { compileConfigLimits } from "./_compile_limits.ts";
import { checkKeyInSchema, compileConcurrencyKey } from "./_compile_concurrency_key.ts";

/** Engine defaults, overridden by the keys of the same name in `config:`. */
export const DEFAULT_SETTINGS: Readonly<ExecutionSettings> = {
  timeoutMs: 30_000,
  retries: 1,
  failFast: true,
  maxParallel: 16,
  backoffMs: 200,
  maxBackoffMs: 30_000,
};

/**
 * Defaults of `concurrency:`. They apply to every workflow in dev/serve, declared or not, so a
 * burst of runs queues instead of overloading the engine.
 */
export const DEFAULT_CONCURRENCY: Readonly<ConcurrencySettings> = {
  maxRuns: 10,
  queueLimit: 100,
  strategy: "append",
  startDelayMs: 0,
};

/** The raw `config:` map and the engine settings read from it. */
export function compileSettings(checker: Checker, entry: LocatedEntry | undefined) {
  const settings: ExecutionSettings = { ...DEFAULT_SETTINGS };
  if (!entry) return settings;
  const map = checker.map(entry.value, "config", "Write config: { timeout: 30s }");
  if (!map) return settings;
  const memoryMiB = compileConfigLimits(checker, entry);
  if (memoryMiB !== undefined) settings.memoryMiB = memoryMiB;
  const get = (key: string) => entryOf(map, key);
  const timer = { min: 1, max: MAX_TIMER_MS };
  let e: LocatedEntry | undefined;
  if ((e = get("timeout"))) settings.timeoutMs = checker.duration(e, timer) ?? settings.timeoutMs;
  if ((e = get("retries"))) {
    settings.retries = checker.int(e, { min: 0, max: 100, example: 2 }) ?? settings.retries;
  }
  if ((e = get("failFast"))) settings.failFast = checker.bool(e) ?? settings.failFast;
  if ((e = get("maxParallel"))) {
    settings.maxParallel = checker.int(e, { min: 1, max: 100_000, example: 16 }) ??
      settings.maxParallel;
  }
  const backoff = get("backoff");
  if (backoff) {
    settings.backoffMs = checker.duration(backoff, { max: MAX_TIMER_MS }) ?? settings.backoffMs;
  }
  if ((e = get("maxBackoff"))) {
    settings.maxBackoffMs = checker.duration(e, { max: MAX_TIMER_MS }) ?? settings.maxBackoffMs;
  }
  if (settings.backoffMs > settings.maxBackoffMs) {
    checker.report(
      (backoff ?? get("maxBackoff")!).value.pos,
      `"backoff" (${settings.backoffMs}ms) exceeds "maxBackoff" (${settings.maxBackoffMs}ms)`,
      "Make backoff at most maxBackoff",
    );
  }
  return settings;
}

/** `concurrency:` with defaults; present for every workflow (see {@link DEFAULT_CONCURRENCY}). */
export function compileConcurrency(
  checker: Checker,
  entry: LocatedEntry | undefined,
  inputSchema?: unknown,
) {
  const concurrency: ConcurrencySettings = { ...DEFAULT_CONCURRENCY };
  const map = entry && checker.map(entry.value, "concurrency", "Write concurrency: { maxRuns: 4 }");
  if (!map) return concurrency;
  const keys = checker.keys(
    map,
    ["maxRuns", "queueLimit", "strategy", "startDelay", "key", "maxRunsTotal"] as const,
    "concurrency key",
  );
  let e: LocatedEntry | undefined;
  if ((e = keys.get("maxRuns"))) {
    concurrency.maxRuns = checker.int(e, { min: 1, max: 100_000, example: 4 }) ?? 1;
  }
  if ((e = keys.get("queueLimit"))) {
    concurrency.queueLimit = checker.int(e, { min: 0, max: 1_000_000, example: 100 }) ?? 0;
  }
  if ((e = keys.get("strategy"))) {
    const strategy = checker.string(e, { example: "append" });
    if (strategy === "append" || strategy === "replace") concurrency.strategy = strategy;
    else if (strategy !== undefined) {
      checker.report(e.value.pos, `Unknown strategy "${strategy}"`, "Use append or replace");
    }
  }
  if ((e = keys.get("startDelay"))) {
    concurrency.startDelayMs = checker.duration(e, { max: MAX_TIMER_MS }) ?? 0;
  }
  compileConcurrencyKey(checker, keys.get("key"), keys.get("maxRunsTotal"), concurrency);
  const key = keys.get("key");
  if (key && concurrency.key !== undefined) {
    checkKeyInSchema(checker, key, concurrency.key, inputSchema);
  }
  return concurrency;
}

/** `retention:`; undefined when absent (history is kept). */
export function compileRetention(checker: Checker, entry: LocatedEntry | undefined) {
  const map = entry &&
    checker.map(entry.value, "retention", "Write retention: { maxRuns: 1000, maxAge: 30d }");
  if (!map) return undefined;
  const keys = checker.keys(map, ["maxRuns", "maxAge"] as const, "retention key");
  const retention: RetentionSettings = {};
  const maxRuns = keys.get("maxRuns");
  if (maxRuns) retention.maxRuns = checker.int(maxRuns, { min: 1, example: 1000 });
  const maxAge = keys.get("maxAge");
  if (maxAge) retention.maxAgeMs = checker.duration(maxAge, { min: 1 });
  return retention;
}

/** `services:`: name → absolute http(s) base URL, without credentials. */
export function compileServices(checker: Checker, entry: LocatedEntry | undefined) {
  const services: Record<string, string> = {};
  const map = entry &&
    checker.map(entry.value, "services", "Write services: { slack: https://hooks.slack.com }");
  for (const service of map?.entries ?? []) {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(service.key)) {
      checker.report(
        service.keyPos,
        `Invalid service name "${service.key}"`,
        "Use letters, digits, '-', '_' and '.', e.g. github",
      );
    }
    const text = checker.string(service, { example: "https://api.example.com" });
    if (text === undefined) continue;
    const url = URL.canParse(text) ? new URL(text) : undefined;
    if (!url || (url.protocol !== "https:" && url.protocol !== "http:")) {
      checker.report(
        service.value.pos,
        `Service "${service.key}" needs an absolute http(s) URL, got "${text}"`,
        `Write e.g. ${service.key}: https://${
          text.replace(/^[a-z]+:\/\//i, "") || "api.example.com"
        }`,
      );
    } else if (url.username || url.password) {
      checker.report(
        service.value.pos,
        `Service "${service.key}" URL contains credentials`,
        `Remove them and put a token in the secrets of "${service.key}" (.secrets.yaml)`,
      );
    } else {
      Object.defineProperty(services, service.key, {
        value: text,
        enumerable: true,
        writable: true,
      });
    }
  }
  return services;
}
