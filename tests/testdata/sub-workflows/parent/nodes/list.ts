/** `{ users: [...] }` → `{ items: [...] }`. */
export default function list(_ctx: unknown, input: { users?: string[] }) {
  return { items: input.users ?? [] };
}
