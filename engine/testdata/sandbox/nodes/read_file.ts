/** Reads a file, relative paths from this module's directory. */
export default async function run(_ctx: unknown, input: { path: string }) {
  return await Deno.readTextFile(new URL(input.path, import.meta.url));
}
