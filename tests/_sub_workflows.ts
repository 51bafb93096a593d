/**
 * The sub-workflow tree of tests/testdata/sub-workflows (parent → ../child (mapped) → ../leaf,
 * and parent → ./inner) copied into a temp dir, with secrets: the parent has `parent` and its
 * own `child` service, the child has its own `child`. A child node granted both `parent` and
 * `child` must see only its own `child`, never a value of the parent's.
 *
 * @module
 */

import { join } from "node:path";

const TREE = new URL("./testdata/sub-workflows", import.meta.url).pathname;

/** The parent's secret values: none may reach a child run. */
export const PARENT_SECRETS = ["parent-secret-value-1234", "parent-has-child-too-999"];
/** The child's own `child.token` (23 characters). */
export const CHILD_SECRET = "child-own-secret-abcdef";

/** The parent's result for `{ users }`, with the secrets above (or without any). */
export function expectedResult(users: string[], withSecrets = true): unknown {
  return {
    users: users.map((user) => ({
      user,
      length: user.length,
      services: withSecrets ? ["child"] : [],
      childToken: withSecrets ? `${CHILD_SECRET.length} characters` : "none",
      upper: user.toUpperCase(),
    })),
    tag: { tagged: users.length },
    services: withSecrets ? ["parent"] : [],
  };
}

/** A copy of the tree; `parent` is the top workflow's directory. */
export async function subWorkflowTree(options: { secrets?: boolean } = {}): Promise<{
  root: string;
  parent: string;
  [Symbol.asyncDispose](): Promise<void>;
}> {
  const root = await Deno.makeTempDir({ prefix: "pd-sub-workflows-" });
  await copyDir(TREE, root);
  if (options.secrets !== false) {
    await Deno.writeTextFile(
      join(root, "parent/.secrets.yaml"),
      `parent:\n  token: ${PARENT_SECRETS[0]}\nchild:\n  token: ${PARENT_SECRETS[1]}\n`,
    );
    await Deno.writeTextFile(
      join(root, "child/.secrets.yaml"),
      `child:\n  token: ${CHILD_SECRET}\n`,
    );
  }
  return {
    root,
    parent: join(root, "parent"),
    [Symbol.asyncDispose]: () => Deno.remove(root, { recursive: true }),
  };
}

/** Asserts that no secret value of the tree occurs in `text`. */
export function assertNoSecret(text: string, what: string): void {
  for (const secret of [...PARENT_SECRETS, CHILD_SECRET]) {
    if (text.includes(secret)) throw new Error(`a secret leaked into ${what}`);
  }
}

/** Copies a directory tree. */
export async function copyDir(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    if (entry.isDirectory) await copyDir(join(from, entry.name), join(to, entry.name));
    else await Deno.copyFile(join(from, entry.name), join(to, entry.name));
  }
}
