import type { Context } from "pipedreamer";

interface Handled {
  queue: string;
  priority: string;
  summary: string;
}

/**
 * The join: runs when at least one parent ran, and receives only the parents that ran, keyed
 * by id (a node declared with several parents always gets an object).
 */
export default function reply(ctx: Context, input: Record<string, Handled>) {
  const [handler, handled] = Object.entries(input)[0] ?? [];
  if (!handler || !handled) throw new Error("Cannot reply: no handler ran");
  ctx.log.info("replying", { handler });
  return {
    handler,
    queue: handled.queue,
    priority: handled.priority,
    message: `Thanks! Your ticket is with ${handled.queue} (priority ${handled.priority}).`,
  };
}
