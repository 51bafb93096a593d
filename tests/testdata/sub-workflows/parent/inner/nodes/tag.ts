/** `{ items }` → `{ tagged: <count> }`. */
export default function tag(_ctx: unknown, input: { items: string[] }) {
  return { tagged: input.items.length };
}
