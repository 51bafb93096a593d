import type { Context } from "pipedreamer";

export default function collect(_ctx: Context, input: unknown) {
  return { input };
}
