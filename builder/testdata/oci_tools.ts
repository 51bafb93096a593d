/**
 * Test support for the builder: the real OCI tools (docker-registry, skopeo, umoci, runc,
 * runsc), started on loopback and stopped by the tests. A test that needs a missing tool is
 * skipped loudly, or fails under CI=true.
 *
 * @module
 */

import { delimiter, join } from "node:path";
import { ignoreWhenMissing } from "../../testing/mod.ts";

/** Debian packages providing each tool. */
export const TOOL_PACKAGES: Record<string, string> = {
  "docker-registry": "docker-registry",
  skopeo: "skopeo",
  umoci: "umoci",
  runc: "runc",
  runsc: "runsc",
  tar: "tar",
  python3: "python3",
  openssl: "openssl",
};

/** The absolute path of `name` on PATH (sbin included), or undefined. */
export function findTool(name: string): string | undefined {
  const dirs = [
    ...(Deno.env.get("PATH") ?? "").split(delimiter),
    "/usr/sbin",
    "/sbin",
    "/usr/local/sbin",
  ].filter(Boolean);
  for (const dir of dirs) {
    try {
      const path = join(dir, name);
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/**
 * `ignore` for a `Deno.test` that needs `tools`: true (with a warning) when one is missing
 * outside CI. Under CI=true it is false, and {@link assertTools} then fails the test.
 */
export function ignoreWithout(tools: string[], test: string): boolean {
  const missing = tools.filter((t) => !findTool(t));
  return ignoreWhenMissing(
    missing.length > 0,
    `${test}: missing ${missing.join(", ")}; install with apt-get install ${
      missing.map((t) => TOOL_PACKAGES[t] ?? t).join(" ")
    }`,
  );
}

/** Fails when a tool is missing (the CI=true half of {@link ignoreWithout}). */
export function assertTools(tools: string[]): void {
  const missing = tools.filter((t) => !findTool(t));
  if (missing.length > 0) {
    throw new Error(
      `Cannot run this test: missing ${missing.join(", ")}; install with apt-get install ${
        missing.map((t) => TOOL_PACKAGES[t] ?? t).join(" ")
      }`,
    );
  }
}

/** Runs a tool; throws with its stderr when it fails. */
export async function run(
  tool: string,
  args: string[],
  options: { stdin?: string; env?: Record<string, string>; cwd?: string } = {},
): Promise<{ stdout: string; stderr: string }> {
  const child = new Deno.Command(findTool(tool) ?? tool, {
    args,
    cwd: options.cwd,
    env: options.env,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const output = await child.output();
  const stdout = new TextDecoder().decode(output.stdout);
  const stderr = new TextDecoder().decode(output.stderr);
  if (!output.success) {
    throw new Error(`${tool} ${args.join(" ")} failed (${output.code}):\n${stderr}${stdout}`);
  }
  return { stdout, stderr };
}

/** A docker-registry process on a loopback port with its own storage. */
export interface TestRegistry {
  /** `127.0.0.1:<port>` */
  host: string;
  dir: string;
  /** Everything the registry logged so far. */
  log(): string;
  stop(): Promise<void>;
  /** Kills the registry and removes its storage synchronously (for an `unload` handler). */
  stopSync(): void;
}

/** Extra `auth:` section of the registry config (YAML text, indented by 2). */
export interface RegistryAuth {
  yaml: string;
}

/**
 * Starts docker-registry on an ephemeral loopback port; resolves once it listens.
 *
 * @example
 * ```ts
 * const registry = await startRegistry();
 * try { … } finally { await registry.stop(); }
 * ```
 */
export async function startRegistry(auth?: RegistryAuth): Promise<TestRegistry> {
  const dir = await Deno.makeTempDir({ prefix: "pipedreamer-registry-" });
  const config = [
    "version: 0.1",
    "log:",
    "  level: info",
    "  accesslog:",
    "    disabled: true",
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${join(dir, "data")}`,
    "  delete:",
    "    enabled: true",
    "http:",
    "  addr: 127.0.0.1:0",
    "  secret: pipedreamer-test",
    ...(auth ? ["auth:", auth.yaml] : []),
    "",
  ].join("\n");
  await Deno.writeTextFile(join(dir, "config.yml"), config);
  const child = new Deno.Command(findTool("docker-registry") ?? "docker-registry", {
    args: ["serve", join(dir, "config.yml")],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let logText = "";
  const { promise: listening, resolve, reject } = Promise.withResolvers<string>();
  const drained = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) {
      logText += decoder.decode(chunk, { stream: true });
      const match = /listening on (127\.0\.0\.1:\d+)/.exec(logText);
      if (match?.[1]) resolve(match[1]);
    }
    reject(new Error(`docker-registry exited before listening:\n${logText}`));
  })();
  const host = await listening;
  return {
    host,
    dir,
    log: () => logText,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch {
        // already exited
      }
      await child.status;
      await drained.catch(() => {});
      await Deno.remove(dir, { recursive: true });
    },
    stopSync() {
      try {
        child.kill("SIGKILL");
      } catch {
        // already exited
      }
      Deno.removeSync(dir, { recursive: true });
    },
  };
}

/**
 * Makes a small glibc base image from this host's own files, like distroless/cc: the shared
 * libraries the deno binary links (ldd), the dynamic loader, /etc/passwd with `nonroot`
 * (65532), /tmp. It is built with umoci (not with the code under test) and pushed with skopeo,
 * as OCI (`tag`) and as Docker schema 2 (`<tag>-docker`).
 */
export async function pushHostBaseImage(
  registry: string,
  repository: string,
  tag: string,
): Promise<void> {
  const work = await Deno.makeTempDir({ prefix: "pipedreamer-base-" });
  try {
    const rootfs = join(work, "rootfs");
    const deno = await Deno.realPath(Deno.execPath());
    const { stdout } = await run("ldd", [deno]);
    const libs = [...stdout.matchAll(/(\/[^\s]+\.so[^\s]*)/g)].map((m) => m[1]!);
    for (const lib of new Set(libs)) {
      const target = join(rootfs, lib);
      await Deno.mkdir(join(target, ".."), { recursive: true });
      await Deno.copyFile(await Deno.realPath(lib), target);
    }
    await Deno.mkdir(join(rootfs, "etc"), { recursive: true });
    await Deno.writeTextFile(
      join(rootfs, "etc/passwd"),
      "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n",
    );
    await Deno.writeTextFile(join(rootfs, "etc/group"), "root:x:0:\nnonroot:x:65532:\n");
    await Deno.mkdir(join(rootfs, "home/nonroot"), { recursive: true });
    await Deno.chown(join(rootfs, "home/nonroot"), 65532, 65532);
    await Deno.mkdir(join(rootfs, "tmp"), { recursive: true });
    await Deno.chmod(join(rootfs, "tmp"), 0o1777);

    const layout = join(work, "layout");
    await run("umoci", ["init", "--layout", layout]);
    await run("umoci", ["new", "--image", `${layout}:${tag}`]);
    const bundle = join(work, "bundle");
    await run("umoci", ["unpack", "--image", `${layout}:${tag}`, bundle]);
    await run("cp", ["-a", `${rootfs}/.`, join(bundle, "rootfs")]);
    await run("umoci", ["repack", "--image", `${layout}:${tag}`, bundle]);
    await run("umoci", [
      "config",
      "--image",
      `${layout}:${tag}`,
      "--config.user",
      "65532:65532",
      "--config.env",
      "PATH=/usr/local/bin:/usr/bin:/bin",
      "--config.label",
      "test.base=host-libs",
      "--os",
      "linux",
      "--architecture",
      "amd64",
    ]);
    const dest = `docker://${registry}/${repository}`;
    await run("skopeo", [
      "copy",
      "--dest-tls-verify=false",
      `oci:${layout}:${tag}`,
      `${dest}:${tag}`,
    ]);
    await run("skopeo", [
      "copy",
      "--dest-tls-verify=false",
      "--format",
      "v2s2",
      `oci:${layout}:${tag}`,
      `${dest}:${tag}-docker`,
    ]);
  } finally {
    await Deno.remove(work, { recursive: true });
  }
}

/** What {@link writeContainerSpec} changes in the config.json umoci generated. */
export interface ContainerSpecOptions {
  /** Full argv (the image entrypoint is not applied). */
  args: string[];
  /** A host directory bind-mounted read-only, as Kubernetes mounts a ConfigMap. */
  binds?: { source: string; destination: string }[];
  env?: string[];
}

/** Linux `clone` flags that make namespaces (CLONE_NEWNS … CLONE_NEWNET, CLONE_NEWCGROUP). */
const CLONE_NAMESPACE_FLAGS = [
  0x00020000,
  0x02000000,
  0x04000000,
  0x08000000,
  0x10000000,
  0x20000000,
  0x40000000,
];

/**
 * The namespace rules of the seccomp profile a pod with `seccompProfile: RuntimeDefault` gets
 * from containerd (the moby default profile) when it has no CAP_SYS_ADMIN, as the Deployment's
 * pods have none: `unshare`, `setns`, `mount`, `umount2` and `pivot_root` fail with EPERM,
 * `clone` with any namespace flag fails with EPERM, `clone3` with ENOSYS (so that libc falls
 * back to `clone`). Everything else that profile allows is allowed here too (it is written as
 * an allow-list there; only these rules matter for what the engine does). runc enforces it;
 * runsc ignores a spec's seccomp profile unless started with --oci-seccomp, as under
 * Kubernetes.
 */
export const RUNTIME_DEFAULT_NAMESPACE_RULES = {
  defaultAction: "SCMP_ACT_ALLOW",
  architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"],
  syscalls: [
    {
      names: ["unshare", "setns", "mount", "umount2", "pivot_root"],
      action: "SCMP_ACT_ERRNO",
      errnoRet: 1,
    },
    { names: ["clone3"], action: "SCMP_ACT_ERRNO", errnoRet: 38 },
    ...CLONE_NAMESPACE_FLAGS.map((flag) => ({
      names: ["clone"],
      action: "SCMP_ACT_ERRNO",
      errnoRet: 1,
      args: [{ index: 0, value: flag, valueTwo: flag, op: "SCMP_CMP_MASKED_EQ" }],
    })),
  ],
};

/**
 * Rewrites `<bundle>/config.json` for a locked-down run, as the Deployment's securityContext
 * asks (k8s/_pod_security.ts): uid/gid 65532, read-only root, no capabilities, no new
 * privileges, {@link RUNTIME_DEFAULT_NAMESPACE_RULES}, a tmpfs /tmp, the host network (the test
 * servers are on loopback) and no terminal.
 */
export async function writeContainerSpec(
  bundle: string,
  options: ContainerSpecOptions,
): Promise<void> {
  const path = join(bundle, "config.json");
  // deno-lint-ignore no-explicit-any
  const spec = JSON.parse(await Deno.readTextFile(path)) as any;
  spec.process.terminal = false;
  spec.process.args = options.args;
  spec.process.user = { uid: 65532, gid: 65532 };
  spec.process.env = [
    ...spec.process.env.filter((e: string) => !e.startsWith("TERM=")),
    ...(options.env ?? []),
  ];
  spec.process.capabilities = {
    bounding: [],
    effective: [],
    inheritable: [],
    permitted: [],
    ambient: [],
  };
  spec.process.noNewPrivileges = true;
  spec.linux.seccomp = RUNTIME_DEFAULT_NAMESPACE_RULES;
  spec.root = { path: "rootfs", readonly: true };
  spec.mounts.push({
    destination: "/tmp",
    type: "tmpfs",
    source: "tmpfs",
    options: ["nosuid", "nodev", "mode=1777", "size=262144k"],
  });
  for (const bind of options.binds ?? []) {
    spec.mounts.push({
      destination: bind.destination,
      type: "bind",
      source: bind.source,
      options: ["rbind", "ro", "nosuid", "nodev"],
    });
  }
  spec.linux.namespaces = spec.linux.namespaces.filter((ns: { type: string }) =>
    ns.type !== "network"
  );
  await Deno.writeTextFile(path, JSON.stringify(spec, null, 2));
}

/** The container runtimes the tests use, with the flags that work on this host. */
export const ContainerRuntime = {
  Runc: "runc",
  Runsc: "runsc",
} as const;
/** One of {@link ContainerRuntime}. */
export type ContainerRuntime = typeof ContainerRuntime[keyof typeof ContainerRuntime];

/**
 * argv of `runtime run` for a bundle; `stateDir` keeps the runtime's state out of /run. runsc
 * gets `--network=host` (the test servers are on loopback), or `--network=none` (gVisor's own
 * netstack with loopback only) when `network` says so.
 */
export function runtimeArgs(
  runtime: ContainerRuntime,
  stateDir: string,
  bundle: string,
  id: string,
  network: "host" | "none" = "host",
): string[] {
  return runtime === ContainerRuntime.Runsc
    ? ["--root", stateDir, `--network=${network}`, "run", "--bundle", bundle, id]
    : ["--root", stateDir, "run", "--bundle", bundle, id];
}

/** Runs a container to completion and returns its exit code and output. */
export async function runContainer(
  runtime: ContainerRuntime,
  bundle: string,
  network: "host" | "none" = "host",
): Promise<{ code: number; stdout: string; stderr: string }> {
  const stateDir = await Deno.makeTempDir({ prefix: `pipedreamer-${runtime}-` });
  const id = `pd-${crypto.randomUUID().slice(0, 8)}`;
  try {
    const output = await new Deno.Command(findTool(runtime) ?? runtime, {
      args: runtimeArgs(runtime, stateDir, bundle, id, network),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      // A hung sandbox fails the test instead of stalling the suite.
      signal: AbortSignal.timeout(180_000),
    }).output();
    return {
      code: output.code,
      stdout: new TextDecoder().decode(output.stdout),
      stderr: new TextDecoder().decode(output.stderr),
    };
  } finally {
    await new Deno.Command(findTool(runtime) ?? runtime, {
      args: ["--root", stateDir, "delete", "--force", id],
      stdout: "null",
      stderr: "null",
    }).output();
    await Deno.remove(stateDir, { recursive: true });
  }
}

/** A docker token server (https://distribution.github.io/distribution/spec/auth/token/). */
export interface TokenServer {
  /** `http://127.0.0.1:<port>/token` */
  realm: string;
  service: string;
  issuer: string;
  /** PEM certificate the registry trusts (`rootcertbundle`). */
  certPath: string;
  /** Authorization headers the token endpoint received, in order. */
  received: (string | null)[];
  /** The registry `auth:` section that points at this server. */
  registryAuth(): RegistryAuth;
  stop(): Promise<void>;
}

const b64url = (data: Uint8Array | string) =>
  btoa(String.fromCharCode(...(typeof data === "string" ? new TextEncoder().encode(data) : data)))
    .replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");

/**
 * Starts a token server on loopback that grants pull and push to `user`:`password` (Basic)
 * and pull to anonymous callers. Tokens are ES256 JWTs with the signing certificate in `x5c`.
 */
export async function startTokenServer(user: string, password: string): Promise<TokenServer> {
  const dir = await Deno.makeTempDir({ prefix: "pipedreamer-token-" });
  const keyPath = join(dir, "key.pem");
  const certPath = join(dir, "cert.pem");
  await run("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    keyPath,
    "-out",
    certPath,
    "-days",
    "2",
    "-subj",
    "/CN=pipedreamer-test-token",
  ]);
  const pemBody = (pem: string) => pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
  const der = (pem: string) => Uint8Array.from(atob(pemBody(pem)), (c) => c.charCodeAt(0));
  const key = await crypto.subtle.importKey(
    "pkcs8",
    der(await Deno.readTextFile(keyPath)),
    { name: "ECDSA", namedCurve: "P-256" },
    false,
    ["sign"],
  );
  const x5c = pemBody(await Deno.readTextFile(certPath));
  const service = "pipedreamer-test-registry";
  const issuer = "pipedreamer-test-issuer";
  const received: (string | null)[] = [];
  const expected = `Basic ${btoa(`${user}:${password}`)}`;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const url = new URL(request.url);
    const authorization = request.headers.get("authorization");
    received.push(authorization);
    if (authorization !== null && authorization !== expected) {
      return new Response("denied", { status: 401 });
    }
    const access = url.searchParams.getAll("scope").map((scope) => {
      const [type, name, actions] = scope.split(":");
      const wanted = (actions ?? "").split(",");
      return {
        type,
        name,
        actions: authorization ? wanted : wanted.filter((a) => a === "pull"),
      };
    });
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ alg: "ES256", typ: "JWT", x5c: [x5c] }));
    const claims = b64url(JSON.stringify({
      iss: issuer,
      sub: authorization ? user : "",
      aud: url.searchParams.get("service") ?? service,
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: crypto.randomUUID(),
      access,
    }));
    const signature = new Uint8Array(
      await crypto.subtle.sign(
        { name: "ECDSA", hash: "SHA-256" },
        key,
        new TextEncoder().encode(`${header}.${claims}`),
      ),
    );
    return Response.json({ token: `${header}.${claims}.${b64url(signature)}`, expires_in: 300 });
  });
  const realm = `http://127.0.0.1:${server.addr.port}/token`;
  return {
    realm,
    service,
    issuer,
    certPath,
    received,
    registryAuth: () => ({
      yaml: [
        "  token:",
        `    realm: ${realm}`,
        `    service: ${service}`,
        `    issuer: ${issuer}`,
        `    rootcertbundle: ${certPath}`,
      ].join("\n"),
    }),
    async stop() {
      await server.shutdown();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** An htpasswd `auth:` section for `user`:`password` (bcrypt via python3's crypt module). */
export async function htpasswdAuth(
  dir: string,
  user: string,
  password: string,
): Promise<RegistryAuth> {
  const { stdout } = await run("python3", [
    "-W",
    "ignore",
    "-c",
    "import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))",
    password,
  ]);
  const path = join(dir, "htpasswd");
  await Deno.writeTextFile(path, `${user}:${stdout.trim()}\n`);
  return { yaml: ["  htpasswd:", "    realm: pipedreamer-test", `    path: ${path}`].join("\n") };
}
