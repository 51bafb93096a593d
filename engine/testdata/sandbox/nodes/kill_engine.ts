import process from "node:process";
import nodeProcess from "node:process";

/** Tries to stop the process that runs it, or its parent, through the API named by `input.via`. */
export default async function run(_ctx: unknown, input: { via: string }) {
  const ppid = Deno.ppid;
  switch (input.via) {
    case "Deno.kill(ppid)":
      Deno.kill(ppid, "SIGKILL");
      break;
    case "process.kill(ppid)":
      process.kill(ppid, "SIGKILL");
      break;
    case "node:process kill(ppid, SIGTERM)":
      nodeProcess.kill(ppid, "SIGTERM");
      break;
    case "process.kill(0)":
      process.kill(0, "SIGKILL");
      break;
    case "process.kill(-1)":
      process.kill(-1, "SIGKILL");
      break;
    case "child_process":
      (await import("node:child_process")).execSync(`kill -9 ${ppid}`);
      break;
    case "Deno.kill(self)":
      Deno.kill(Deno.pid, "SIGKILL");
      break;
    case "process.kill(self, SIGTERM)":
      process.kill(process.pid, "SIGTERM");
      break;
    case "Deno.exit":
      Deno.exit(3);
      break;
  }
  // Signals are delivered asynchronously: wait for one that reached this process.
  await new Promise((resolve) => setTimeout(resolve, 5_000));
  return "survived";
}
