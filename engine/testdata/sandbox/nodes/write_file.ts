/** Writes `text` to `path` and reads it back. */
export default async function run(_ctx: unknown, input: { path: string; text: string }) {
  await Deno.writeTextFile(input.path, input.text);
  return await Deno.readTextFile(input.path);
}
