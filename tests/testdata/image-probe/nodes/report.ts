import type { Context } from "pipedreamer";

/** Both probes' outcomes, the command node's error message when it was refused. */
export default function report(
  _ctx: Context,
  input: { peek: unknown; escape: { error?: { message: string } } | unknown },
) {
  const escape = input.escape as { error?: { message: string } };
  return { peek: input.peek, escape: escape.error?.message ?? escape };
}
