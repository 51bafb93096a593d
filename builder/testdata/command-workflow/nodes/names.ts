import type { Context } from "pipedreamer";

/** Passes the input's names on. */
export default function names(_ctx: Context, input: { names?: string[] }): string[] {
  return input.names ?? ["ada", "grace"];
}
