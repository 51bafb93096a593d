import type { Context } from "pipedreamer";

/** A support ticket. */
export interface Ticket {
  text: string;
  customer?: string;
}

const RULES: [RegExp, string][] = [
  [/\b(crash\w*|errors?|broken|fail\w*|bugs?)\b/i, "handle-bug"],
  [/\b(please add|feature|would be nice|support for)\b/i, "handle-feature"],
];

/** Chooses exactly one branch with ctx.route(); the other children are skipped. */
export default function classify(ctx: Context, input: Ticket) {
  const branch = RULES.find(([pattern]) => pattern.test(input.text))?.[1] ?? "handle-question";
  ctx.log.info("ticket classified", { branch });
  ctx.route(branch);
  return { ...input, kind: branch.replace("handle-", "") };
}
