import type { Context } from "pipedreamer";

/** Doubles the order's amount. */
export default function double(_ctx: Context, order: { amount: number }) {
  return { doubled: order.amount * 2 };
}
