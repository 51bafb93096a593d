/**
 * The physical limit: the same node functions, imported into the bench's own isolate and
 * awaited directly, in the workflow's order (a chain one after the other, a fan-out's middle
 * nodes all at once). Also the pure compute: the same calls without any `await`.
 *
 * @module
 */

import { join } from "node:path";
import { toFileUrl } from "./_paths.ts";
import type { Project } from "./_projects.ts";
import type { DagSystem } from "./_system.ts";

type NodeFn = (ctx: unknown, input: unknown) => unknown;

async function importFn(path: string): Promise<NodeFn> {
  const module = await import(toFileUrl(path)) as { default: NodeFn };
  return module.default;
}

/** The node functions of a generated project. */
async function functionsOf(project: Project): Promise<{ step: NodeFn; join: NodeFn }> {
  const step = await importFn(join(project.dir, "nodes", "step.ts"));
  const joinFn = project.spec.shape === "fanout"
    ? await importFn(join(project.dir, "nodes", "join.ts"))
    : step;
  return { step, join: joinFn };
}

const CTX = Object.freeze({});

/** The functions awaited directly in one process. */
export async function openPhysical(project: Project): Promise<DagSystem> {
  const { step, join: joinFn } = await functionsOf(project);
  const middle = project.ids.slice(1, -1);
  return {
    async run() {
      if (project.spec.shape === "chain") {
        let value: unknown = undefined;
        for (let i = 0; i < project.ids.length; i++) value = await step(CTX, value);
        return value;
      }
      const root = await step(CTX, undefined);
      const outputs = await Promise.all(middle.map(async () => await step(CTX, root)));
      const input: Record<string, unknown> = {};
      middle.forEach((id, i) => input[id] = outputs[i]);
      return await joinFn(CTX, input);
    },
    close: () => Promise.resolve(),
  };
}

/** The same calls with no `await`: the compute every system must do at least. */
export async function openPureCompute(project: Project): Promise<DagSystem> {
  const { step, join: joinFn } = await functionsOf(project);
  const middle = project.ids.slice(1, -1);
  return {
    run() {
      if (project.spec.shape === "chain") {
        let value: unknown = undefined;
        for (let i = 0; i < project.ids.length; i++) value = step(CTX, value);
        return Promise.resolve(value);
      }
      const root = step(CTX, undefined);
      const input: Record<string, unknown> = {};
      for (const id of middle) input[id] = step(CTX, root);
      return Promise.resolve(joinFn(CTX, input));
    },
    close: () => Promise.resolve(),
  };
}
