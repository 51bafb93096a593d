import assert from "node:assert/strict";
import { scopeSecrets } from "./_secret_scope.ts";
import { createContext } from "./_context.ts";
import { moduleNode } from "../testdata/sandbox/helpers.ts";

const secrets = {
  github: { token: "gh-token" },
  slack: { token: "slack-token" },
  stripe: { api_key: "sk_live" },
  internal: "plain",
};
const services = { slack: "https://hooks.slack.com/services", internal: "http://10.0.0.7:8080" };

Deno.test("scopeSecrets() grants the services listed in capabilities.secrets and those net allows", () => {
  const none = scopeSecrets(moduleNode("a", "echo"), secrets, services);
  assert.deepEqual(none.secrets, {});
  assert.deepEqual(none.withheld.sort(), ["github", "internal", "slack", "stripe"]);

  // github.com grants api.github.com (the default base URL of "github"); slack's base URL host.
  const byNet = scopeSecrets(
    moduleNode("b", "echo", { net: ["github.com", "hooks.slack.com"] }),
    secrets,
    services,
  );
  assert.deepEqual(Object.keys(byNet.secrets).sort(), ["github", "slack"]);

  const listed = scopeSecrets(moduleNode("c", "echo", { secrets: ["stripe"] }), secrets, services);
  assert.deepEqual(listed.secrets, { stripe: { api_key: "sk_live" } });

  // A port in net must match the base URL's port; "*" allows every host.
  const wrongPort = scopeSecrets(
    moduleNode("d", "echo", { net: ["10.0.0.7:9090"] }),
    secrets,
    services,
  );
  assert.deepEqual(wrongPort.secrets, {});
  const rightPort = scopeSecrets(
    moduleNode("e", "echo", { net: ["10.0.0.7:8080"] }),
    secrets,
    services,
  );
  assert.deepEqual(rightPort.secrets, { internal: "plain" });
  const any = scopeSecrets(moduleNode("f", "echo", { net: ["*"] }), secrets, services);
  assert.equal(Object.keys(any.secrets).length, 4);
  // github.com.evil.io is not github.com.
  const lookalike = scopeSecrets(
    moduleNode("g", "echo", { net: ["api.github.com.evil.io"] }),
    secrets,
    services,
  );
  assert.deepEqual(lookalike.secrets, {});
});

Deno.test("ctx.fetch to a service whose secrets were withheld fails naming the capability", async () => {
  const { ctx } = createContext({
    runId: "r",
    node: "n",
    attempt: 1,
    config: {},
    secrets: {},
    withheld: ["stripe"],
    tmpDir: "/tmp",
    signal: new AbortController().signal,
    services: {},
    children: [],
    onLog() {},
    mock: () => Promise.resolve({ status: 200 }),
  });
  await assert.rejects(
    ctx.fetch("stripe", "/v1/charges"),
    {
      name: "TypeError",
      message: 'Cannot fetch from service "stripe": node "n" may not use its secrets; add ' +
        "capabilities: { secrets: [stripe] } to the node in workflow.yaml",
    },
  );
  // A service without secrets is not affected.
  assert.equal((await ctx.fetch("other", "/x")).status, 200);
});
