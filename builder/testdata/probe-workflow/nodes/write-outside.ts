import type { Context } from "pipedreamer";

/** Writes next to the workflow files: outside the per-run temp dir, so it must fail. */
export default async function writeOutside(
  _ctx: Context,
  input: { path: string },
): Promise<string> {
  await Deno.writeTextFile(input.path, "should not be written");
  return "written";
}
