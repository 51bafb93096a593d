import { runContainer, writeContainerSpec } from "./oci_tools.ts";
let hits = 0;
const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => { hits++; return new Response("pong"); });
const url = `http://127.0.0.1:${server.addr.port}/probe`;
const input = JSON.stringify({ name: "pod", url, path: "/app/workflow/hacked.txt" });
await writeContainerSpec("/tmp/ctr/bundle", {
  args: ["/app/bin/deno","run","--no-prompt","--no-lock","--no-config","--cached-only","--no-remote","--no-npm","--unstable-worker-options","--allow-net","--allow-read=/app,/var/run/secrets,/tmp","--allow-write=/tmp","--allow-env=PIPEDREAMER_*,CLICOLOR_FORCE,FORCE_COLOR,HOME,LOG_STREAM,LOG_TOKENS,NO_COLOR,PATH","/app/engine/main.js","exec","/app/workflow","-o","json","--input",input],
  binds: [{ source: "/tmp/e2e-bundle", destination: "/app/workflow" }],
});
for (const rt of Deno.args) {
  hits = 0;
  const r = await runContainer(rt as "runc", "/tmp/ctr/bundle");
  console.log(rt, r.code, "hits", hits);
  console.log(r.stdout.slice(0, 3000));
  console.log(r.stderr.slice(0, 3000));
}
await server.shutdown();
