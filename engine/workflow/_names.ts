/**
 * Name rules: workflow names become Kubernetes object names, node ids appear in edges, run
 * records and URLs.
 *
 * @module
 */

/** Longest workflow name: k8s names derived from it (e.g. `<name>-code-<version>`) must fit 63. */
export const MAX_WORKFLOW_NAME = 53;
/** Longest node id. */
export const MAX_NODE_ID = 63;

const WORKFLOW_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const NODE_ID = /^[a-z0-9][a-z0-9_-]*$/;

/** Turns any text into kebab-case: `FetchData` → `fetch-data`, `my_flow` → `my-flow`. */
export function toKebabCase(text: string, maxLength = Infinity): string {
  return text
    .replace(/([a-z0-9])([A-Z])/g, "$1-$2")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .slice(0, maxLength)
    .replace(/^-+|-+$/g, "");
}

/**
 * What is wrong with a workflow name (kebab-case, at most 53 characters), with a fix; undefined
 * when it is valid.
 *
 * @example
 * ```ts
 * checkWorkflowName("My_Flow")?.hint; // "Write name: my-flow"
 * ```
 */
export function checkWorkflowName(name: string): { message: string; hint: string } | undefined {
  if (name.length > MAX_WORKFLOW_NAME) {
    return {
      message:
        `Workflow name "${name}" is ${name.length} characters, the limit is ${MAX_WORKFLOW_NAME}`,
      hint: `Shorten it, e.g. "${toKebabCase(name, MAX_WORKFLOW_NAME)}"`,
    };
  }
  if (WORKFLOW_NAME.test(name)) return undefined;
  const fix = toKebabCase(name, MAX_WORKFLOW_NAME);
  return {
    message: `Invalid workflow name "${name}": use kebab-case (a-z, 0-9 and inner dashes)`,
    hint: fix ? `Write name: ${fix}` : "Write e.g. name: my-workflow",
  };
}

/** What is wrong with a node id, or undefined when it is valid. */
export function checkNodeId(id: string): { message: string; hint: string } | undefined {
  if (id.length > MAX_NODE_ID) {
    return {
      message: `Node id "${id}" is ${id.length} characters, the limit is ${MAX_NODE_ID}`,
      hint: `Shorten it, e.g. "${toKebabCase(id, MAX_NODE_ID)}"`,
    };
  }
  if (NODE_ID.test(id)) return undefined;
  const fix = toKebabCase(id, MAX_NODE_ID);
  return {
    message: `Invalid node id "${id}": use lowercase letters, digits, "-" and "_"`,
    hint: fix ? `Rename it to "${fix}"` : 'Rename it, e.g. "fetch-data"',
  };
}
