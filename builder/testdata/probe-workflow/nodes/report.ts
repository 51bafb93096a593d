import type { Context } from "pipedreamer";

/** Collects what its parents returned (failed parents with allowFailure pass `{ error }`). */
export default async function report(ctx: Context, input: Record<string, unknown>) {
  const scratch = `${ctx.tmpDir}/scratch.txt`;
  await Deno.writeTextFile(scratch, "ok");
  return { ...input, tmpWrite: await Deno.readTextFile(scratch) };
}
