import { strict as assert } from "node:assert";
import { join } from "node:path";
import { writeDockerfile } from "./write_dockerfile.ts";
import { prepareBuild } from "./_prepare_build.ts";

const PROBE = new URL("./testdata/probe-workflow", import.meta.url).pathname;

/** The instructions of a Dockerfile, comments dropped. */
function instructions(text: string): string[] {
  return text.split("\n").filter((l) => l && !l.startsWith("#"));
}

Deno.test("`writeDockerfile()` writes the image `buildImage()` assembles, with its context", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "Dockerfile");
    const result = await writeDockerfile(PROBE, path, { base: "registry.example/base:1" });
    assert.equal(result.command, `docker build -t probe-workflow:1.2.3 -f ${path} ${dir}`);
    const { plan } = await prepareBuild(PROBE, { base: "registry.example/base:1" });
    const lines = instructions(await Deno.readTextFile(path));
    assert.deepEqual(lines.slice(0, 2), [
      "FROM --platform=linux/amd64 registry.example/base:1",
      "COPY --chown=0:0 .pipedreamer-image/app/ /app/",
    ]);
    assert.deepEqual(lines.slice(-4), [
      "USER 65532:65532",
      "WORKDIR /tmp",
      `ENTRYPOINT ${JSON.stringify(plan.entrypoint)}`,
      'CMD ["serve","/app/workflow"]',
    ]);
    const labels = Object.fromEntries(
      lines.filter((l) => l.startsWith("LABEL ")).map((l) => {
        const [k, v] = l.slice(6).split(/=(?=")/);
        return [JSON.parse(k!), JSON.parse(v!)];
      }),
    );
    assert.deepEqual(labels, plan.labels);
    assert.deepEqual(
      lines.filter((l) => l.startsWith("ENV ")),
      ['ENV DENO_DIR="/tmp/.deno"', 'ENV DENO_NO_UPDATE_CHECK="1"', 'ENV NO_COLOR="1"'],
    );

    // The context holds the runtime files with their modes; the bundle goes to the ConfigMap.
    const context = join(dir, ".pipedreamer-image/app");
    assert.equal((await Deno.stat(join(context, "bin/deno"))).mode! & 0o777, 0o755);
    assert.deepEqual(
      await Deno.readFile(join(context, "bin/deno")),
      await Deno.readFile(await Deno.realPath(Deno.execPath())),
    );
    assert.ok((await Deno.stat(join(context, "engine/main.js"))).isFile);
    assert.ok((await Deno.stat(join(context, "engine/_node_worker.ts"))).isFile);
    await assert.rejects(Deno.stat(join(context, "workflow")), Deno.errors.NotFound);

    // With the bundle in the image, the context carries it too.
    await writeDockerfile(PROBE, path, { bundle: "image" });
    assert.ok((await Deno.stat(join(context, "workflow/workflow.yaml"))).isFile);
    assert.ok((await Deno.stat(join(context, "workflow/manifest.json"))).isFile);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
