import type { Context } from "pipedreamer";
export default function greet(_ctx: Context, input: { name: string }) {
  return `hello ${input.name}`;
}
