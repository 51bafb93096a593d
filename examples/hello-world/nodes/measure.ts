import type { Context } from "pipedreamer";

/** The other branch: runs at the same time as shout. */
export default function measure(_ctx: Context, input: { name: string; greeting: string }) {
  return {
    letters: [...input.name].filter((c) => /\p{L}/u.test(c)).length,
    words: input.greeting.split(/\s+/).length,
  };
}
