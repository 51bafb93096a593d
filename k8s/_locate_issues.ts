/**
 * Points `deployment:` issues at their source: the manifest generator works on the compiled
 * workflow (no positions), and names each issue by its path (`deployment.autoscale.max: …`,
 * `triggers[0]: …`); this finds that path in workflow.yaml, or its nearest existing ancestor.
 *
 * @module
 */

import {
  type LocatedNode,
  parseWorkflow,
  type SourcePosition,
  WorkflowSyntaxError,
} from "../engine/mod.ts";

const PATH = /^([A-Za-z_][\w-]*(?:\.[\w-]+|\[\d+\])*)(?=:)/;

/**
 * `error` with the position of every unlocated issue (line 0) of workflow.yaml resolved in
 * `text`, its file shown as `shown`; other errors unchanged.
 */
export function locateIssues(error: unknown, text: string, shown: string): unknown {
  if (!(error instanceof WorkflowSyntaxError)) return error;
  const issues = error.issues;
  if (!issues.some((i) => i.line === 0 && i.file === "workflow.yaml")) return error;
  let root: LocatedNode | null;
  try {
    root = parseWorkflow(text, shown).root;
  } catch {
    return error;
  }
  return new WorkflowSyntaxError(
    issues.map((issue) => {
      if (issue.line !== 0 || issue.file !== "workflow.yaml") return issue;
      const path = PATH.exec(issue.message)?.[1];
      const pos = root && path ? positionOf(root, path) : undefined;
      return pos ? { ...issue, file: shown, ...pos } : { ...issue, file: shown };
    }),
    { cause: error },
  );
}

/** The position of `a.b[0].c` in the tree: the deepest part of it that exists. */
function positionOf(root: LocatedNode, path: string): SourcePosition | undefined {
  const parts = path.match(/[^.[\]]+|\[\d+\]/g) ?? [];
  let node: LocatedNode = root;
  let pos: SourcePosition | undefined;
  for (const part of parts) {
    const index = /^\[(\d+)\]$/.exec(part);
    if (index && node.kind === "seq") {
      const item: LocatedNode | undefined = node.items[Number(index[1])];
      if (!item) break;
      node = item;
      pos = item.pos;
    } else if (!index && node.kind === "map") {
      const entry = node.entries.find((e) => e.key === part);
      if (!entry) break;
      node = entry.value;
      pos = entry.keyPos;
    } else break;
  }
  return pos;
}
