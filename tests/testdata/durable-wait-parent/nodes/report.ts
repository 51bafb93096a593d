import type { Context } from "pipedreamer";

/** Reports what the child run returned. */
export default function report(_ctx: Context, child: unknown) {
  return { child };
}
