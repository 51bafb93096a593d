/**
 * Shared set-up of the durable end-to-end tests against a real `pipedreamer serve`: project
 * copies of tests/testdata, an API client, polling a run, and registering a test on both stores.
 *
 * @module
 */

import { CallbackServer, type ServeProcess } from "./_serve.ts";
import { ignoreWithoutPostgres, startPostgresServer } from "../testing/mod.ts";

// deno-lint-ignore no-explicit-any
export type Json = Record<string, any>;

/** Why PostgreSQL tests are ignored, or false when a PostgreSQL server can be started. */
export const pgIgnore = ignoreWithoutPostgres();

/** A copy of tests/testdata/<name> with a token, a data dir and a config overlay. */
export async function project(name: string, callback?: CallbackServer, siblings: string[] = []) {
  const root = await Deno.makeTempDir({ prefix: "pipedreamer-durable-" });
  const dir = `${root}/${name}`;
  for (const copy of [name, ...siblings]) {
    await Deno.mkdir(`${root}/${copy}/nodes`, { recursive: true });
    const source = new URL(`./testdata/${copy}/`, import.meta.url).pathname;
    for await (const entry of Deno.readDir(`${source}/nodes`)) {
      await Deno.copyFile(`${source}/nodes/${entry.name}`, `${root}/${copy}/nodes/${entry.name}`);
    }
    await Deno.copyFile(`${source}/workflow.yaml`, `${root}/${copy}/workflow.yaml`);
  }
  const configDir = `${root}/config`;
  await Deno.mkdir(configDir);
  if (callback) await Deno.writeTextFile(`${configDir}/callbackUrl`, `${callback.url}\n`);
  const token = `tok-${crypto.randomUUID()}`;
  await Deno.writeTextFile(`${root}/token`, `${token}\n`);
  return {
    dir,
    data: `${root}/data`,
    token,
    args: (options: { port?: number; store?: string } = {}) => [
      "serve",
      dir,
      ...["--port", String(options.port ?? 0), "--host", "127.0.0.1"],
      ...["--data", `${root}/data`, "--token-file", `${root}/token`, "--config-dir", configDir],
      ...(options.store ? ["--store", options.store] : []),
    ],
    [Symbol.asyncDispose]: () => Deno.remove(root, { recursive: true }),
  };
}

export function api(server: ServeProcess, token: string) {
  return async (path: string, init: RequestInit & { json?: unknown } = {}) => {
    const { json, ...rest } = init;
    const response = await fetch(`${server.url}${path}`, {
      ...rest,
      ...(json === undefined ? {} : { method: "POST", body: JSON.stringify(json) }),
      headers: {
        authorization: `Bearer ${token}`,
        ...(json === undefined ? {} : { "content-type": "application/json" }),
        ...rest.headers,
      },
    });
    return { status: response.status, body: await response.json() as Json };
  };
}

/** Polls the run until `test` holds (the server changes it; no sleeps in between but a yield). */
export async function until(
  call: ReturnType<typeof api>,
  runId: string,
  test: (record: Json) => boolean,
  what: string,
): Promise<Json> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const { body } = await call(`/runs/${runId}`);
    if (test(body)) return body;
    if (Date.now() > deadline) {
      throw new Error(`Cannot wait any longer for ${what}: ${JSON.stringify(body).slice(0, 2000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Registers `fn` once on SQLite and once on a throwaway PostgreSQL database. */
export function bothStores(name: string, fn: (store: string | undefined) => Promise<void>): void {
  Deno.test(`${name} (SQLite)`, () => fn(undefined));
  Deno.test({
    name: `${name} (PostgreSQL)`,
    ignore: pgIgnore,
    async fn() {
      await using pg = await startPostgresServer();
      await fn(await pg.createDatabase());
    },
  });
}
