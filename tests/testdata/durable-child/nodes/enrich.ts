import type { Context } from "pipedreamer";

/** One user → `{ user, length }`; "boom" fails. */
export default function enrich(_ctx: Context, user: string) {
  if (user === "boom") throw new Error(`cannot enrich "${user}"`);
  return { user, length: user.length };
}
