import type { Context } from "pipedreamer";

/** Upper-cases the greeting. */
export default function shout(_ctx: Context, input: { greeting: string; chars: number }) {
  return { text: input.greeting.toUpperCase(), chars: input.chars };
}
