import type { Context } from "pipedreamer";

/** `{ n, call?, holdFrom? }` → `{ items: [{ i, call, hold }] }` with n elements. */
export default function list(
  _ctx: Context,
  input: { n: number; call?: boolean; holdFrom?: number },
) {
  const holdFrom = input.holdFrom ?? Infinity;
  return {
    items: Array.from({ length: input.n }, (_, i) => ({
      i,
      call: input.call === true,
      hold: i >= holdFrom,
    })),
  };
}
