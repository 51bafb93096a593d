import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfigOverlay } from "./_config_overlay.ts";

async function withDir(files: Record<string, string>, fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "overlay-" });
  try {
    for (const [name, text] of Object.entries(files)) {
      await Deno.mkdir(join(dir, name, ".."), { recursive: true });
      await Deno.writeTextFile(join(dir, name), text);
    }
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("`loadConfigOverlay()` is undefined for a missing directory", async () => {
  assert.equal(await loadConfigOverlay("/nonexistent/app/config"), undefined);
});

Deno.test("`loadConfigOverlay()` merges config.yaml with per-key files, keys winning", async () => {
  await withDir({
    "config.yaml": "timeout: 10s\nchannel: general\nlimits: { a: 1 }\n",
    "channel": "alerts\n",
    "retries": "3\n",
    "endpoints.json": '["https://a.example", "https://b.example"]',
    "flags.yaml": "beta: true\n",
    "nested/ignored": "x",
  }, async (dir) => {
    assert.deepEqual(await loadConfigOverlay(dir), {
      timeout: "10s",
      channel: "alerts",
      limits: { a: 1 },
      retries: 3,
      endpoints: ["https://a.example", "https://b.example"],
      flags: { beta: true },
    });
  });
});

Deno.test("`loadConfigOverlay()` reads a ConfigMap volume's symlinks and skips its ..data entries", async () => {
  await withDir(
    { "..2025_01_01/greeting": "Hello\n", "..2025_01_01/config.json": '{"n":1}' },
    async (dir) => {
      await Deno.symlink("..2025_01_01", join(dir, "..data"));
      await Deno.symlink("..data/greeting", join(dir, "greeting"));
      await Deno.symlink("..data/config.json", join(dir, "config.json"));
      assert.deepEqual(await loadConfigOverlay(dir), { n: 1, greeting: "Hello" });
    },
  );
});

for (
  const [name, files, message] of [
    ["a config.yaml list", { "config.yaml": "- a\n" }, /config\.yaml" must hold a map/],
    ["bad JSON", { "x.json": "{" }, /x\.json" is not valid JSON/],
    ["bad YAML", { "config.yml": "a: [" }, /config\.yml" is not valid YAML/],
  ] as const
) {
  Deno.test(`\`loadConfigOverlay()\` rejects ${name} and names the file`, async () => {
    await withDir(files, async (dir) => {
      await assert.rejects(loadConfigOverlay(dir), (error: Error) => {
        assert.match(error.message, /^Cannot load config overlay: /);
        assert.match(error.message, message);
        return true;
      });
    });
  });
}
