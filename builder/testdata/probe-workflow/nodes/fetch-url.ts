import type { Context } from "pipedreamer";

/** Fetches `input.url`; allowed only when the node declares the host. */
export default async function fetchUrl(_ctx: Context, input: { url: string }): Promise<string> {
  const response = await fetch(input.url);
  return await response.text();
}
