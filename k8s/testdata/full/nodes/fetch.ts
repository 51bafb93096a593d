import type { Context } from "pipedreamer";

export default function fetch(_ctx: Context, input: unknown) {
  return input;
}
