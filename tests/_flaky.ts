/**
 * The tests/testdata/flaky project and the loopback counter its nodes call (retry e2e and
 * browser tests).
 *
 * @module
 */

import { join } from "node:path";

/**
 * The loopback counter the nodes of tests/testdata/flaky call: it counts calls per node and
 * run, and answers 500 with "refusal #<n>" to the nodes listed in `failing`.
 */
export class Counter {
  readonly calls: { node: string; run: string }[] = [];
  readonly failing = new Set<string>();
  readonly #server: Deno.HttpServer<Deno.NetAddr>;

  constructor() {
    this.#server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
      const url = new URL(req.url);
      const node = url.pathname.slice(1);
      this.calls.push({ node, run: url.searchParams.get("run") ?? "" });
      const n = this.count(node);
      if (this.failing.has(node)) return new Response(`refusal #${n}`, { status: 500 });
      return Response.json({ call: n });
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.#server.addr.port}`;
  }

  count(node: string, run?: string): number {
    return this.calls.filter((c) => c.node === node && (run === undefined || c.run === run)).length;
  }

  async [Symbol.asyncDispose]() {
    await this.#server.shutdown();
  }
}

export async function flakyProject(counter: Counter) {
  const root = await Deno.makeTempDir({ prefix: "pipedreamer-retry-" });
  const dir = join(root, "flaky");
  await Deno.mkdir(join(dir, "nodes"), { recursive: true });
  const source = new URL("./testdata/flaky/", import.meta.url);
  for (const file of ["workflow.yaml", "nodes/call.ts"]) {
    await Deno.copyFile(new URL(file, source), join(dir, file));
  }
  const configDir = join(root, "config");
  await Deno.mkdir(configDir);
  await Deno.writeTextFile(join(configDir, "callbackUrl"), counter.url);
  return {
    dir,
    data: join(root, "data"),
    configDir,
    [Symbol.asyncDispose]: () => Deno.remove(root, { recursive: true }),
  };
}
