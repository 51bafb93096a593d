import process from "node:process";
import { parse } from "npm:yaml@2.9.1";

/** Uses an npm package (which probes process.env) and reports the environment it sees. */
export default function run(_ctx: unknown, input: { text: string }) {
  return { parsed: parse(input.text), envKeys: Object.keys(process.env).length };
}
