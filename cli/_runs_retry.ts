/**
 * `pipedreamer runs retry <id> [--from node]`: through a server (`--url`), or against the local
 * store by executing the retry in this process with the local workflow directory's code (or
 * the run's own code version when its snapshot is still in the store's data directory).
 *
 * @module
 */

import { join, relative, resolve } from "node:path";
import {
  createRedactor,
  loadSecrets,
  loadSubWorkflowSecrets,
  type RunRecord,
} from "../engine/mod.ts";
import { CliFailure } from "./_output.ts";

/** What a retry started. */
export interface RetryStarted {
  runId: string;
  retryOf: string;
  codeHash?: string;
  warning?: string;
}

/** POST /runs/:id/retry on a server; server errors become {@link CliFailure}s. */
export async function retryRemote(
  baseUrl: string,
  token: string | undefined,
  runId: string,
  from: string | undefined,
): Promise<RetryStarted> {
  const base = baseUrl.replace(/\/+$/, "");
  let response: Response;
  try {
    response = await fetch(`${base}/runs/${encodeURIComponent(runId)}/retry`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: from === undefined ? "" : JSON.stringify({ from }),
    });
  } catch (error) {
    throw new CliFailure(`Cannot reach ${base}: ${(error as Error).message}`);
  }
  const text = await response.text();
  if (response.status !== 202) {
    let message = `${response.status} ${response.statusText}`;
    try {
      message = JSON.parse(text).error.message ?? message;
    } catch {
      // Not our JSON error: keep the status line.
    }
    const hint = response.status === 401 ? "; pass --token or set PIPEDREAMER_TOKEN" : "";
    throw new CliFailure(`${message}${hint}`);
  }
  return JSON.parse(text) as RetryStarted;
}

/**
 * Executes the retry here: a run manager over the local store and the workflow in `dir`, with
 * the local secrets and the original run's config overlay. Resolves when the retry has ended.
 */
export async function retryLocal(
  dir: string,
  storeUrl: string | undefined,
  dataDir: string,
  runId: string,
  from: string | undefined,
): Promise<{ started: RetryStarted; record: RunRecord }> {
  const [{ loadWorkflow }, server, storeLayer] = await Promise.all([
    import("../engine/mod.ts"),
    import("../server/mod.ts"),
    import("../store/mod.ts"),
  ]);
  if (storeUrl === undefined) {
    try {
      await Deno.stat(join(dataDir, "runs.db"));
    } catch {
      throw new CliFailure(
        `Cannot open run store: no ${join(dataDir, "runs.db")}; pass --data <dir> (dev keeps ` +
          "runs in <workflow>/.pipedreamer), --store <url>, or --url <server>",
      );
    }
  }
  const workflow = await loadWorkflow(dir);
  const store = await storeLayer.openStore(storeUrl, { dataDir });
  try {
    const original = await store.getRun(runId);
    const secrets = await loadSecrets(workflow.dir);
    const subWorkflowSecrets = await loadSubWorkflowSecrets(workflow);
    const manager = await server.RunManager.create({
      workflow,
      store,
      secrets,
      subWorkflowSecrets,
      configOverlay: original?.config,
      findVersion: (hash) =>
        server.findSnapshotVersion(
          join(resolve(dataDir), "code"),
          hash,
          relative(workflow.dir, workflow.file),
        ),
    });
    try {
      let started: RetryStarted;
      try {
        started = await manager.retry(runId, { from });
      } catch (error) {
        if (error instanceof server.RetryError) {
          throw new CliFailure(createRedactor([secrets, subWorkflowSecrets])(error.message));
        }
        throw error;
      }
      return { started, record: await manager.wait(started.runId) };
    } finally {
      await manager.close();
    }
  } finally {
    await store.close();
  }
}
