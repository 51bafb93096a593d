import type { Context } from "pipedreamer";

/** `{ users: [...] }` → `{ items: [...] }`. */
export default function list(_ctx: Context, input: { users?: string[] }) {
  return { items: input.users ?? [] };
}
