import { strict as assert } from "node:assert";
import { join } from "node:path";
import { envNames, prepareRuntime, sysNames, workerScripts } from "./_runtime.ts";
import { parseLdd } from "./_bwrap.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const ARM64 = { os: "linux", architecture: "arm64" };
const AMD64 = { os: "linux", architecture: "amd64" };

/** The first bytes of an ELF executable for `machine` (0xb7 aarch64, 0x3e x86-64). */
function elf(machine: number): Uint8Array {
  const header = new Uint8Array(64);
  header.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  header[16] = 2; // ET_EXEC
  header[18] = machine;
  return header;
}

Deno.test("`envNames()` lists the variables code reads by name", () => {
  const code = [
    'Deno.env.get("PATH")',
    "if (node_process.env.LOG_TOKENS) {}",
    "process.env.FORCE_COLOR",
    'process.env["NO_COLOR"]',
    'Deno.env.has( "HOME" )',
    'Deno.env.get("PIPEDREAMER_TOKEN")',
    "process.env[name]",
  ].join("\n");
  assert.deepEqual(envNames(code), ["FORCE_COLOR", "HOME", "LOG_TOKENS", "NO_COLOR", "PATH"]);
});

Deno.test("`sysNames()` lists the sys kinds of the Deno calls in the code", () => {
  const code = "owner = `${Deno.hostname()}:${port}`; if (Deno.uid() === 0) {} Deno.hostname ();";
  assert.deepEqual(sysNames(code), ["hostname", "uid"]);
  assert.deepEqual(sysNames("Deno.readTextFile(x)"), []);
});

Deno.test("`envNames()` is everything when code enumerates the environment", async (t) => {
  for (
    const code of [
      "Object.keys(process.env).filter(f)",
      "const all = Deno.env.toObject();",
      "spawn(x, { env: { ...process.env } })",
      "Object.assign({}, node_process.env)",
    ]
  ) {
    await t.step(code, () => assert.deepEqual(envNames(`process.env.A;\n${code}`), ["*"]));
  }
});

Deno.test("`workerScripts()` finds the node worker the engine loads by URL", async () => {
  assert.deepEqual(await workerScripts(join(ROOT, "main.ts"), ROOT), [
    {
      source: join(ROOT, "server/_conn_guard_worker.ts"),
      imagePath: "app/engine/_conn_guard_worker.ts",
    },
    {
      source: join(ROOT, "engine/runners/_node_worker.ts"),
      imagePath: "app/engine/_node_worker.ts",
    },
    {
      source: join(ROOT, "engine/runners/_sandbox_process_main.ts"),
      imagePath: "app/engine/_sandbox_process_main.ts",
    },
    {
      source: join(ROOT, "engine/runners/node_api.ts"),
      imagePath: "app/runners/node_api.ts",
    },
  ]);
});

Deno.test("`prepareRuntime()` bundles the engine beside this host's deno with explicit permissions", async () => {
  const runtime = await prepareRuntime({ platform: AMD64, run: ["python3"] });
  assert.equal(runtime.kind, "deno");
  const entries = runtime.entries.map((e) => [e.path, e.mode]);
  assert.deepEqual(entries.slice(0, 8), [
    ["app/bin/deno", 0o755],
    ["app/engine/main.js", undefined],
    ["app/engine/_conn_guard_worker.ts", undefined],
    ["app/engine/_node_worker.ts", undefined],
    ["app/engine/_sandbox_process_main.ts", undefined],
    ["app/runners/node_api.ts", undefined],
    // Bubblewrap (installed on this host, as CI installs it), started through its own loader.
    ["app/bin/bwrap", 0o755],
    ["app/lib/bwrap/ld.so", 0o755],
  ]);
  const libraries = entries.slice(8).map(([path]) => path as string);
  assert.ok(libraries.includes("app/lib/bwrap/libc.so.6"), libraries.join(", "));
  assert.ok(libraries.every((path) => /^app\/lib\/bwrap\/lib[^/]+\.so[.\d]*$/.test(path)));
  assert.deepEqual(entries.slice(8).map(([, mode]) => mode), libraries.map(() => undefined));
  assert.match(
    runtime.notes.join("\n"),
    /^bubblewrap for command nodes: \/\S+\/bwrap with .*libc\.so\.6/,
  );
  const flags = runtime.entrypoint;
  assert.equal(flags[0], "/app/bin/deno");
  assert.equal(flags.at(-1), "/app/engine/main.js");
  for (
    const flag of [
      "--no-prompt",
      "--no-lock",
      "--cached-only",
      "--no-remote",
      "--no-npm",
      "--allow-net",
      "--allow-read=/app,/var/run/secrets,/tmp",
      "--allow-write=/tmp",
      // The sandbox processes' deno and bubblewrap's loader, besides the command's program.
      "--allow-run=/app/bin/deno,/app/lib/bwrap/ld.so,python3",
      "--unstable-worker-options",
    ]
  ) {
    assert.ok(flags.includes(flag), `missing ${flag}`);
  }
  assert.ok(!flags.some((f) => f === "--allow-all" || f === "-A" || f === "--allow-read"));
  const main = new TextDecoder().decode(runtime.entries[1]!.data);
  const env = flags.filter((f) => f.startsWith("--allow-env"));
  if (envNames(main).includes("*")) {
    // A dependency enumerates the environment when it loads: nothing narrower can work.
    assert.deepEqual(env, ["--allow-env"]);
  } else {
    // The engine's yaml dependency reads LOG_TOKENS: granted by name, with PIPEDREAMER_*.
    assert.equal(env.length, 1);
    assert.match(env[0]!, /^--allow-env=PIPEDREAMER_\*,.*LOG_TOKENS/);
  }
  assert.match(main, /new URL\("\.\/_node_worker\.ts", import\.meta\.url\)/);
});

Deno.test("`prepareRuntime()` needs a runtime binary of the target platform", async (t) => {
  const dir = await Deno.makeTempDir();
  try {
    const write = async (name: string, data: Uint8Array) => {
      await Deno.writeFile(join(dir, name), data);
      return join(dir, name);
    };
    await t.step("arm64 without --runtime-binary", async () => {
      await assert.rejects(
        prepareRuntime({ platform: ARM64, run: [] }),
        (e) =>
          e instanceof TypeError &&
          /Cannot build for platform "linux\/arm64" on this amd64 host: pass --runtime-binary with a linux\/arm64 pipedreamer \(deno compile --target aarch64-unknown-linux-gnu\)/
            .test(e.message),
      );
    });
    await t.step("an amd64 binary for arm64", async () => {
      await assert.rejects(
        prepareRuntime({
          platform: ARM64,
          runtimeBinary: await write("pipedreamer", elf(0x3e)),
          run: [],
        }),
        /Cannot use runtime binary ".*pipedreamer" for linux\/arm64: it is built for amd64/,
      );
    });
    await t.step("not an executable", async () => {
      await assert.rejects(
        prepareRuntime({
          platform: AMD64,
          runtimeBinary: await write("script", new TextEncoder().encode("#!/bin/sh")),
          run: [],
        }),
        /Cannot use runtime binary ".*script": not an ELF executable/,
      );
    });
    await t.step("a compiled pipedreamer for arm64", async () => {
      const runtime = await prepareRuntime({
        platform: ARM64,
        runtimeBinary: await write("pipedreamer-arm64", elf(0xb7)),
        run: [],
      });
      assert.equal(runtime.kind, "compiled");
      assert.deepEqual(runtime.entrypoint, ["/app/bin/pipedreamer"]);
      assert.deepEqual(runtime.entries.map((e) => [e.path, e.mode, e.data?.length]), [[
        "app/bin/pipedreamer",
        0o755,
        64,
      ]]);
    });
    await t.step("a deno binary for arm64 gets the bundled engine", async () => {
      const runtime = await prepareRuntime({
        platform: ARM64,
        runtimeBinary: await write("deno", elf(0xb7)),
        run: [],
      });
      assert.equal(runtime.kind, "deno");
      assert.deepEqual(runtime.entries.map((e) => e.path), [
        "app/bin/deno",
        "app/engine/main.js",
        "app/engine/_conn_guard_worker.ts",
        "app/engine/_node_worker.ts",
        "app/engine/_sandbox_process_main.ts",
        "app/runners/node_api.ts",
      ]);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("`parseLdd()` lists the linked libraries and the loader, not the vDSO", () => {
  const output = [
    "\tlinux-vdso.so.1 (0x00007ffd1a3e9000)",
    "\tlibselinux.so.1 => /lib/x86_64-linux-gnu/libselinux.so.1 (0x00007f4a29625000)",
    "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f4a29437000)",
    "\t/lib64/ld-linux-x86-64.so.2 (0x00007f4a29679000)",
    "",
  ].join("\n");
  assert.deepEqual(parseLdd(output), {
    libraries: ["/lib/x86_64-linux-gnu/libselinux.so.1", "/lib/x86_64-linux-gnu/libc.so.6"],
    loader: "/lib64/ld-linux-x86-64.so.2",
  });
  assert.deepEqual(parseLdd("\tnot a dynamic executable\n"), { libraries: [], loader: undefined });
});
