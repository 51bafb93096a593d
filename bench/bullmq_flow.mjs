// BullMQ flows on a real Redis, run with Node.js: bullmq@6.7.0 does not install under Deno here
// (Deno resolves every optional native package of msgpackr-extract, and the registry lacks some).
// Usage: node bench/bullmq_flow.mjs '<json spec>'; prints one JSON line with the samples.
//
// Shapes: a chain is a nested flow (each job is the parent of the previous one and reads its
// value with getChildrenValues); a fan-out is a root job, then a flow whose parent "join" has
// one child per parallel node (BullMQ jobs have one parent, so root → children is two steps).

import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const spec = JSON.parse(process.argv[2]);
const require = createRequire(join(spec.depsDir, "package.json"));
const { FlowProducer, Queue, QueueEvents, Worker } = require("bullmq");

const step = (await import(pathToFileURL(join(spec.projectDir, "nodes", "step.mjs")).href))
  .default;
const joinFn = spec.shape === "fanout"
  ? (await import(pathToFileURL(join(spec.projectDir, "nodes", "join.mjs")).href)).default
  : step;

const connection = { host: "127.0.0.1", port: spec.port, maxRetriesPerRequest: null };
const queueName = `bench-${spec.name}-${process.pid}`;
const ctx = {};

const worker = new Worker(queueName, async (job) => {
  if (job.name === "mid") return step(ctx, job.data.input);
  const children = await job.getChildrenValues();
  if (job.name === "join") return joinFn(ctx, children);
  return step(ctx, Object.values(children)[0]);
}, { connection, concurrency: spec.concurrency });
const events = new QueueEvents(queueName, { connection });
const queue = new Queue(queueName, { connection });
const producer = new FlowProducer({ connection });
await Promise.all([worker.waitUntilReady(), events.waitUntilReady(), queue.waitUntilReady()]);

function chainFlow(n) {
  let node = { name: "step", queueName, data: {} };
  for (let i = 1; i < n; i++) node = { name: "step", queueName, data: {}, children: [node] };
  return node;
}

async function runOnce() {
  if (spec.shape === "chain") {
    const flow = await producer.add(chainFlow(spec.size));
    return await flow.job.waitUntilFinished(events);
  }
  const root = await queue.add("mid", { input: undefined });
  const rootOutput = await root.waitUntilFinished(events);
  const children = Array.from(
    { length: spec.size },
    () => ({ name: "mid", queueName, data: { input: rootOutput } }),
  );
  const flow = await producer.add({ name: "join", queueName, data: {}, children });
  return await flow.job.waitUntilFinished(events);
}

function pureOnce() {
  if (spec.shape === "chain") {
    let value;
    for (let i = 0; i < spec.size; i++) value = step(ctx, value);
    return value;
  }
  const root = step(ctx, undefined);
  const input = {};
  for (let i = 0; i < spec.size; i++) input[`n${i}`] = step(ctx, root);
  return joinFn(ctx, input);
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const samples = [];
const pure = [];
let result;
try {
  for (let i = 0; i < spec.warmup + spec.reps; i++) {
    const started = performance.now();
    result = await runOnce();
    const elapsed = performance.now() - started;
    if (i >= spec.warmup) samples.push(elapsed);
  }
  for (let i = 0; i < Math.max(3, spec.reps); i++) {
    const started = performance.now();
    pureOnce();
    pure.push(performance.now() - started);
  }
} finally {
  await worker.close();
  await Promise.all([events.close(), producer.close()]);
  await queue.obliterate({ force: true }).catch(() => {});
  await queue.close();
}
process.stdout.write(JSON.stringify({ samples, pureMs: median(pure), result }) + "\n");
