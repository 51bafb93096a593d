/**
 * WAL pages written per durable 3-step run (issue 13), and optionally runs/s and CPU per run,
 * of one or more builds side by side:
 *
 * ```sh
 * DENO_NO_PACKAGE_JSON=1 deno run --allow-all bench/wal_pages.ts [--runs N] [--in-flight K]
 *   [--load-seconds S] [--rounds R] [--input-bytes B] [--build DIR]…
 * ```
 *
 * For each build (a checkout with its own `./pipedreamer`; default this one) and round, in
 * turn: `serve` (SQLite, durability `full`) on bench/workload_durable.ts's 3-step no-op
 * project, 20 warm-up runs, then N `POST /run` one at a time and N more K at a time. The WAL
 * file is read before and after each phase: the frames appended (one per page written; the WAL
 * never restarts during a phase: its salt is checked), the commits among them, and which b-tree
 * each written page belongs to (`dbstat`). No timing goes into these counts. With
 * `--load-seconds`, wrk then drives K in flight for S seconds (after 2 s of warm-up): runs/s,
 * p99 and the CPU ms per run of `serve` and its sandbox processes (/proc). `--input-bytes` sends
 * each run an input of about B bytes (`{"pad":"xx…"}`; default `{}`).
 *
 * @module
 */

import { join, resolve } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { hasWrk, wrkLoad } from "./_load_generator.ts";
import { treeCpuMs } from "./_cpu.ts";
import { writeProject } from "./_projects.ts";
import { startServe } from "./_serve.ts";
import { REPO_ROOT } from "./_paths.ts";

const USAGE = `Usage: deno run --allow-all bench/wal_pages.ts [--runs N] [--in-flight K]
         [--load-seconds S] [--rounds R] [--input-bytes B] [--build DIR]…
  --runs          runs per WAL phase (default 100; at ~20 pages a run, keep N ≤ 200)
  --in-flight     runs in flight in the second phase and under wrk (default 8)
  --load-seconds  then wrk for S seconds at K in flight (default 0: no load phase)
  --rounds        rounds; the builds alternate within each (default 1)
  --input-bytes   each run's input: {"pad":"xx…"} of about B bytes (default 0: {})
  --build         a checkout to start ./pipedreamer serve from (repeatable; default this one)`;

interface Args {
  runs: number;
  inFlight: number;
  loadSeconds: number;
  rounds: number;
  inputBytes: number;
  builds: string[];
}

function parseArgs(args: string[]): Args {
  const parsed: Args = {
    runs: 100,
    inFlight: 8,
    loadSeconds: 0,
    rounds: 1,
    inputBytes: 0,
    builds: [],
  };
  const numbers = {
    "--runs": "runs",
    "--in-flight": "inFlight",
    "--load-seconds": "loadSeconds",
    "--rounds": "rounds",
    "--input-bytes": "inputBytes",
  } as const;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--help" || arg === "-h") {
      console.log(USAGE);
      Deno.exit(0);
    }
    const value = args[++i];
    if (value === undefined) {
      throw new RangeError(`Cannot parse ${arg}: it needs a value\n${USAGE}`);
    }
    if (arg === "--build") {
      const build = resolve(value);
      try {
        Deno.statSync(join(build, "pipedreamer"));
      } catch {
        throw new RangeError(`Cannot use --build "${value}": it has no ./pipedreamer`);
      }
      parsed.builds.push(build);
    } else if (arg in numbers) {
      const n = Number(value);
      const min = arg === "--load-seconds" || arg === "--input-bytes" ? 0 : 1;
      if (!Number.isInteger(n) || n < min) {
        throw new RangeError(`Cannot parse ${arg}: "${value}" is not an integer ≥ ${min}`);
      }
      parsed[numbers[arg as keyof typeof numbers]] = n;
    } else throw new RangeError(`Cannot parse "${arg}": unknown option\n${USAGE}`);
  }
  if (parsed.builds.length === 0) parsed.builds.push(REPO_ROOT);
  return parsed;
}

/** The WAL file as far as it was written: its salt and its frames' page numbers. */
interface WalState {
  salt: number;
  pageSize: number;
  /** Page number and "database size after commit" (0: not a commit frame) of each frame. */
  frames: { page: number; commit: number }[];
}

function readWal(path: string): WalState {
  const bytes = Deno.readFileSync(path);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const pageSize = view.getUint32(8);
  const salt = view.getUint32(16);
  const frames: WalState["frames"] = [];
  for (let at = 32; at + 24 + pageSize <= bytes.length; at += 24 + pageSize) {
    if (view.getUint32(at + 8) !== salt) break; // a frame left from before a restart
    frames.push({ page: view.getUint32(at), commit: view.getUint32(at + 4) });
  }
  return { salt, pageSize, frames };
}

/** What one phase wrote, per run. */
interface PhaseFigures {
  phase: string;
  runs: number;
  framesPerRun: number;
  commitsPerRun: number;
  /** Frames per run by b-tree (table or index; "other": freelist, pointer maps). */
  byTree: Map<string, number>;
}

async function post(url: string, body: string): Promise<void> {
  const response = await fetch(url, { method: "POST", body });
  const text = await response.text();
  if (!response.ok || (JSON.parse(text) as { result?: unknown }).result !== 3) {
    throw new Error(`Cannot trust serve: ${url} answered ${response.status} ${text.slice(0, 300)}`);
  }
}

async function runMany(
  url: string,
  body: string,
  count: number,
  inFlight: number,
): Promise<void> {
  let left = count;
  const loop = async () => {
    while (left > 0) {
      left--;
      await post(url, body);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, loop));
}

async function phase(
  name: string,
  dbPath: string,
  work: () => Promise<void>,
  runs: number,
): Promise<PhaseFigures> {
  const before = readWal(`${dbPath}-wal`);
  await work();
  const after = readWal(`${dbPath}-wal`);
  if (after.salt !== before.salt || after.frames.length < before.frames.length) {
    throw new Error(`Cannot count WAL frames of "${name}": the WAL restarted; pass fewer --runs`);
  }
  const written = after.frames.slice(before.frames.length);
  const db = new DatabaseSync(dbPath);
  const owner = new Map<number, string>();
  try {
    for (const row of db.prepare("SELECT name, pageno FROM dbstat").all()) {
      owner.set(Number(row.pageno), String(row.name));
    }
  } finally {
    db.close();
  }
  const byTree = new Map<string, number>();
  for (const { page } of written) {
    const tree = owner.get(page) ?? "other";
    byTree.set(tree, (byTree.get(tree) ?? 0) + 1 / runs);
  }
  return {
    phase: name,
    runs,
    framesPerRun: written.length / runs,
    commitsPerRun: written.filter((f) => f.commit !== 0).length / runs,
    byTree,
  };
}

interface LoadFigures {
  runsPerSecond: number;
  p99Ms: number;
  cpuMsPerRun: number;
  errors: number;
}

async function measure(
  build: string,
  projectDir: string,
  dataDir: string,
  args: Args,
  tmp: string,
): Promise<{ phases: PhaseFigures[]; load?: LoadFigures }> {
  const serve = await startServe(projectDir, dataDir, { root: build, durability: "full" });
  try {
    const url = `${serve.url}/run`;
    const body = args.inputBytes === 0
      ? "{}"
      : JSON.stringify({ pad: "x".repeat(args.inputBytes) });
    await runMany(url, body, 20, 1);
    const dbPath = join(dataDir, "runs.db");
    const phases = [
      await phase("1 in flight", dbPath, () => runMany(url, body, args.runs, 1), args.runs),
      await phase(
        `${args.inFlight} in flight`,
        dbPath,
        () => runMany(url, body, args.runs, args.inFlight),
        args.runs,
      ),
    ];
    if (args.loadSeconds === 0) return { phases };
    const spec = (seconds: number) => ({
      url,
      body,
      concurrency: args.inFlight,
      durationMs: seconds * 1000,
      maxRequests: 1_000_000,
      expect: '"result":3',
    });
    await wrkLoad(spec(2), tmp);
    const cpuBefore = treeCpuMs([serve.pid]);
    const result = await wrkLoad(spec(args.loadSeconds), tmp);
    const cpuMs = treeCpuMs([serve.pid]) - cpuBefore;
    return {
      phases,
      load: {
        runsPerSecond: result.runsPerSecond,
        p99Ms: result.p99Ms,
        cpuMsPerRun: cpuMs / Math.max(1, result.ok),
        errors: result.errors,
      },
    };
  } finally {
    await serve.stop();
  }
}

function report(build: string, round: number, figures: Awaited<ReturnType<typeof measure>>) {
  const lines = [`\n### ${build}, round ${round}\n`];
  lines.push("| phase | runs | WAL pages/run | KiB/run | commits/run | pages/run by b-tree |");
  lines.push("| --- | ---: | ---: | ---: | ---: | --- |");
  for (const p of figures.phases) {
    const trees = [...p.byTree].sort((a, b) => b[1] - a[1])
      .map(([name, n]) => `${name} ${n.toFixed(2)}`).join(", ");
    lines.push(
      `| ${p.phase} | ${p.runs} | ${p.framesPerRun.toFixed(2)} | ${
        (p.framesPerRun * 4).toFixed(1)
      } | ${p.commitsPerRun.toFixed(2)} | ${trees} |`,
    );
  }
  if (figures.load) {
    const { runsPerSecond, p99Ms, cpuMsPerRun, errors } = figures.load;
    lines.push(
      `\nwrk: ${runsPerSecond.toFixed(0)} runs/s, p99 ${p99Ms.toFixed(1)} ms, CPU ${
        cpuMsPerRun.toFixed(3)
      } ms/run, errors ${errors}`,
    );
  }
  console.log(lines.join("\n"));
}

async function main(): Promise<void> {
  const args = parseArgs(Deno.args);
  if (args.loadSeconds > 0 && !(await hasWrk())) {
    throw new Error("Cannot run --load-seconds: wrk is not installed (apt-get install wrk)");
  }
  const tmp = await Deno.makeTempDir({ prefix: "pipedreamer-wal-pages-" });
  try {
    const project = await writeProject(tmp, {
      name: "durable-3step",
      shape: "chain",
      size: 3,
      work: { kind: "noop" },
      concurrency: { maxRuns: 64, queueLimit: 1000 },
    });
    let dirs = 0;
    for (let round = 1; round <= args.rounds; round++) {
      for (const build of args.builds) {
        const load = Deno.loadavg().map((l) => l.toFixed(2)).join(" ");
        const dataDir = join(tmp, `data-${++dirs}`);
        const figures = await measure(build, project.dir, dataDir, args, tmp);
        report(build, round, figures);
        console.log(`load average before: ${load}`);
        await Deno.remove(dataDir, { recursive: true });
      }
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

if (import.meta.main) {
  try {
    await main();
  } catch (error) {
    console.error(error instanceof RangeError ? `${error.message}` : error);
    Deno.exit(error instanceof RangeError ? 2 : 1);
  }
}
