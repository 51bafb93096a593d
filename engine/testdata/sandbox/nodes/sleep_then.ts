import type { Context } from "pipedreamer";

/** Waits `input.ms` (honouring ctx.signal), then returns `input.value`. */
export default async function run(ctx: Context, input: { ms: number; value: unknown }) {
  await new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, input.ms);
    ctx.signal.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(ctx.signal.reason);
    });
  });
  return input.value;
}
