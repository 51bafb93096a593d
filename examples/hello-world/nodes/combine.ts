import type { Context } from "pipedreamer";

/** The fan-in: several parents, so the input is keyed by parent id. */
export interface CombineInput {
  shout: { shouted: string };
  measure: { letters: number; words: number };
}

/** Joins both branches into the run result. */
export default function combine(ctx: Context, input: CombineInput) {
  ctx.log.info("joined branches", { parents: Object.keys(input) });
  return {
    message: input.shout.shouted,
    letters: input.measure.letters,
    words: input.measure.words,
  };
}
