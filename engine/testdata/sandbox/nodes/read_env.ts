/** Reads an environment variable through Deno.env. */
export default function run() {
  return Deno.env.get("HOME") ?? null;
}
