import type { Context } from "pipedreamer";

/** The enriched users and their count. */
export default function total(_ctx: Context, users: { user: string; length: number }[]) {
  return { count: users.length, users };
}
