import { strict as assert } from "node:assert";
import { join } from "node:path";
import { digestOf } from "./_digest.ts";
import { parseImageReference } from "./_image_reference.ts";
import { canonicalJson, MediaType } from "./_oci.ts";
import type { BuildProgress } from "./_progress.ts";
import { RegistryClient } from "./_registry_client.ts";
import { buildImage } from "./build_image.ts";
import {
  assertTools,
  ignoreWithout,
  pushHostBaseImage,
  run,
  startRegistry,
  type TestRegistry,
} from "./testdata/oci_tools.ts";

const PROBE = new URL("./testdata/probe-workflow", import.meta.url).pathname;
const TOOLS = ["docker-registry", "skopeo", "umoci", "tar"];

/** One registry with the host base image for every test in this file. */
async function withRegistry(
  fn: (registry: TestRegistry, work: string) => Promise<void>,
): Promise<void> {
  assertTools(TOOLS);
  const registry = await startRegistry();
  const work = await Deno.makeTempDir({ prefix: "pipedreamer-build-" });
  try {
    await pushHostBaseImage(registry.host, "test/base", "1");
    await fn(registry, work);
  } finally {
    await registry.stop();
    await Deno.remove(work, { recursive: true });
  }
}

async function skopeo(...args: string[]): Promise<Record<string, unknown>> {
  return JSON.parse((await run("skopeo", ["inspect", ...args])).stdout);
}

Deno.test({
  name:
    "`buildImage()` pushes a reproducible image and writes the same one as an OCI layout and archive",
  ignore: ignoreWithout(TOOLS, "buildImage push"),
  async fn() {
    await withRegistry(async (registry, work) => {
      const events: BuildProgress[] = [];
      const options = {
        base: `${registry.host}/test/base:1`,
        registry: `${registry.host}/team`,
        insecureRegistry: true,
        push: true,
      };
      const first = await buildImage(PROBE, { ...options, onProgress: (e) => events.push(e) });
      const second = await buildImage(PROBE, { ...options, out: join(work, "layout") });
      const archive = await buildImage(PROBE, {
        ...options,
        push: false,
        out: join(work, "image.tar"),
      });
      assert.equal(first.image, `${registry.host}/team/probe-workflow:1.2.3`);
      assert.match(first.digest, /^sha256:[0-9a-f]{64}$/);
      assert.equal(second.digest, first.digest);
      assert.equal(archive.digest, first.digest);
      assert.deepEqual(second.layers, first.layers);
      assert.deepEqual(first.layers.map((l) => l.role), ["base", "runtime"]);
      assert.deepEqual(first.bundle, {
        inConfigMap: true,
        inImage: false,
        bytes: first.bundle.bytes,
        codeHash: first.bundle.codeHash,
        files: [
          "fetch-allowed.js",
          "greet.js",
          "manifest.json",
          "report.js",
          "workflow.yaml",
          "write-outside.js",
        ],
      });

      const remote = await skopeo("--tls-verify=false", `docker://${first.image}`);
      const layout = await skopeo(`oci:${join(work, "layout")}:1.2.3`);
      const tarred = await skopeo(`oci-archive:${join(work, "image.tar")}`);
      assert.deepEqual([remote.Digest, layout.Digest, tarred.Digest], [
        first.digest,
        first.digest,
        first.digest,
      ]);
      assert.deepEqual(remote.Layers, first.layers.map((l) => l.digest));

      const config = await skopeo("--config", "--tls-verify=false", `docker://${first.image}`) as {
        created: string;
        architecture: string;
        config: {
          User: string;
          Entrypoint: string[];
          Cmd: string[];
          WorkingDir: string;
          Env: string[];
          Labels: Record<string, string>;
        };
      };
      assert.equal(config.created, "1970-01-01T00:00:00Z");
      assert.equal(config.architecture, "amd64");
      assert.equal(config.config.User, "65532:65532");
      assert.deepEqual(config.config.Cmd, ["serve", "/app/workflow"]);
      assert.equal(config.config.Entrypoint[0], "/app/bin/deno");
      assert.equal(config.config.Entrypoint.at(-1), "/app/engine/main.js");
      assert.equal(config.config.WorkingDir, "/tmp");
      assert.ok(
        config.config.Env.every((e) => !/TOKEN|SECRET|PASSWORD/i.test(e)),
        config.config.Env.join(),
      );
      assert.deepEqual(
        Object.fromEntries(
          Object.entries(config.config.Labels).filter(([k]) => !k.startsWith("test.")),
        ),
        {
          "io.pipedreamer.bundle": "configmap",
          "io.pipedreamer.runtime": "deno",
          "io.pipedreamer.version": config.config.Labels["io.pipedreamer.version"],
          "io.pipedreamer.workflow.code-hash": first.bundle.codeHash,
          "io.pipedreamer.workflow.name": "probe-workflow",
          "io.pipedreamer.workflow.version": "1.2.3",
          "org.opencontainers.image.base.name": `${registry.host}/test/base:1`,
          "org.opencontainers.image.created": "1970-01-01T00:00:00Z",
          "org.opencontainers.image.description": "Container sandbox probes",
          "org.opencontainers.image.title": "probe-workflow",
          "org.opencontainers.image.version": "1.2.3",
        },
      );
      // The base's own labels are kept.
      assert.equal(config.config.Labels["test.base"], "host-libs");

      // The runtime layer: root-owned, read-only for the engine's user, fixed mtime.
      const runtimeLayer = first.layers.find((l) => l.role === "runtime")!;
      const { stdout } = await run("tar", [
        "-tzv",
        "--numeric-owner",
        "--full-time",
        "--utc",
        "-f",
        join(work, "layout/blobs/sha256", runtimeLayer.digest.slice(7)),
      ]);
      const listing = stdout.trim().split("\n").map((l) => l.split(/\s+/));
      const names = listing.map((l) => l.at(-1)!);
      // Bubblewrap's libraries are this host's (ldd): libc among them.
      const libraries = names.filter((n) => /^app\/lib\/bwrap\/lib/.test(n));
      assert.ok(libraries.includes("app/lib/bwrap/libc.so.6"), libraries.join(", "));
      assert.deepEqual(names.filter((n) => !libraries.includes(n)), [
        "app/",
        "app/bin/",
        "app/bin/bwrap",
        "app/bin/deno",
        "app/engine/",
        "app/engine/_conn_guard_worker.ts",
        "app/engine/_node_worker.ts",
        "app/engine/_sandbox_process_main.ts",
        "app/engine/main.js",
        "app/lib/",
        "app/lib/bwrap/",
        "app/lib/bwrap/ld.so",
        "app/runners/",
        "app/runners/node_api.ts",
        "tmp/",
      ]);
      assert.ok(listing.every((l) => l[1] === "0/0" && l[3] === "1970-01-01"));
      const mode = (name: string) => listing[names.indexOf(name)]![0];
      for (const executable of ["app/bin/deno", "app/bin/bwrap", "app/lib/bwrap/ld.so"]) {
        assert.equal(mode(executable), "-rwxr-xr-x", executable);
      }
      assert.equal(mode("app/lib/bwrap/libc.so.6"), "-rw-r--r--");
      assert.ok(
        config.config.Entrypoint.includes("--allow-run=/app/bin/deno,/app/lib/bwrap/ld.so"),
        config.config.Entrypoint.join(" "),
      );
      assert.equal(listing.at(-1)![0], "drwxrwxrwt");

      // Progress: steps, then the pushes of the runtime layer and config.
      const steps = events.filter((e) => e.kind === "step").map((e) =>
        e.kind === "step" ? e.message : ""
      );
      assert.ok(steps.some((s) => /goes into the code ConfigMap/.test(s)), steps.join("\n"));
      assert.ok(
        events.some((e) =>
          e.kind === "transfer" && e.digest === runtimeLayer.digest && e.state === "done"
        ),
      );
      assert.ok(events.some((e) => e.kind === "transfer" && e.state === "mounted"));
    });
  },
});

Deno.test({
  name:
    "`buildImage()` changes the digest with SOURCE_DATE_EPOCH and bakes the bundle in on request",
  ignore: ignoreWithout(TOOLS, "buildImage epoch and bundle"),
  async fn() {
    await withRegistry(async (registry, work) => {
      const base = { base: `${registry.host}/test/base:1`, insecureRegistry: true };
      const zero = await buildImage(PROBE, { ...base, out: join(work, "zero") });
      const dated = await buildImage(PROBE, {
        ...base,
        out: join(work, "dated"),
        sourceDateEpoch: 1_700_000_000,
      });
      assert.notEqual(dated.digest, zero.digest);
      const config = await skopeo("--config", `oci:${join(work, "dated")}:1.2.3`) as {
        created: string;
      };
      assert.equal(config.created, "2023-11-14T22:13:20Z");

      const baked = await buildImage(PROBE, {
        ...base,
        out: join(work, "baked"),
        bundle: "image",
        tag: "probe:baked",
      });
      assert.deepEqual(baked.layers.map((l) => l.role), ["base", "runtime", "workflow"]);
      assert.deepEqual([baked.bundle.inImage, baked.bundle.inConfigMap], [true, false]);
      const workflowLayer = baked.layers.at(-1)!;
      const { stdout } = await run("tar", [
        "-tzf",
        join(work, "baked/blobs/sha256", workflowLayer.digest.slice(7)),
      ]);
      assert.deepEqual(stdout.trim().split("\n"), [
        "app/",
        "app/workflow/",
        ...baked.bundle.files.map((f) => `app/workflow/${f}`),
      ]);
      const labels = ((await skopeo("--config", `oci:${join(work, "baked")}:baked`)) as {
        config: { Labels: Record<string, string> };
      }).config.Labels;
      assert.equal(labels["io.pipedreamer.bundle"], "image");
    });
  },
});

Deno.test({
  name: "`buildImage()` bakes a bundle over 900 KiB into the image and says so",
  ignore: ignoreWithout(TOOLS, "buildImage large bundle"),
  async fn() {
    await withRegistry(async (registry, work) => {
      const dir = join(work, "big");
      await Deno.mkdir(join(dir, "nodes"), { recursive: true });
      await Deno.writeTextFile(
        join(dir, "workflow.yaml"),
        "name: big\nversion: 1.0.0\nnodes:\n  blob: { path: ./nodes/blob.ts }\n",
      );
      // Random text does not compress away: the bundle really is over the limit.
      const chunks = Array.from(
        { length: 12 },
        () => crypto.getRandomValues(new Uint8Array(60 * 1024)),
      );
      const random = chunks.map((c) =>
        Array.from(c, (b) => b.toString(16).padStart(2, "0")).join("")
      ).join("");
      await Deno.writeTextFile(
        join(dir, "nodes/blob.ts"),
        `export default () => ${JSON.stringify(random)}.length;\n`,
      );
      const steps: string[] = [];
      const options = {
        base: `${registry.host}/test/base:1`,
        insecureRegistry: true,
        out: join(work, "big.oci"),
      };
      const result = await buildImage(dir, {
        ...options,
        onProgress: (e) => e.kind === "step" && steps.push(e.message),
      });
      assert.equal(result.bundle.inImage, true);
      assert.ok(result.bundle.bytes > 900 * 1024);
      assert.deepEqual(result.layers.map((l) => l.role), ["base", "runtime", "workflow"]);
      assert.ok(
        steps.some((s) =>
          /too large for a ConfigMap \(over 900 KiB\), baked into the image/.test(s)
        ),
        steps.join("\n"),
      );
      await assert.rejects(
        buildImage(dir, { ...options, bundle: "configmap" }),
        (e) =>
          e instanceof TypeError &&
          /Cannot put the workflow bundle in a ConfigMap: it has \d+ bytes, more than 900 KiB/.test(
            e.message,
          ),
      );
    });
  },
});

Deno.test({
  name:
    "`buildImage()` for linux/arm64 picks the arm64 base from an index and uses the given runtime binary",
  ignore: ignoreWithout(TOOLS, "buildImage arm64"),
  async fn() {
    await withRegistry(async (registry, work) => {
      // A multi-platform base: the host image for amd64 plus a tiny arm64 image.
      const client = new RegistryClient({
        insecure: true,
        credentials: () => Promise.resolve(undefined),
      });
      const repo = parseImageReference(`${registry.host}/test/base:multi`);
      const amd = await client.getManifest(repo, "1");
      const layer = new TextEncoder().encode("arm64 layer");
      const layerDigest = await digestOf(layer);
      const config = canonicalJson({
        architecture: "arm64",
        os: "linux",
        rootfs: { type: "layers", diff_ids: [layerDigest] },
      });
      const armConfig = {
        mediaType: MediaType.OciConfig,
        digest: await digestOf(config),
        size: config.length,
      };
      const armLayer = { mediaType: MediaType.OciLayer, digest: layerDigest, size: layer.length };
      await client.pushBlob(repo, armLayer, layer);
      await client.pushBlob(repo, armConfig, config);
      const armManifest = canonicalJson({
        schemaVersion: 2,
        mediaType: MediaType.OciManifest,
        config: armConfig,
        layers: [armLayer],
      });
      const armDescriptor = {
        mediaType: MediaType.OciManifest,
        digest: await digestOf(armManifest),
        size: armManifest.length,
      };
      await client.putManifest(repo, "arm64", { descriptor: armDescriptor, data: armManifest });
      const index = canonicalJson({
        schemaVersion: 2,
        mediaType: MediaType.OciIndex,
        manifests: [
          {
            mediaType: amd.mediaType,
            digest: amd.digest,
            size: amd.data.length,
            platform: { os: "linux", architecture: "amd64" },
          },
          { ...armDescriptor, platform: { os: "linux", architecture: "arm64", variant: "v8" } },
        ],
      });
      await client.putManifest(repo, "multi", {
        descriptor: {
          mediaType: MediaType.OciIndex,
          digest: await digestOf(index),
          size: index.length,
        },
        data: index,
      });

      const binary = join(work, "pipedreamer");
      const elf = new Uint8Array(64);
      elf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
      elf[18] = 0xb7;
      await Deno.writeFile(binary, elf);
      const options = {
        base: `${registry.host}/test/base:multi`,
        insecureRegistry: true,
        platform: "linux/arm64",
        out: join(work, "arm"),
      };
      await assert.rejects(
        buildImage(PROBE, options),
        /Cannot build for platform "linux\/arm64" on this amd64 host: pass --runtime-binary/,
      );
      const result = await buildImage(PROBE, { ...options, runtimeBinary: binary });
      assert.equal(result.platform, "linux/arm64");
      assert.equal(result.runtime, "compiled");
      assert.deepEqual(result.layers[0]?.digest, layerDigest);
      const inspected = await skopeo("--config", `oci:${join(work, "arm")}:1.2.3`) as {
        architecture: string;
        config: { Entrypoint: string[] };
      };
      assert.equal(inspected.architecture, "arm64");
      assert.deepEqual(inspected.config.Entrypoint, ["/app/bin/pipedreamer"]);
    });
  },
});

Deno.test({
  name: "`buildImage()` converts a Docker schema 2 base into an OCI manifest",
  ignore: ignoreWithout(TOOLS, "buildImage docker base"),
  async fn() {
    await withRegistry(async (registry, work) => {
      const result = await buildImage(PROBE, {
        base: `${registry.host}/test/base:1-docker`,
        insecureRegistry: true,
        out: join(work, "d"),
      });
      const raw = JSON.parse(
        (await run("skopeo", ["inspect", "--raw", `oci:${join(work, "d")}:1.2.3`])).stdout,
      );
      assert.equal(raw.mediaType, MediaType.OciManifest);
      assert.equal(raw.config.mediaType, MediaType.OciConfig);
      assert.ok(
        raw.layers.every((l: { mediaType: string }) => l.mediaType === MediaType.OciLayerGzip),
      );
      assert.equal(
        raw.annotations["org.opencontainers.image.base.name"],
        `${registry.host}/test/base:1-docker`,
      );
      assert.equal(await digestOf(canonicalJson(raw)), result.digest);
    });
  },
});

Deno.test("`buildImage()` rejects option combinations that cannot work", async (t) => {
  const cases: [string, Parameters<typeof buildImage>[1], RegExp][] = [
    ["no destination", {}, /pass push: true \(--push\) or out/],
    [
      "push without a registry",
      { push: true },
      /Cannot push "the image": no registry given; pass -r <registry>/,
    ],
    ["push with a registry-less tag", { push: true, tag: "team/app" }, /no registry given/],
    [
      "a bad platform",
      { out: "x.tar", platform: "windows/amd64" },
      /Cannot build for platform "windows\/amd64": use one of "linux\/amd64", "linux\/arm64"/,
    ],
    [
      "insecure non-loopback push",
      { push: true, registry: "ghcr.io/acme", insecureRegistry: true },
      /Cannot push to "ghcr.io" over plain HTTP/,
    ],
    [
      "an http:// registry",
      { out: "x.tar", registry: "http://127.0.0.1:5000" },
      /give it without a scheme and pass --insecure-registry/,
    ],
  ];
  for (const [name, options, message] of cases) {
    await t.step(name, async () => {
      await assert.rejects(
        buildImage(PROBE, options),
        (e) => (e instanceof TypeError || e instanceof RangeError) && message.test(e.message),
      );
    });
  }
});
