import { strict as assert } from "node:assert";
import { join } from "node:path";
import { readDockerCredentials } from "./_docker_config.ts";

async function withConfig(config: unknown, fn: (path: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "config.json");
    await Deno.writeTextFile(path, typeof config === "string" ? config : JSON.stringify(config));
    await fn(path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("`readDockerCredentials()` finds auths by host, URL key and Docker Hub aliases", async () => {
  await withConfig({
    auths: {
      "ghcr.io": { auth: btoa("octo:tok:with:colons") },
      "https://registry.example.com/v2/": { username: "u", password: "p" },
      "https://index.docker.io/v1/": { auth: btoa("hub:pw") },
      "127.0.0.1:5000": { identitytoken: "refresh-me" },
    },
  }, async (configPath) => {
    assert.deepEqual(await readDockerCredentials("ghcr.io", { configPath }), {
      username: "octo",
      password: "tok:with:colons",
    });
    assert.deepEqual(await readDockerCredentials("registry.example.com", { configPath }), {
      username: "u",
      password: "p",
    });
    assert.deepEqual(await readDockerCredentials("docker.io", { configPath }), {
      username: "hub",
      password: "pw",
    });
    assert.deepEqual(await readDockerCredentials("127.0.0.1:5000", { configPath }), {
      identityToken: "refresh-me",
    });
    assert.equal(await readDockerCredentials("quay.io", { configPath }), undefined);
  });
});

Deno.test("`readDockerCredentials()` is undefined without a config file", async () => {
  assert.equal(
    await readDockerCredentials("ghcr.io", { configPath: "/nonexistent/config.json" }),
    undefined,
  );
});

Deno.test("`readDockerCredentials()` rejects broken files without echoing secrets", async () => {
  await withConfig("{ not json", async (configPath) => {
    await assert.rejects(readDockerCredentials("ghcr.io", { configPath }), /invalid JSON/);
  });
  await withConfig(
    { auths: { "ghcr.io": { auth: btoa("no-colon-secret") } } },
    async (configPath) => {
      await assert.rejects(readDockerCredentials("ghcr.io", { configPath }), (e) => {
        assert.ok(e instanceof TypeError);
        assert.match(e.message, /must encode "user:password"/);
        assert.doesNotMatch(e.message, /no-colon-secret/);
        return true;
      });
    },
  );
});
