import type { Context } from "pipedreamer";

/** Lists secrets although its rules grant only pods: denied, naming the rule to add. */
export default async function readSecrets(ctx: Context) {
  return await ctx.k8s!.list("/api/v1/secrets");
}
