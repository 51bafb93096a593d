import type { Context } from "pipedreamer";

export default function add(_ctx: Context, input: { a: number; b: number }) {
  return { sum: input.a + input.b, inputs: [input.a, input.b] };
}
