/**
 * The files `pipedreamer init` writes: a project that passes `validate`, `test` and
 * `deno check` as soon as it exists, without this repository.
 *
 * @module
 */

import { nodeApiSource } from "../engine/mod.ts";

/**
 * Where a new project keeps its copy of the node API types; deno.json maps "pipedreamer" to it.
 * A visible, committed file (not a hidden cache) so editors and `deno check` find it offline.
 */
export const TYPES_FILE = "types/pipedreamer.ts";

/** The files of a new project, keyed by path relative to the project directory. */
export function scaffoldFiles(name: string): Record<string, string> {
  return {
    "workflow.yaml": workflowYaml(name),
    "nodes/hello.ts": HELLO_TS,
    "tests/fixtures/hello.json": json({
      input: { name: "Ada" },
      expected: { greeting: "Hello, Ada!" },
    }),
    "tests/pipeline/default.json": json({
      input: {},
      expected: { greeting: "Hello, world!" },
    }),
    ".secrets.yaml.example": SECRETS_EXAMPLE,
    ".gitignore": ".secrets.yaml\n.secrets/\n.pipedreamer/\n",
    "deno.json": json({
      imports: { pipedreamer: `./${TYPES_FILE}` },
      compilerOptions: { strict: true },
    }),
    [TYPES_FILE]: nodeApiSource,
    "README.md": readme(name),
  };
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

function workflowYaml(name: string): string {
  return `name: ${name}
version: "1.0.0"
description: "A new Pipedreamer workflow"
triggers:
  - type: manual
nodes:
  hello:
    path: ./nodes/hello.ts
config:
  timeout: 30s
  retries: 1
`;
}

const HELLO_TS = `import type { Context } from "pipedreamer";

/** The run input: \`{ "name": "Ada" }\`. */
export interface HelloInput {
  name?: string;
}

/** Greets \`input.name\` (or the world). */
export default function run(ctx: Context, input: HelloInput | undefined): { greeting: string } {
  const name = input?.name ?? "world";
  ctx.log.info("greeting", { name });
  return { greeting: \`Hello, \${name}!\` };
}
`;

const SECRETS_EXAMPLE = `# Copy to .secrets.yaml (never commit it) and fill in real values.
# Keys are service names: ctx.fetch("github", ...) sends "Authorization: Bearer <github.token>",
# and "X-API-Key: <service.api_key>" when a service has api_key.
#
# github:
#   token: ghp_your_token
`;

function readme(name: string): string {
  return `# ${name}

A Pipedreamer workflow.

\`\`\`sh
pipedreamer validate .                              # check workflow.yaml
pipedreamer test .                                  # run tests/fixtures and tests/pipeline
pipedreamer exec . --input '{"name":"Ada"}'         # run the DAG once
\`\`\`

\`${TYPES_FILE}\` is a copy of the node API types; \`deno.json\` maps \`"pipedreamer"\` to it so
\`deno check nodes/*.ts\` works. Secrets go in \`.secrets.yaml\` (see \`.secrets.yaml.example\`).
`;
}
