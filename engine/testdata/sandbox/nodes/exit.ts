/** Tries to end its worker. */
export default function run(_ctx: unknown, input: { how: "exit" | "close" }) {
  if (input.how === "exit") Deno.exit(3);
  (globalThis as unknown as { close(): void }).close();
  return "still here";
}
