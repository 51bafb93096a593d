/**
 * `natsTest()`: a `Deno.test` with its own throwaway nats-server (skipped loudly without one,
 * failing under CI=true).
 *
 * @module
 */

import { ignoreWithoutNats, startNatsServer } from "../../testing/mod.ts";

const ignore = ignoreWithoutNats();

/** A test with its own nats-server; `fn` gets its URL. */
export function natsTest(name: string, fn: (url: string) => Promise<void>): void {
  Deno.test({
    name,
    ignore,
    async fn() {
      await using server = await startNatsServer();
      await fn(server.url);
    },
  });
}
