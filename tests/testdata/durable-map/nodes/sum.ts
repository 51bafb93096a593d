import type { Context } from "pipedreamer";

/** The sum and count of the mapped outputs. */
export default function sum(_ctx: Context, outputs: number[]) {
  return { count: outputs.length, sum: outputs.reduce((a, b) => a + b, 0) };
}
