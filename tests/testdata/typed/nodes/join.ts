import type { Context } from "pipedreamer";
export default function join(_ctx: Context, input: { count: { n: number }; greet: number }) {
  const x: number = "not a number";
  return { ...input, x };
}
