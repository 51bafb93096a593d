/** Starts a subprocess from a module node. */
export default async function run() {
  const out = await new Deno.Command("sh", { args: ["-c", "echo hi"] }).output();
  return new TextDecoder().decode(out.stdout);
}
