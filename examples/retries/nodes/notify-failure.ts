import type { Context } from "pipedreamer";

/** What the onError node receives when a run fails. */
export interface RunFailure {
  runId: string;
  failedNode: string;
  error: { message: string };
  input: unknown;
}

/** Runs only when the run fails; a real workflow would page someone or post to chat. */
export default function notifyFailure(ctx: Context, input: RunFailure) {
  const text = `Run ${input.runId} failed in node "${input.failedNode}": ${input.error.message}`;
  ctx.log.error(text);
  return { notified: true, text };
}
