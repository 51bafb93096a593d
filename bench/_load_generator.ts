/**
 * The HTTP load generators of the http-3node workload, both on loopback only: Debian's `wrk`
 * when it is installed (C, cheap on a 2-core machine), else N concurrent `fetch` loops in this
 * process (keep-alive). Each run is bounded in time and, for the Deno loops, in count.
 *
 * @module
 */

import { join } from "node:path";
import { percentile, summarize } from "./_stats.ts";
import { which } from "./_paths.ts";

/** One load level's outcome. */
export interface LoadResult {
  concurrency: number;
  /** Completed 2xx responses. */
  ok: number;
  /** Non-2xx responses and transport errors. */
  errors: number;
  seconds: number;
  runsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  tool: "wrk" | "deno-fetch";
}

/** What to send. */
export interface LoadSpec {
  /** Must be a loopback URL. */
  url: string;
  body: string;
  concurrency: number;
  durationMs: number;
  /** Upper bound of requests (Deno loops only). */
  maxRequests: number;
  /**
   * A 2xx answer counts only when its body, white space removed, contains this text followed
   * by `,` or `}` (else it is an error), so a system that answers fast but wrong cannot score.
   * @default undefined (any 2xx counts)
   */
  expect?: string;
}

function checkLoopback(url: string): void {
  const host = new URL(url).hostname;
  if (host !== "127.0.0.1" && host !== "localhost" && host !== "[::1]") {
    throw new RangeError(`Cannot load "${url}": the load generator only targets loopback`);
  }
}

/** Whether `text` holds `expect` as {@link LoadSpec.expect} says. */
export function answers(text: string, expect: string): boolean {
  const compact = text.replace(/\s/g, "");
  return compact.includes(`${expect},`) || compact.includes(`${expect}}`);
}

/** N `fetch` loops with keep-alive, stopped by time or count. */
export async function fetchLoad(spec: LoadSpec): Promise<LoadResult> {
  checkLoopback(spec.url);
  const latencies: number[] = [];
  let errors = 0;
  let issued = 0;
  const started = performance.now();
  const deadline = started + spec.durationMs;
  const client = Deno.createHttpClient({ poolMaxIdlePerHost: spec.concurrency });
  const loop = async () => {
    while (performance.now() < deadline && issued < spec.maxRequests) {
      issued++;
      const sent = performance.now();
      try {
        const response = await fetch(spec.url, {
          method: "POST",
          body: spec.body,
          headers: { "content-type": "application/json" },
          client,
        });
        const text = await response.text();
        const right = spec.expect === undefined || answers(text, spec.expect);
        if (response.ok && right) latencies.push(performance.now() - sent);
        else errors++;
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: spec.concurrency }, loop));
  const seconds = (performance.now() - started) / 1000;
  client.close();
  latencies.sort((a, b) => a - b);
  return {
    concurrency: spec.concurrency,
    ok: latencies.length,
    errors,
    seconds,
    runsPerSecond: latencies.length / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    tool: "deno-fetch",
  };
}

const WRK_SCRIPT = `wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = os.getenv("BENCH_BODY")
`;

/** The same, counting 2xx answers whose body lacks BENCH_EXPECT ("Wrong answers: n"). */
const WRK_CHECKING_SCRIPT = `${WRK_SCRIPT}
local expect = os.getenv("BENCH_EXPECT")
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) wrong = 0 end
function response(status, headers, body)
  if status >= 200 and status < 300 then
    local compact = body:gsub("%s", "")
    if not (string.find(compact, expect .. ",", 1, true) or string.find(compact, expect .. "}", 1, true)) then
      wrong = wrong + 1
    end
  end
end
function done(summary, latency, requests)
  local n = 0
  for _, thread in ipairs(threads) do n = n + thread:get("wrong") end
  io.write("Wrong answers: " .. n .. "\\n")
end
`;

function wrkMs(text: string, label: string): number {
  const match = new RegExp(`^\\s*${label}%\\s+([\\d.]+)(us|ms|s)\\s*$`, "m").exec(text);
  if (!match) return NaN;
  const value = Number(match[1]);
  return match[2] === "us" ? value / 1000 : match[2] === "s" ? value * 1000 : value;
}

/** `wrk` with one thread and `concurrency` connections for `durationMs`. */
export async function wrkLoad(spec: LoadSpec, scriptDir: string): Promise<LoadResult> {
  checkLoopback(spec.url);
  const script = join(scriptDir, spec.expect === undefined ? "post.lua" : "post_checked.lua");
  await Deno.writeTextFile(script, spec.expect === undefined ? WRK_SCRIPT : WRK_CHECKING_SCRIPT);
  const seconds = Math.max(1, Math.round(spec.durationMs / 1000));
  const { code, stdout, stderr } = await new Deno.Command("wrk", {
    args: [
      "-t1",
      `-c${spec.concurrency}`,
      `-d${seconds}s`,
      "--latency",
      "--timeout",
      "10s",
      "-s",
      script,
      spec.url,
    ],
    env: { BENCH_BODY: spec.body, BENCH_EXPECT: spec.expect ?? "" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(stdout);
  if (code !== 0) {
    throw new Error(`Cannot run wrk: exit ${code}: ${new TextDecoder().decode(stderr)}`);
  }
  const total = Number(/(\d+) requests in ([\d.]+)(ms|s)/.exec(text)?.[1] ?? NaN);
  const elapsedMatch = /requests in ([\d.]+)(ms|s)/.exec(text);
  const elapsed = elapsedMatch
    ? Number(elapsedMatch[1]) / (elapsedMatch[2] === "ms" ? 1000 : 1)
    : seconds;
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const socketErrors = socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0;
  const wrongMatch = /Wrong answers: (\d+)/.exec(text);
  if (spec.expect !== undefined && !wrongMatch) {
    throw new Error(`Cannot check the answers wrk got: no "Wrong answers" line in ${text}`);
  }
  const wrong = Number(wrongMatch?.[1] ?? 0);
  const ok = total - non2xx - wrong;
  return {
    concurrency: spec.concurrency,
    ok,
    errors: non2xx + socketErrors + wrong,
    seconds: elapsed,
    runsPerSecond: ok / elapsed,
    p50Ms: wrkMs(text, "50"),
    p99Ms: wrkMs(text, "99"),
    tool: "wrk",
  };
}

/** Whether wrk is installed. */
export async function hasWrk(): Promise<boolean> {
  return (await which("wrk")) !== undefined;
}

/** Median and spread of sequential request latencies (ms). */
export async function sequentialLatency(
  url: string,
  body: string,
  count: number,
  warmup: number,
): Promise<{ samples: number[]; summary: ReturnType<typeof summarize> }> {
  checkLoopback(url);
  const samples: number[] = [];
  for (let i = 0; i < warmup + count; i++) {
    const sent = performance.now();
    const response = await fetch(url, {
      method: "POST",
      body,
      headers: { "content-type": "application/json" },
    });
    await response.arrayBuffer();
    if (!response.ok) throw new Error(`Cannot benchmark ${url}: HTTP ${response.status}`);
    if (i >= warmup) samples.push(performance.now() - sent);
  }
  return { samples, summary: summarize(samples) };
}
