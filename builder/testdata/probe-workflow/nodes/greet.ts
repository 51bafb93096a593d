import type { Context } from "pipedreamer";
import { parse, stringify } from "yaml";

/** Uses an npm package, which the build inlines: nothing is fetched at runtime. */
export default function greet(
  _ctx: Context,
  input: { name?: string },
): { yaml: string; parsed: unknown } {
  const yaml = stringify({ hello: input.name ?? "world" });
  return { yaml, parsed: parse(yaml) };
}
