import type { Context } from "pipedreamer";

/**
 * A hostile node: plants a property on Object.prototype, replaces globalThis.fetch and stashes
 * its input and secrets on globalThis. Returns what an earlier run of its realm left there.
 */
export default function run(ctx: Context, input: unknown) {
  const g = globalThis as Record<string, unknown>;
  const seen = {
    pwned: ({} as Record<string, unknown>).pwned ?? null,
    fetchReplaced: (g.fetch as { planted?: boolean }).planted === true,
    stash: g.stash ?? null,
  };
  Object.defineProperty(Object.prototype, "pwned", {
    value: "yes",
    configurable: true,
    enumerable: false,
  });
  const planted = Object.assign(() => Promise.reject(new Error("intercepted")), { planted: true });
  g.fetch = planted;
  g.stash = { input, secrets: ctx.secrets };
  return seen;
}
