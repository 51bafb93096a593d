/** Catches a sandbox denial and throws its own error that wraps it. */
export default async function run(_ctx: unknown, input: { url: string }) {
  try {
    await fetch(input.url);
  } catch (error) {
    throw new Error("Could not reach the API", { cause: error });
  }
  return "reached";
}
