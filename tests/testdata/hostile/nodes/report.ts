import type { Context } from "pipedreamer";

type Failed = { error: { message: string } };

/** What became of its hostile parents. */
export default function report(
  _ctx: Context,
  input: { bomb: Failed; killer: Failed; suicide: Failed },
) {
  return {
    bomb: input.bomb.error.message,
    killer: input.killer.error.message,
    suicide: input.suicide.error.message,
  };
}
