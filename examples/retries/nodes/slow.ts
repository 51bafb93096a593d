import type { Context } from "pipedreamer";

/** Works for `input.slowMs` (default 1000) unless ctx.signal aborts it first (its timeout). */
export default async function slow(ctx: Context, input: { slowMs?: number } | undefined) {
  const ms = input?.slowMs ?? 1000;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    ctx.signal.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(ctx.signal.reason);
    }, { once: true });
  });
  return { workedMs: ms };
}
