/** Kills its own sandbox. */
export default function suicide(): Promise<never> {
  Deno.kill(Deno.pid, "SIGKILL");
  return new Promise(() => {});
}
