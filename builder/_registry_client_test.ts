import { strict as assert } from "node:assert";
import { join } from "node:path";
import { digestOf } from "./_digest.ts";
import { parseImageReference } from "./_image_reference.ts";
import { canonicalJson, type Descriptor, MediaType } from "./_oci.ts";
import type { BuildProgress } from "./_progress.ts";
import { RegistryClient, RegistryError } from "./_registry_client.ts";
import {
  assertTools,
  htpasswdAuth,
  ignoreWithout,
  pushHostBaseImage,
  run,
  startRegistry,
  startTokenServer,
} from "./testdata/oci_tools.ts";

const REGISTRY_TOOLS = ["docker-registry", "skopeo"];
const AMD64 = { os: "linux", architecture: "amd64" };
const ARM64 = { os: "linux", architecture: "arm64" };

async function blob(
  data: Uint8Array,
  mediaType: string,
): Promise<{ descriptor: Descriptor; data: Uint8Array }> {
  return { descriptor: { mediaType, digest: await digestOf(data), size: data.length }, data };
}

/** A minimal single-layer image for `platform`, pushed under `reference`. */
async function pushTinyImage(
  client: RegistryClient,
  repo: string,
  reference: string,
  platform: { os: string; architecture: string },
): Promise<Descriptor> {
  const ref = parseImageReference(repo);
  const layer = await blob(crypto.getRandomValues(new Uint8Array(3000)), MediaType.OciLayerGzip);
  const config = await blob(
    canonicalJson({ ...platform, rootfs: { type: "layers", diff_ids: [layer.descriptor.digest] } }),
    MediaType.OciConfig,
  );
  for (const b of [layer, config]) await client.pushBlob(ref, b.descriptor, b.data);
  const manifest = await blob(
    canonicalJson({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: config.descriptor,
      layers: [layer.descriptor],
    }),
    MediaType.OciManifest,
  );
  await client.putManifest(ref, reference, manifest);
  return { ...manifest.descriptor, platform };
}

Deno.test({
  name: "`RegistryClient` pushes blobs monolithic and chunked, with progress, and reads them back",
  ignore: ignoreWithout(REGISTRY_TOOLS, "registry client push"),
  async fn() {
    assertTools(REGISTRY_TOOLS);
    const registry = await startRegistry();
    try {
      const events: BuildProgress[] = [];
      const client = new RegistryClient({
        insecure: true,
        chunkSize: 1024,
        onProgress: (e) => events.push(e),
        credentials: () => Promise.resolve(undefined),
      });
      const ref = parseImageReference(`${registry.host}/unit/blobs:1`);
      const small = await blob(new TextEncoder().encode("small blob"), MediaType.OciLayerGzip);
      const large = await blob(
        crypto.getRandomValues(new Uint8Array(5000)),
        MediaType.OciLayerGzip,
      );

      assert.equal(await client.hasBlob(ref, large.descriptor.digest), false);
      assert.equal(await client.pushBlob(ref, small.descriptor, small.data), "uploaded");
      assert.equal(
        await client.pushBlob(ref, large.descriptor, () => Promise.resolve(large.data)),
        "uploaded",
      );
      assert.equal(await client.hasBlob(ref, large.descriptor.digest), true);
      assert.equal(await client.pushBlob(ref, large.descriptor, large.data), "exists");
      assert.deepEqual(await client.getBlob(ref, large.descriptor), large.data);

      const largeEvents = events.filter((e) =>
        e.kind === "transfer" && e.digest === large.descriptor.digest && e.direction === "push"
      );
      assert.deepEqual(
        largeEvents.map((e) => e.kind === "transfer" ? `${e.state}:${e.bytes}` : ""),
        [
          "started:0",
          "progress:1024",
          "progress:2048",
          "progress:3072",
          "progress:4096",
          "progress:5000",
          "done:5000",
          "exists:5000",
        ],
      );

      // The same blob in another repository of the registry is mounted, not uploaded again.
      const other = parseImageReference(`${registry.host}/unit/other:1`);
      assert.equal(
        await client.pushBlob(other, large.descriptor, large.data, { mountFrom: "unit/blobs" }),
        "mounted",
      );

      // A descriptor that does not match the content is refused.
      await assert.rejects(
        client.getBlob(ref, { ...large.descriptor, size: 4999 }),
        (e) => e instanceof RegistryError && /received 5000 bytes/.test(e.message),
      );
      await assert.rejects(
        client.getBlob(ref, { ...large.descriptor, digest: `sha256:${"0".repeat(64)}` }),
        (e) => e instanceof RegistryError && e.status === 404 && /BLOB_UNKNOWN/.test(e.message),
      );
    } finally {
      await registry.stop();
    }
  },
});

Deno.test({
  name: "`RegistryClient.pullManifest()` picks the platform from an index and names what exists",
  ignore: ignoreWithout(REGISTRY_TOOLS, "registry client index"),
  async fn() {
    assertTools(REGISTRY_TOOLS);
    const registry = await startRegistry();
    try {
      const client = new RegistryClient({
        insecure: true,
        credentials: () => Promise.resolve(undefined),
      });
      const repo = `${registry.host}/unit/multi`;
      const amd = await pushTinyImage(client, repo, "amd64", AMD64);
      const arm = await pushTinyImage(
        client,
        repo,
        "arm64",
        { ...ARM64, variant: "v8" } as typeof ARM64,
      );
      const index = await blob(
        canonicalJson({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests: [amd, arm] }),
        MediaType.OciIndex,
      );
      const ref = parseImageReference(`${repo}:multi`);
      await client.putManifest(ref, "multi", index);
      // skopeo reads back exactly the bytes we pushed.
      const { stdout } = await run("skopeo", [
        "inspect",
        "--raw",
        "--tls-verify=false",
        `docker://${repo}:multi`,
      ]);
      assert.equal(await digestOf(stdout), index.descriptor.digest);

      assert.equal((await client.pullManifest(ref, ARM64)).fetched.digest, arm.digest);
      assert.equal((await client.pullManifest(ref, AMD64)).fetched.digest, amd.digest);
      await assert.rejects(
        client.pullManifest(ref, { os: "linux", architecture: "s390x" }),
        /Cannot pull "unit\/multi" for linux\/s390x: the image has only "linux\/amd64", "linux\/arm64"/,
      );
      await assert.rejects(
        client.pullManifest(parseImageReference(`${repo}:missing`), AMD64),
        (e) => e instanceof RegistryError && e.status === 404 && /MANIFEST_UNKNOWN/.test(e.message),
      );
    } finally {
      await registry.stop();
    }
  },
});

Deno.test({
  name: "`RegistryClient.pullManifest()` reads OCI and Docker schema 2 images pushed by skopeo",
  ignore: ignoreWithout([...REGISTRY_TOOLS, "umoci"], "registry client skopeo images"),
  async fn() {
    assertTools([...REGISTRY_TOOLS, "umoci"]);
    const registry = await startRegistry();
    try {
      await pushHostBaseImage(registry.host, "unit/base", "1");
      const client = new RegistryClient({
        insecure: true,
        credentials: () => Promise.resolve(undefined),
      });
      const oci = await client.pullManifest(
        parseImageReference(`${registry.host}/unit/base:1`),
        AMD64,
      );
      const docker = await client.pullManifest(
        parseImageReference(`${registry.host}/unit/base:1-docker`),
        AMD64,
      );
      assert.equal(oci.fetched.mediaType, MediaType.OciManifest);
      assert.equal(docker.fetched.mediaType, MediaType.DockerManifest);
      assert.equal(docker.manifest.layers[0]?.mediaType, MediaType.DockerLayerGzip);
      // Same layer bytes either way.
      assert.equal(oci.manifest.layers[0]?.digest, docker.manifest.layers[0]?.digest);
    } finally {
      await registry.stop();
    }
  },
});

Deno.test({
  name:
    "`RegistryClient` answers a basic challenge with docker config credentials and hides them in errors",
  ignore: ignoreWithout([...REGISTRY_TOOLS, "python3"], "registry basic auth"),
  async fn() {
    assertTools([...REGISTRY_TOOLS, "python3"]);
    const dir = await Deno.makeTempDir();
    const registry = await startRegistry(await htpasswdAuth(dir, "builder", "s3cret-pass"));
    try {
      const ref = parseImageReference(`${registry.host}/unit/private:1`);
      const data = new TextEncoder().encode("private");
      const b = await blob(data, MediaType.OciLayerGzip);
      const configPath = join(dir, "config.json");
      await Deno.writeTextFile(
        configPath,
        JSON.stringify({ auths: { [registry.host]: { auth: btoa("builder:s3cret-pass") } } }),
      );
      const { readDockerCredentials } = await import("./_docker_config.ts");
      const good = new RegistryClient({
        insecure: true,
        credentials: (r) => readDockerCredentials(r, { configPath }),
      });
      assert.equal(await good.pushBlob(ref, b.descriptor, b.data), "uploaded");
      assert.deepEqual(await good.getBlob(ref, b.descriptor), data);

      const wrong = new RegistryClient({
        insecure: true,
        credentials: () => Promise.resolve({ username: "builder", password: "wrong-pass" }),
      });
      await assert.rejects(wrong.hasBlob(ref, b.descriptor.digest), (e) => {
        assert.ok(e instanceof RegistryError);
        assert.equal(e.status, 401);
        assert.match(e.message, /rejected the credentials/);
        assert.doesNotMatch(e.message, /wrong-pass|s3cret/);
        return true;
      });
      const anonymous = new RegistryClient({
        insecure: true,
        credentials: () => Promise.resolve(undefined),
      });
      await assert.rejects(
        anonymous.hasBlob(ref, b.descriptor.digest),
        /requires a user name and password; run docker login/,
      );
    } finally {
      await registry.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "`RegistryClient` follows the bearer token flow (realm, service, scope) for pull and push",
  ignore: ignoreWithout([...REGISTRY_TOOLS, "openssl"], "registry token auth"),
  async fn() {
    assertTools([...REGISTRY_TOOLS, "openssl"]);
    const tokens = await startTokenServer("builder", "token-pass");
    const registry = await startRegistry(tokens.registryAuth());
    try {
      const ref = parseImageReference(`${registry.host}/unit/tokened:1`);
      const client = new RegistryClient({
        insecure: true,
        credentials: () => Promise.resolve({ username: "builder", password: "token-pass" }),
      });
      const b = await blob(crypto.getRandomValues(new Uint8Array(2048)), MediaType.OciLayerGzip);
      assert.equal(await client.pushBlob(ref, b.descriptor, b.data), "uploaded");
      assert.deepEqual(await client.getBlob(ref, b.descriptor), b.data);
      assert.ok(tokens.received.length >= 1);
      assert.ok(tokens.received.every((h) => h === `Basic ${btoa("builder:token-pass")}`));

      // Anonymous callers get a pull-only token: pushing is refused, precisely.
      const anonymous = new RegistryClient({
        insecure: true,
        credentials: () => Promise.resolve(undefined),
      });
      const fresh = await blob(crypto.getRandomValues(new Uint8Array(10)), MediaType.OciLayerGzip);
      assert.deepEqual(await anonymous.getBlob(ref, b.descriptor), b.data);
      await assert.rejects(
        anonymous.pushBlob(ref, fresh.descriptor, fresh.data),
        (e) =>
          e instanceof RegistryError && e.status === 401 && /anonymous request/.test(e.message),
      );
    } finally {
      await registry.stop();
      await tokens.stop();
    }
  },
});

Deno.test("`RegistryClient` sends credentials to a token realm only over HTTPS (or loopback HTTP when insecure)", async () => {
  const requested: string[] = [];
  const fakeRegistry: typeof fetch = (input) => {
    requested.push(String(input));
    return Promise.resolve(
      new Response(null, {
        status: 401,
        headers: {
          "www-authenticate":
            'Bearer realm="http://auth.example.com/token",service="r",scope="repository:a:pull"',
        },
      }),
    );
  };
  const client = new RegistryClient({
    insecure: true,
    fetch: fakeRegistry,
    credentials: () => Promise.resolve({ username: "u", password: "p" }),
  });
  await assert.rejects(
    client.hasBlob(parseImageReference("127.0.0.1:5000/a:1"), `sha256:${"0".repeat(64)}`),
    (e) =>
      e instanceof TypeError &&
      /token realm "http:\/\/auth.example.com" is not HTTPS/.test(e.message),
  );
  assert.deepEqual(requested, [`http://127.0.0.1:5000/v2/a/blobs/sha256:${"0".repeat(64)}`]);
});

Deno.test("`RegistryClient.baseUrl()` uses plain HTTP only for loopback registries marked insecure", async (t) => {
  const cases: [boolean, string, string][] = [
    [true, "127.0.0.1:5000", "http://127.0.0.1:5000"],
    [true, "localhost:5000", "http://localhost:5000"],
    [true, "[::1]:5000", "http://[::1]:5000"],
    [true, "ghcr.io", "https://ghcr.io"],
    [true, "10.0.0.8:5000", "https://10.0.0.8:5000"],
    [false, "127.0.0.1:5000", "https://127.0.0.1:5000"],
    [false, "docker.io", "https://registry-1.docker.io"],
  ];
  for (const [insecure, registry, expected] of cases) {
    await t.step(`${registry} insecure=${insecure}`, () => {
      assert.equal(new RegistryClient({ insecure }).baseUrl(registry), expected);
    });
  }
});
