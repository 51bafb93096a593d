import type { Context } from "pipedreamer";

export default function a(_ctx: Context, input: unknown) {
  return input;
}
