import assert from "node:assert/strict";
import {
  type Denial,
  describeDenial,
  describeMissingRun,
  findDenial,
  isRunAllowed,
  netAllowList,
  workerPermissions,
} from "./_permissions.ts";

Deno.test("`netAllowList()` grants the subdomains of each DNS name and keeps ports", () => {
  const cases: [string[], string[]][] = [
    [["github.com"], ["github.com", "*.github.com"]],
    [["api.github.com:8443"], ["api.github.com:8443", "*.api.github.com:8443"]],
    [["127.0.0.1:8123", "10.0.0.1"], ["127.0.0.1:8123", "10.0.0.1"]],
    [["*.slack.com"], ["*.slack.com"]],
    [["[::1]:80"], ["[::1]:80"]],
    [[], []],
  ];
  for (const [hosts, expected] of cases) assert.deepEqual(netAllowList(hosts), expected);
});

Deno.test("`workerPermissions()` grants declared hosts, the workflow dir and the write dir only", () => {
  const dirs = { workflowDir: "/wf", writeDir: "/tmp/runs" };
  assert.deepEqual(workerPermissions({ net: ["github.com"], run: ["git"] }, dirs), {
    net: ["*.github.com", "github.com"],
    import: ["*.github.com", "github.com"],
    read: ["/wf", "/tmp/runs"],
    write: ["/tmp/runs"],
    env: false,
    run: false,
    ffi: false,
    sys: false,
  });
  const none = workerPermissions({ net: [], run: [] }, dirs);
  assert.equal(none.net, false);
  assert.equal(none.import, false);
  const any = workerPermissions({ net: ["*"], run: [] }, dirs);
  assert.equal(any.net, true);
  assert.equal(any.import, true);
});

Deno.test("`findDenial()` finds Deno's denial, also wrapped or quoted by the node", () => {
  const notCapable = new Deno.errors.NotCapable(
    'Requires net access to "api.github.com:443", run again with the --allow-net flag',
  );
  const net: Denial = { permission: "net", resource: "api.github.com:443" };
  const cases: [unknown, Denial | undefined][] = [
    [notCapable, net],
    [new Error("Could not reach the API", { cause: notCapable }), net],
    [new Error("outer", { cause: new Error("middle", { cause: notCapable }) }), net],
    [new AggregateError([new Error("other"), notCapable], "all failed"), net],
    [new Error(`fetch failed: ${notCapable.message}`), net],
    [
      new TypeError(
        'Requires import access to "esm.sh:443", run again with the --allow-import flag',
      ),
      { permission: "import", resource: "esm.sh:443" },
    ],
    [
      new Deno.errors.NotCapable("Requires env access, run again with the --allow-env flag"),
      { permission: "env", resource: undefined },
    ],
    [
      Object.assign(
        new Deno.errors.NotCapable("Requires env access, run again with the --allow-env flag"),
        {
          stack:
            "NotCapable: Requires env access\n    at Object.toObject (ext:deno_os/30_os.js:1:1)\n" +
            "    at normalizeSpawnArguments (ext:deno_node/internal/child_process.ts:1:16895)\n" +
            "    at spawnSync (ext:deno_node/child_process.ts:1:4395)",
        },
      ),
      { permission: "run" },
    ],
    [new Error("Requires patience"), undefined],
    ["Requires net access", undefined],
    [null, undefined],
  ];
  for (const [error, expected] of cases) assert.deepEqual(findDenial(error), expected);
});

Deno.test("`describeDenial()` names the capability to add, or why none exists", () => {
  const dirs = { workflowDir: "/wf", writeDir: "/tmp/runs" };
  const cases: [Denial, string, string | undefined][] = [
    [
      { permission: "net", resource: "api.github.com:443" },
      'Cannot run node "fetch-data": it needs network access to "api.github.com"; add ' +
      'capabilities: { net: "api.github.com" } to the node in workflow.yaml',
      'net: "api.github.com"',
    ],
    [
      { permission: "net", resource: "127.0.0.1:8123" },
      'Cannot run node "fetch-data": it needs network access to "127.0.0.1:8123"; add ' +
      'capabilities: { net: "127.0.0.1:8123" } to the node in workflow.yaml',
      'net: "127.0.0.1:8123"',
    ],
    [
      { permission: "import", resource: "esm.sh:443" },
      'Cannot run node "fetch-data": it imports code from "esm.sh"; add capabilities: ' +
      '{ net: "esm.sh" } to the node in workflow.yaml',
      'net: "esm.sh"',
    ],
    [
      { permission: "env", resource: undefined },
      'Cannot run node "fetch-data": it reads the environment, which nodes may not do; pass the ' +
      "value through config: or a secret instead",
      undefined,
    ],
    [
      { permission: "write", resource: "/etc/x" },
      'Cannot run node "fetch-data": it writes "/etc/x" outside its temp dir; write under ' +
      "ctx.tmpDir instead",
      undefined,
    ],
    [
      { permission: "read", resource: "/etc/passwd" },
      'Cannot run node "fetch-data": it reads "/etc/passwd" outside the workflow directory "/wf"; ' +
      "nodes may read only files in the workflow directory and ctx.tmpDir",
      undefined,
    ],
    [
      { permission: "sys", resource: "hostname" },
      'Cannot run node "fetch-data": it reads system information "hostname", which nodes may not do',
      undefined,
    ],
    [
      { permission: "ffi", resource: "libc.so.6" },
      'Cannot run node "fetch-data": it loads the native library "libc.so.6", which nodes may not do',
      undefined,
    ],
  ];
  for (const [denial, message, capability] of cases) {
    const described = describeDenial("fetch-data", denial, dirs);
    assert.equal(described.message, message);
    assert.equal(described.capability, capability);
  }
  assert.equal(
    describeMissingRun("convert", "python3").message,
    'Cannot run node "convert": it runs "python3"; add capabilities: { run: ["python3"] } to the ' +
      "node in workflow.yaml",
  );
});

Deno.test("`isRunAllowed()` matches names verbatim and paths by the file they name", () => {
  const cases: [string, string[], boolean][] = [
    ["python3", ["python3"], true],
    ["python3", ["python"], false],
    ["/usr/bin/python3", ["python3"], false],
    ["./nodes/x.sh", ["nodes/x.sh"], true],
    ["./nodes/../nodes/x.sh", ["./nodes/x.sh"], true],
    ["/wf/nodes/x.sh", ["./nodes/x.sh"], true],
    ["./nodes/y.sh", ["./nodes/x.sh"], false],
    ["sh", [], false],
  ];
  for (const [program, allowed, expected] of cases) {
    assert.equal(
      isRunAllowed(program, { allowed, dir: "/wf" }),
      expected,
      `${program} in ${allowed}`,
    );
  }
});
