import type { Context } from "pipedreamer";

interface Input {
  flaky: { succeededOnAttempt: number };
  /** An allowFailure parent that failed hands over `{ error: { message } }`. */
  slow: { workedMs: number } | { error: { message: string } };
}

/** Reports what happened upstream. */
export default function report(_ctx: Context, input: Input) {
  return {
    flakyAttempts: input.flaky.succeededOnAttempt,
    slow: "error" in input.slow ? "failed (allowed)" : `worked ${input.slow.workedMs}ms`,
  };
}
