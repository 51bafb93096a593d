// The durable-execution peers' side of the bench, run by Node.js (bench/system_peers.ts):
// `node peers_app.mjs restate|dbos '<json spec>'`. Every step is a durable step of the peer
// (Restate `ctx.run`, DBOS `DBOS.runStep`) running the same function as a Pipedreamer node of the
// bench's projects (bench/_projects.ts): `input + 1` after `fibo(n)` when n > 0.
//
// Handlers (the same for both peers, JSON body, JSON answer `{ "result": <number> }`):
// - three: a 3-step no-op chain (result 3);
// - chain `{ n, fibo }`: n steps in a chain (result n);
// - fanout `{ n }`: a root step, n parallel steps, a join step (result n).
//
// Restate: an SDK endpoint on `spec.port` (HTTP/2), invoked through restate-server's ingress at
// `POST /bench/<handler>`. DBOS: a plain node:http server on `spec.port` at `POST /<handler>`,
// each request running the workflow to its end.
// Prints `READY` on stdout once it accepts requests.

// The Restate SDK 1.17 expects Node.js 22; Node.js 20 lacks Promise.withResolvers.
if (typeof Promise.withResolvers !== "function") {
  Promise.withResolvers = function withResolvers() {
    let resolve, reject;
    const promise = new this((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

import { createRequire } from "node:module";
import { createServer } from "node:http";
import { join } from "node:path";

const [mode, specJson] = process.argv.slice(2);
const spec = JSON.parse(specJson);
const require = createRequire(join(spec.depsDir, "package.json"));

function fibo(n) {
  return n < 2 ? n : fibo(n - 1) + fibo(n - 2);
}

/** One node of the bench's projects: `input + 1` after the work. */
function step(input, work) {
  const f = work > 0 ? fibo(work) : 0;
  return (typeof input === "number" ? input : 0) + (f >= 0 ? 1 : 0);
}

function checkSize(value, name) {
  if (!Number.isInteger(value) || value < 1 || value > 100_000) {
    throw new RangeError(`${name} must be an integer from 1 to 100000`);
  }
}

async function startRestate() {
  const restate = require("@restatedev/restate-sdk");
  const { RestatePromise } = restate;
  const bench = restate.service({
    name: "bench",
    handlers: {
      three: async (ctx) => {
        let value = 0;
        for (let i = 1; i <= 3; i++) value = await ctx.run(`s${i}`, () => step(value, 0));
        return { result: value };
      },
      chain: async (ctx, input) => {
        checkSize(input?.n, "n");
        let value = 0;
        for (let i = 1; i <= input.n; i++) {
          value = await ctx.run(`s${i}`, () => step(value, input.fibo ?? 0));
        }
        return { result: value };
      },
      fanout: async (ctx, input) => {
        checkSize(input?.n, "n");
        const root = await ctx.run("root", () => step(undefined, 0));
        const values = await RestatePromise.all(
          Array.from({ length: input.n }, (_, i) => ctx.run(`s${i + 1}`, () => step(root, 0))),
        );
        const result = await ctx.run("join", () => values.length);
        return { result };
      },
    },
  });
  await restate.serve({ services: [bench], port: spec.port });
}

async function startDbos() {
  const { DBOS } = require("@dbos-inc/dbos-sdk");
  DBOS.setConfig({
    name: "pipedreamer-bench",
    systemDatabaseUrl: spec.databaseUrl,
    systemDatabasePoolSize: spec.poolSize ?? 20,
    logLevel: "error",
  });
  const three = DBOS.registerWorkflow(async () => {
    let value = 0;
    for (let i = 1; i <= 3; i++) {
      const input = value;
      value = await DBOS.runStep(() => Promise.resolve(step(input, 0)), { name: `s${i}` });
    }
    return value;
  }, { name: "three" });
  const chain = DBOS.registerWorkflow(async (n, work) => {
    let value = 0;
    for (let i = 1; i <= n; i++) {
      const input = value;
      value = await DBOS.runStep(() => Promise.resolve(step(input, work)), { name: `s${i}` });
    }
    return value;
  }, { name: "chain" });
  const fanout = DBOS.registerWorkflow(async (n) => {
    const root = await DBOS.runStep(() => Promise.resolve(step(undefined, 0)), { name: "root" });
    const values = await Promise.all(
      Array.from(
        { length: n },
        (_, i) => DBOS.runStep(() => Promise.resolve(step(root, 0)), { name: `s${i + 1}` }),
      ),
    );
    return await DBOS.runStep(() => Promise.resolve(values.length), { name: "join" });
  }, { name: "fanout" });
  await DBOS.launch();
  const routes = {
    "/three": () => three(),
    "/chain": (input) => {
      checkSize(input?.n, "n");
      return chain(input.n, input.fibo ?? 0);
    },
    "/fanout": (input) => {
      checkSize(input?.n, "n");
      return fanout(input.n);
    },
  };
  const server = createServer((request, response) => {
    const chunks = [];
    request.on("data", (chunk) => chunks.push(chunk));
    request.on("end", async () => {
      const route = request.method === "POST" ? routes[request.url] : undefined;
      if (!route) {
        response.writeHead(404).end();
        return;
      }
      try {
        const text = Buffer.concat(chunks).toString() || "{}";
        const result = await route(JSON.parse(text));
        const body = JSON.stringify({ result });
        response.writeHead(200, {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
        }).end(body);
      } catch (error) {
        response.writeHead(500, { "content-type": "text/plain" }).end(
          String(error?.stack ?? error),
        );
      }
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((resolve) => server.listen(spec.port, "127.0.0.1", resolve));
  const stop = async () => {
    server.close();
    await DBOS.shutdown();
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

if (mode === "restate") await startRestate();
else if (mode === "dbos") await startDbos();
else throw new RangeError(`Cannot start peer "${mode}": use restate or dbos`);
process.stdout.write("READY\n");
