/**
 * Production runs as tests: `pipedreamer test --from-run <id> [--node x]` writes node fixtures
 * from a stored run, `pipedreamer runs replay <id> --node x` runs a node locally on its
 * recorded input and prints the difference. Runs come from the local store or a server.
 *
 * @module
 */

import type { Command } from "commander";
import { dirname, join } from "node:path";
import {
  type CompiledWorkflow,
  createRedactor,
  createRunner,
  fixtureFromRun,
  loadSecrets,
  nodesThatRan,
  replayNode,
  type ReplayResult,
  type RunFixture,
  type RunRecord,
} from "../engine/mod.ts";
import { CliFailure, usageError } from "./_output.ts";
import { httpSource, openLocalSource, type RunsSource } from "./_runs_source.ts";

/** Where the run is read from. */
export interface RunSourceFlags {
  url?: string;
  token?: string;
  data?: string;
  store?: string;
}

/** Adds --url, --token, --data and --store (the run's source) to `command`. */
export function withRunSource(command: Command, dataDefault: string): Command {
  return command
    .option("--url <url>", "read the run from a running server, e.g. http://localhost:8080")
    .option("--token <token>", "the server's API token (default env PIPEDREAMER_TOKEN)")
    .option("--data <dir>", `directory of the local SQLite store (default ${dataDefault})`)
    .option("--store <url>", "local store URL: sqlite:<path> or postgres://…");
}

/** Reads run `runId` from the flags' source (`dataDir` when neither --url nor --store/--data). */
export async function readRun(
  command: Command,
  flags: RunSourceFlags,
  runId: string,
  dataDir: string,
): Promise<RunRecord> {
  let source: RunsSource;
  if (flags.url !== undefined) {
    if (!URL.canParse(flags.url) || !/^https?:$/.test(new URL(flags.url).protocol)) {
      usageError(command, `Cannot use --url "${flags.url}": expected http(s)://host:port`);
    }
    source = httpSource(flags.url, flags.token ?? Deno.env.get("PIPEDREAMER_TOKEN"));
  } else {
    source = await openLocalSource(flags.store, flags.data ?? dataDir);
  }
  try {
    return await source.show(runId);
  } finally {
    await source.close();
  }
}

function checkSameWorkflow(workflow: CompiledWorkflow, record: RunRecord): void {
  if (record.workflow !== workflow.name) {
    throw new CliFailure(
      `Cannot use run "${record.runId}": it is a run of workflow "${record.workflow}", not ` +
        `"${workflow.name}" (${workflow.dir})`,
    );
  }
}

/**
 * Writes the fixtures of `node` (or of every node that succeeded or failed in the run) under
 * the workflow's tests/fixtures. An existing file is kept unless `force`.
 *
 * @returns the fixtures written
 */
export async function writeFixturesFromRun(
  workflow: CompiledWorkflow,
  record: RunRecord,
  node: string | undefined,
  force: boolean,
): Promise<RunFixture[]> {
  checkSameWorkflow(workflow, record);
  let nodes: string[];
  if (node !== undefined) {
    nodes = [node];
  } else {
    nodes = nodesThatRan(workflow, record);
    if (nodes.length === 0) {
      throw new CliFailure(`Cannot write fixtures from run "${record.runId}": no node ran in it`);
    }
  }
  const fixtures = nodes.map((id) => {
    try {
      return fixtureFromRun(workflow, record, id);
    } catch (error) {
      throw new CliFailure((error as Error).message);
    }
  });
  for (const fixture of fixtures) {
    const path = join(workflow.dir, fixture.file);
    await Deno.mkdir(dirname(path), { recursive: true });
    const text = JSON.stringify(fixture.fixture, null, 2) + "\n";
    try {
      await Deno.writeTextFile(path, text, { createNew: !force });
    } catch (error) {
      if (error instanceof Deno.errors.AlreadyExists) {
        throw new CliFailure(`Cannot write ${fixture.file}: it exists; pass --force to replace it`);
      }
      throw error;
    }
  }
  return fixtures;
}

/** Replays `node` of `record` against the local `workflow` with its local secrets. */
export async function replayFromRun(
  workflow: CompiledWorkflow,
  record: RunRecord,
  node: string,
  onLog?: Parameters<typeof replayNode>[3]["onLog"],
): Promise<ReplayResult> {
  checkSameWorkflow(workflow, record);
  const secrets = await loadSecrets(workflow.dir);
  const runner = createRunner();
  try {
    return await replayNode(workflow, record, node, {
      runner,
      secrets,
      redact: createRedactor(secrets),
      onLog,
    });
  } catch (error) {
    if (error instanceof RangeError) throw new CliFailure(error.message);
    throw error;
  } finally {
    await runner.close();
  }
}
