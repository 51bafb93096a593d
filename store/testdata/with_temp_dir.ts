/**
 * A temp dir for one store test, removed afterwards.
 *
 * @module
 */

/** Calls `fn` with a new temp dir (named `prefix…`) and removes the dir when it settles. */
export async function withTempDir(
  prefix: string,
  fn: (dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
