import assert from "node:assert/strict";
import { createRedactor, loadSecrets } from "./secrets.ts";

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "pipedreamer-secrets-test-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function write(path: string, text: string) {
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  await Deno.writeTextFile(path, text);
}

const noMount = { mountDir: "/nonexistent/pipedreamer-secrets" };

Deno.test("`loadSecrets()` loads .secrets.yaml with nested maps", () =>
  withDir(async (dir) => {
    await write(
      `${dir}/.secrets.yaml`,
      "github:\n  token: ghp_abc123\n  app:\n    id: 42\n    key: pem-data\nslack: xoxb-plain\n",
    );
    assert.deepEqual(await loadSecrets(dir, noMount), {
      github: { token: "ghp_abc123", app: { id: 42, key: "pem-data" } },
      slack: "xoxb-plain",
    });
  }));

Deno.test("`loadSecrets()` loads a .secrets/ directory of YAML, JSON, plain and key files", () =>
  withDir(async (dir) => {
    const s = `${dir}/.secrets`;
    await write(`${s}/github.yaml`, "token: ghp_abc123\n");
    await write(`${s}/anthropic.yml`, "api_key: sk-ant-1\n");
    await write(`${s}/slack.json`, '{ "token": "xoxb-1", "channel": "#ops" }');
    await write(`${s}/openai`, "sk-plain-token\n");
    await write(`${s}/notion`, "token: from-a-plain-file\n");
    await write(`${s}/aws/access_key`, "AKIA123\n");
    await write(`${s}/aws/secret_key`, "s3cr3t");
    await write(`${s}/.gitkeep`, "");
    await write(`${s}/.hidden/token`, "nope");
    assert.deepEqual(await loadSecrets(dir, noMount), {
      anthropic: { api_key: "sk-ant-1" },
      aws: { access_key: "AKIA123", secret_key: "s3cr3t" },
      github: { token: "ghp_abc123" },
      notion: { token: "from-a-plain-file" },
      openai: "sk-plain-token",
      slack: { token: "xoxb-1", channel: "#ops" },
    });
  }));

Deno.test("`loadSecrets()` loads a Kubernetes secret volume with its symlinks", () =>
  withDir(async (dir) => {
    // One Secret whose keys are services: svc -> ..data/svc, ..data -> ..<timestamp>/
    const mount = `${dir}/mount`;
    const stamp = "..2024_01_01_00_00_00.123456789";
    await write(`${mount}/${stamp}/github`, "token: ghp_k8s\n");
    await write(`${mount}/${stamp}/slack`, "xoxb-k8s\n");
    await Deno.symlink(stamp, `${mount}/..data`);
    await Deno.symlink("..data/github", `${mount}/github`);
    await Deno.symlink("..data/slack", `${mount}/slack`);
    // One Secret per service mounted as a directory, with the same symlinks inside.
    const svc = `${mount}/anthropic`;
    await write(`${svc}/${stamp}/api_key`, "sk-ant-k8s");
    await Deno.symlink(stamp, `${svc}/..data`);
    await Deno.symlink("..data/api_key", `${svc}/api_key`);
    assert.deepEqual(await loadSecrets(`${dir}/workflow`, { mountDir: mount }), {
      anthropic: { api_key: "sk-ant-k8s" },
      github: { token: "ghp_k8s" },
      slack: "xoxb-k8s",
    });
  }));

Deno.test("`loadSecrets()` merges per service: .secrets.yaml < .secrets/ < the mount", () =>
  withDir(async (dir) => {
    await write(
      `${dir}/wf/.secrets.yaml`,
      "github: { token: from-yaml }\nlocal: { token: yaml-only }\n",
    );
    await write(`${dir}/wf/.secrets/github.yaml`, "token: from-dir\n");
    await write(`${dir}/wf/.secrets/slack`, "from-dir");
    await write(`${dir}/mount/slack`, "from-mount");
    await write(`${dir}/mount/pipedreamer/token`, "engine-api-token");
    assert.deepEqual(await loadSecrets(`${dir}/wf`, { mountDir: `${dir}/mount` }), {
      github: { token: "from-dir" },
      local: { token: "yaml-only" },
      slack: "from-mount",
    });
  }));

Deno.test("`loadSecrets()` gives {} when there are no secrets", () =>
  withDir(async (dir) => {
    assert.deepEqual(await loadSecrets(dir, noMount), {});
    await write(`${dir}/.secrets.yaml`, "# nothing yet\n");
    assert.deepEqual(await loadSecrets(dir, noMount), {});
  }));

Deno.test("`loadSecrets()` names the bad file and position without echoing secret values", () =>
  withDir(async (dir) => {
    const cases: [string, string, string][] = [
      [
        ".secrets.yaml",
        "github:\n  token: [ghp_SECRET\nslack: x\n",
        `"${dir}/.secrets.yaml" is not valid YAML (bad indent at line 3, column 1)`,
      ],
      [
        ".secrets.yaml",
        "github: ghp_SECRET\ngithub: ghp_SECRET\n",
        `"${dir}/.secrets.yaml" is not valid YAML (duplicate key at line 2, column 1)`,
      ],
      [
        ".secrets.yaml",
        "- ghp_SECRET\n",
        `"${dir}/.secrets.yaml" must be a map of service names to secrets, e.g. github: { token: … }`,
      ],
      [
        ".secrets/github.json",
        '{\n  "token": "ghp_SECRET"\n  "x": 1 }',
        `"${dir}/.secrets/github.json" is not valid JSON (at line 3, column 3)`,
      ],
      [
        ".secrets/github.yaml",
        'token: "ghp_SECRET\n',
        `"${dir}/.secrets/github.yaml" is not valid YAML (missing char at line 2, column 1)`,
      ],
    ];
    for (const [file, text, detail] of cases) {
      await Deno.remove(`${dir}/.secrets.yaml`).catch(() => {});
      await Deno.remove(`${dir}/.secrets`, { recursive: true }).catch(() => {});
      await write(`${dir}/${file}`, text);
      await assert.rejects(loadSecrets(dir, noMount), (error: Error) => {
        assert.equal(error.message, `Cannot load secrets: ${detail}`);
        assert.equal(error.cause, undefined);
        assert.doesNotMatch(String(error.stack), /ghp_SECRET/);
        return true;
      });
    }
  }));

Deno.test("`loadSecrets()` rejects a service defined twice and a dangling symlink", () =>
  withDir(async (dir) => {
    await write(`${dir}/.secrets/github.yaml`, "token: a\n");
    await write(`${dir}/.secrets/github.json`, '{"token": "b"}');
    await assert.rejects(loadSecrets(dir, noMount), {
      message: `Cannot load secrets: service "github" is defined twice, by ` +
        `"${dir}/.secrets/github.json" and "${dir}/.secrets/github.yaml"`,
    });
    await Deno.remove(`${dir}/.secrets/github.json`);
    await Deno.symlink("..data/slack", `${dir}/.secrets/slack`);
    await assert.rejects(loadSecrets(dir, noMount), {
      message: new RegExp(`^Cannot load secrets: cannot read "${dir}/.secrets/slack": `),
    });
  }));

Deno.test("`createRedactor()` replaces every secret leaf, longest first", () => {
  const redact = createRedactor({
    github: { token: "abcd", app: { key: "abcdef" } },
    slack: "p.a$s(w)rd+",
    list: ["listed-value"],
    short: "abc",
    number: 12345,
  });
  const cases: [string, string][] = [
    ["token abcdef and abcd", "token [REDACTED] and [REDACTED]"],
    ["pw=p.a$s(w)rd+;", "pw=[REDACTED];"],
    ["[listed-value]", "[[REDACTED]]"],
    ["abc stays: too short to redact", "abc stays: too short to redact"],
    ["12345 is not a string", "12345 is not a string"],
    ["nothing secret", "nothing secret"],
  ];
  for (const [text, expected] of cases) assert.equal(redact(text), expected);
});

Deno.test("`createRedactor()` also catches the JSON-escaped, URL-encoded and base64 forms", () => {
  const value = 'pa"ss/wörd';
  const redact = createRedactor({ svc: { password: value } });
  const json = JSON.stringify({ msg: "login", password: value });
  assert.equal(redact(json), '{"msg":"login","password":"[REDACTED]"}');
  assert.equal(redact(`?pw=${encodeURIComponent(value)}`), "?pw=[REDACTED]");
  const bytes = new TextEncoder().encode(value);
  const b64 = btoa(String.fromCharCode(...bytes));
  assert.equal(redact(`Basic ${b64}`), "Basic [REDACTED]");
});

Deno.test("`createRedactor()` redacts error messages and handles many secrets", () => {
  const secrets: Record<string, { token: string }> = {};
  for (let i = 0; i < 2000; i++) secrets[`svc${i}`] = { token: `tok-${i}-${"x".repeat(i % 7)}` };
  const redact = createRedactor(secrets);
  const error = new Error(`request failed: Bearer ${secrets.svc1999!.token} was rejected`);
  assert.equal(redact(error.message), "request failed: Bearer [REDACTED] was rejected");
  assert.equal(createRedactor({})("unchanged"), "unchanged");
});
