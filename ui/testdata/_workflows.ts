/**
 * Workflows for the dashboard's tests, compiled from YAML against in-memory node files through
 * the engine's public API.
 *
 * @module
 */

import { type CompiledWorkflow, compileWorkflow, parseWorkflow } from "../../engine/mod.ts";

const DIR = "/wf";
const NODE = "export default async function run(_ctx, input) { return input; }\n";

/** Compiles `yaml`; every `./nodes/<x>.ts` it names exists. */
export function compileYaml(yaml: string): CompiledWorkflow {
  const paths = [...yaml.matchAll(/\.\/(nodes\/[\w.-]+)/g)].map((m) => m[1]!);
  const sources = new Map(paths.map((p) => [`${DIR}/${p}`, NODE]));
  return compileWorkflow(parseWorkflow(yaml, "workflow.yaml"), { dir: DIR, sources });
}

/** fetch → (a, b) → join, a subprocess node, an onError node, cron + manual triggers. */
export const DIAMOND = compileYaml(`name: diamond
version: "2.1.0"
description: "A diamond <with> markup-looking text"
triggers:
  - type: manual
  - type: cron
    schedule: "0 9 * * *"
    timezone: Europe/Paris
nodes:
  fetch:
    path: ./nodes/fetch.ts
    capabilities: { net: [api.github.com] }
    timeout: 10s
    retries: 2
  a: { path: ./nodes/a.ts, cache: 10m }
  b:
    command: [python3, ./nodes/b.py]
    capabilities: { run: [python3] }
    allowFailure: true
  join: { path: ./nodes/join.ts }
  notify: { path: ./nodes/notify.ts }
edges:
  - { from: fetch, to: a }
  - { from: fetch, to: b }
  - { from: a, to: join }
  - { from: b, to: join }
onError: notify
inputSchema:
  type: object
  required: [repo]
  properties:
    repo: { type: string }
    limit: { type: integer, minimum: 1, default: 5 }
`);

/** One node, no edges. */
export const SINGLE = compileYaml(`name: single
version: "1.0.0"
nodes:
  only: { path: ./nodes/only.ts }
`);
