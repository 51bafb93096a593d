/** Fetches a URL with the global fetch. */
export default async function run(_ctx: unknown, input: { url: string }) {
  const res = await fetch(input.url);
  return await res.text();
}
