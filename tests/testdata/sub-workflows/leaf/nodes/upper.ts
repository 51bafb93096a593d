/** `{ user, … }` → the same with `upper`. */
export default function upper(_ctx: unknown, input: { user: string }) {
  return { ...input, upper: input.user.toUpperCase() };
}
