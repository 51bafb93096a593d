import type { Context } from "pipedreamer";

/** The run input. */
export interface GreetInput {
  name?: string;
}

/** Root node: receives the run input and builds the greeting both branches use. */
export default function greet(ctx: Context, input: GreetInput | undefined) {
  const name = input?.name ?? "world";
  const greeting = `Hello, ${name}${String(ctx.config.punctuation ?? "!")}`;
  ctx.log.info("greeting built", { name });
  return { name, greeting };
}
