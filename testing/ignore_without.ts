/**
 * The one rule for tests that need a system tool (nats-server, PostgreSQL, OCI tools, chromium):
 * outside CI a missing tool skips them loudly; under CI=true they run and fail.
 *
 * @module
 */

/**
 * The `ignore` value for a `Deno.test` that needs a system tool: true, after printing
 * "SKIPPED: <skipped>", when `missing` and not under CI=true; false otherwise (the test then
 * fails on the missing tool).
 *
 * @example
 * ```ts
 * import { ignoreWhenMissing } from "./ignore_without.ts";
 * Deno.test({
 *   name: "needs a tool",
 *   ignore: ignoreWhenMissing(true, "needs a tool (apt-get install tool)"),
 *   fn() {},
 * });
 * ```
 */
export function ignoreWhenMissing(missing: boolean, skipped: string): boolean {
  if (!missing || Deno.env.get("CI") === "true") return false;
  console.warn(`SKIPPED: ${skipped}; with CI=true it fails instead`);
  return true;
}
