import type { Context } from "pipedreamer";

/** Allocates without end when `input.bomb`, else answers after `input.ms`. */
export default async function run(ctx: Context, input: { bomb?: boolean; ms?: number }) {
  ctx.log.info("started");
  if (input.bomb) {
    await new Promise((resolve) => setTimeout(resolve, input.ms ?? 0));
    const hoard: number[][] = [];
    for (;;) hoard.push(new Array(100_000).fill(1));
  }
  await new Promise((resolve) => setTimeout(resolve, input.ms ?? 0));
  return "ok";
}
