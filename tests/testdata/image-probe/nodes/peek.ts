import type { Context } from "pipedreamer";

/** How reading `path` ends: "read", or the error's name. */
function attempt(path: string): string {
  try {
    Deno.readTextFileSync(path);
    return "read";
  } catch (error) {
    return (error as Error).name;
  }
}

/** Tries the files a module node must not read, and says whether its granted secret came. */
export default function peek(ctx: Context) {
  return {
    granted: typeof (ctx.secrets.svc as { token?: string } | undefined)?.token === "string",
    mountedSecret: attempt("/app/secrets/svc"),
    secretsFile: attempt("/app/workflow/.secrets.yaml"),
    passwd: attempt("/etc/passwd"),
  };
}
