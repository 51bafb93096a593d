/**
 * BullMQ flows on a real Redis (Debian redis-server, started by the bench). BullMQ runs under
 * Node.js (bench/bullmq_flow.mjs): bullmq@6.7.0 does not install under Deno here. Its npm
 * packages are installed once, with npm, into a cache directory outside the repository.
 *
 * @module
 */

import { join } from "node:path";
import { BENCH_DIR, which } from "./_paths.ts";
import type { Project } from "./_projects.ts";
import type { RedisServer } from "./_redis.ts";
import type { Repeat } from "./_stats.ts";

/** Pinned versions of the Node.js side. */
export const BULLMQ_DEPS = { bullmq: "6.7.0", ioredis: "5.8.2" } as const;

/** What one BullMQ measurement gives. */
export interface BullmqSamples {
  samples: number[];
  /** Pure compute measured in the same Node.js process. */
  pureMs: number;
  result: unknown;
}

function depsDir(): string {
  const cache = Deno.env.get("XDG_CACHE_HOME") ?? join(Deno.env.get("HOME") ?? "/tmp", ".cache");
  return join(cache, "pipedreamer-bench", `bullmq-${BULLMQ_DEPS.bullmq}`);
}

/**
 * Installs bullmq and ioredis with npm into the cache directory when they are missing.
 * Returns a reason when BullMQ cannot run here (no node or npm).
 */
export async function prepareBullmq(): Promise<{ dir: string } | { skipped: string }> {
  const node = await which("node");
  const npm = await which("npm");
  if (!node || !npm) return { skipped: "node/npm not installed" };
  const dir = depsDir();
  try {
    await Deno.stat(join(dir, "node_modules", "bullmq", "package.json"));
    return { dir };
  } catch {
    // not installed yet
  }
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(
    join(dir, "package.json"),
    JSON.stringify({ private: true, dependencies: BULLMQ_DEPS }, null, 2),
  );
  const { code, stderr } = await new Deno.Command(npm, {
    args: ["install", "--no-audit", "--no-fund", "--loglevel=error", "--ignore-scripts"],
    cwd: dir,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    return { skipped: `npm install failed: ${new TextDecoder().decode(stderr).trim()}` };
  }
  return { dir };
}

/** Runs `project` as BullMQ flows: warm-up, then `reps` timed runs, in one Node.js process. */
export async function measureBullmq(
  project: Project,
  options: { redis: RedisServer; depsDir: string; concurrency: number; repeat: Repeat },
): Promise<BullmqSamples> {
  const spec = {
    name: project.spec.name,
    depsDir: options.depsDir,
    projectDir: project.dir,
    port: options.redis.port,
    shape: project.spec.shape,
    size: project.spec.size,
    concurrency: options.concurrency,
    warmup: options.repeat.warmup,
    reps: options.repeat.reps,
  };
  const { code, stdout, stderr } = await new Deno.Command("node", {
    args: [join(BENCH_DIR, "bullmq_flow.mjs"), JSON.stringify(spec)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(stdout).trim();
  if (code !== 0) {
    throw new Error(
      `Cannot run BullMQ on "${project.spec.name}": node exited ${code}: ${
        new TextDecoder().decode(stderr).trim().slice(-2000)
      }`,
    );
  }
  return JSON.parse(out.split("\n").pop()!) as BullmqSamples;
}
