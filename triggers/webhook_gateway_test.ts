import assert from "node:assert/strict";
import { jetstreamManager } from "@nats-io/jetstream";
import { connectNats } from "./connect_nats.ts";
import { hmac, toHex } from "./_signature.ts";
import { TriggerMetrics } from "./_metrics.ts";
import {
  createJetStreamPublisher,
  createWebhookHandler,
  UNKNOWN_HOOK_LABEL,
  type WebhookGatewayConfig,
  type WebhookPublisher,
} from "./webhook_gateway.ts";
import { natsTest } from "./testdata/nats_testing.ts";

const SECRETS = {
  "github-webhook": "gh-secret",
  partner: { secret: "partner-key" },
  ci: { token: "ci-token" },
};
const HOOKS: WebhookGatewayConfig["hooks"] = {
  github: { subject: "hooks.github", verify: "github", secret: "github-webhook" },
  partner: {
    subject: "hooks.partner",
    verify: "hmac",
    secret: "partner",
    header: "X-Partner-Signature",
    algorithm: "sha512",
  },
  ci: { subject: "hooks.ci", verify: "bearer", secret: "ci" },
};
const BODY = JSON.stringify({ ref: "refs/heads/main", commits: [] });
const bytes = (s: string) => new TextEncoder().encode(s);

/** A publisher that records what it is asked to publish. */
function recorder(): WebhookPublisher & {
  published: { subject: string; body: string; headers: Record<string, string>; msgId?: string }[];
} {
  const published: {
    subject: string;
    body: string;
    headers: Record<string, string>;
    msgId?: string;
  }[] = [];
  return {
    published,
    publish(subject, data, options) {
      published.push({ subject, body: new TextDecoder().decode(data), ...options });
      return Promise.resolve({ stream: "HOOKS", seq: published.length, duplicate: false });
    },
  };
}

function post(hook: string, headers: Record<string, string>, body = BODY): Request {
  return new Request(`http://engine/hooks/${hook}`, { method: "POST", headers, body });
}

const githubSignature = async (secret: string, body = BODY) =>
  `sha256=${toHex(await hmac("sha256", bytes(secret), bytes(body)))}`;
const partnerHex = async (secret: string) =>
  toHex(await hmac("sha512", bytes(secret), bytes(BODY)));

for (
  const [name, hook, headers, status, reason] of [
    [
      "a valid GitHub signature",
      "github",
      async () => ({ "X-Hub-Signature-256": await githubSignature("gh-secret") }),
      202,
      undefined,
    ],
    [
      "a GitHub signature made with another secret",
      "github",
      async () => ({ "X-Hub-Signature-256": await githubSignature("wrong") }),
      401,
      "X-Hub-Signature-256 does not match the body",
    ],
    [
      "a GitHub signature of another body",
      "github",
      async () => ({ "X-Hub-Signature-256": await githubSignature("gh-secret", "{}") }),
      401,
      "does not match",
    ],
    [
      "a missing GitHub signature",
      "github",
      () => Promise.resolve({}),
      401,
      "missing X-Hub-Signature-256 header",
    ],
    [
      "a malformed GitHub signature",
      "github",
      () => Promise.resolve({ "X-Hub-Signature-256": "sha1=abc" }),
      401,
      "malformed X-Hub-Signature-256 header",
    ],
    [
      "a valid HMAC in hex",
      "partner",
      async () => ({ "X-Partner-Signature": await partnerHex("partner-key") }),
      202,
      undefined,
    ],
    [
      "a valid HMAC with its algorithm prefix",
      "partner",
      async () => ({ "X-Partner-Signature": `sha512=${await partnerHex("partner-key")}` }),
      202,
      undefined,
    ],
    [
      "a valid HMAC in base64",
      "partner",
      async () => ({
        "X-Partner-Signature": btoa(
          String.fromCharCode(...await hmac("sha512", bytes("partner-key"), bytes(BODY))),
        ),
      }),
      202,
      undefined,
    ],
    [
      "a wrong HMAC",
      "partner",
      async () => ({ "X-Partner-Signature": await partnerHex("nope") }),
      401,
      "X-Partner-Signature does not match the body",
    ],
    [
      "a missing HMAC header",
      "partner",
      () => Promise.resolve({ "X-Hub-Signature-256": "sha256=00" }),
      401,
      "missing X-Partner-Signature header",
    ],
    [
      "a valid bearer token",
      "ci",
      () => Promise.resolve({ Authorization: "Bearer ci-token" }),
      202,
      undefined,
    ],
    [
      "a wrong bearer token",
      "ci",
      () => Promise.resolve({ Authorization: "Bearer ci-tokens" }),
      401,
      "wrong bearer token",
    ],
    [
      "a missing bearer token",
      "ci",
      () => Promise.resolve({}),
      401,
      "missing Authorization header",
    ],
    [
      "basic auth instead of a bearer token",
      "ci",
      () => Promise.resolve({ Authorization: "Basic Y2k6Y2k=" }),
      401,
      "not a bearer token",
    ],
  ] as const
) {
  Deno.test(`\`createWebhookHandler()\` answers ${status} to ${name}`, async () => {
    const publisher = recorder();
    const metrics = new TriggerMetrics();
    const handler = createWebhookHandler({ hooks: HOOKS, secrets: SECRETS, metrics }, publisher);
    const response = await handler(
      post(hook, { "Content-Type": "application/json", ...await headers() }),
    );
    const body = await response.json();
    assert.equal(response.status, status, JSON.stringify(body));
    assert.equal(metrics.get("pipedreamer_webhook_requests_total", { hook, status }), 1);
    if (status === 202) {
      assert.deepEqual(body, {
        hook,
        subject: HOOKS[hook]!.subject,
        stream: "HOOKS",
        seq: 1,
        duplicate: false,
      });
      assert.equal(publisher.published.length, 1);
      assert.equal(publisher.published[0]!.body, BODY);
      assert.equal(publisher.published[0]!.headers["Content-Type"], "application/json");
      assert.equal(publisher.published[0]!.headers["Pipedreamer-Webhook"], hook);
    } else {
      assert.equal(publisher.published.length, 0, "nothing is published");
      assert.equal(body.error.code, "unauthorized");
      assert.match(
        body.error.message,
        new RegExp(`^Cannot verify webhook "${hook}": .*${reason}`),
      );
      assert.doesNotMatch(JSON.stringify(body), /gh-secret|partner-key|ci-token/);
    }
  });
}

Deno.test("`createWebhookHandler()` forwards GitHub's event headers and dedups by delivery id", async () => {
  const publisher = recorder();
  const handler = createWebhookHandler({ hooks: HOOKS, secrets: SECRETS }, publisher);
  const response = await handler(post("github", {
    "X-Hub-Signature-256": await githubSignature("gh-secret"),
    "X-GitHub-Event": "push",
    "X-GitHub-Delivery": "72d3162e",
  }));
  assert.equal(response.status, 202);
  assert.equal(publisher.published[0]!.headers["x-github-event"], "push");
  assert.equal(publisher.published[0]!.msgId, "github:72d3162e");
});

for (
  const [name, request, status, pattern] of [
    [
      "an unknown hook",
      new Request("http://e/hooks/nope", { method: "POST", body: "{}" }),
      404,
      /^Cannot find webhook "nope": configured hooks: "github", "partner", "ci"$/,
    ],
    ["a GET", new Request("http://e/hooks/github"), 405, /use POST/],
    [
      "an oversize body",
      new Request("http://e/hooks/ci", {
        method: "POST",
        body: "x".repeat(65),
        headers: { Authorization: "Bearer ci-token" },
      }),
      413,
      /exceeds 64 bytes/,
    ],
  ] as const
) {
  Deno.test(`\`createWebhookHandler()\` answers ${status} to ${name}`, async () => {
    const publisher = recorder();
    const handler = createWebhookHandler(
      { hooks: HOOKS, secrets: SECRETS, maxBodyBytes: 64 },
      publisher,
    );
    const response = await handler(request);
    assert.equal(response.status, status);
    const { error } = await response.json();
    assert.deepEqual(Object.keys(error), ["code", "message"]);
    assert.equal(
      error.code,
      { 404: "not_found", 405: "method_not_allowed", 413: "payload_too_large" }[status],
    );
    assert.match(error.message, pattern);
    assert.equal(publisher.published.length, 0);
  });
}

Deno.test("`createWebhookHandler()` counts unknown hook names under one label, whatever the names", async () => {
  const metrics = new TriggerMetrics();
  const handler = createWebhookHandler({ hooks: HOOKS, secrets: SECRETS, metrics }, recorder());
  const names: string[] = Array.from({ length: 500 }, () => crypto.randomUUID());
  names.push("%E0%A4%A", "..", "a/b", "");
  for (const name of names) {
    const response = await handler(
      new Request(`http://e/hooks/${name}`, { method: "POST", body: "{}" }),
    );
    assert.equal(response.status, 404, name);
    await response.body?.cancel();
  }
  const rendered = metrics.render();
  const series = rendered.split("\n").filter((l) => l.startsWith("pipedreamer_webhook_requests"));
  assert.deepEqual(series, [
    `pipedreamer_webhook_requests_total{hook="${UNKNOWN_HOOK_LABEL}",status="404"} ${names.length}`,
  ]);
});

Deno.test("`createWebhookHandler()` answers HEAD with the length of the body GET would get", async () => {
  const handler = createWebhookHandler({ hooks: HOOKS, secrets: SECRETS }, recorder());
  const head = await handler(new Request("http://e/hooks/github", { method: "HEAD" }));
  const get = await handler(new Request("http://e/hooks/github"));
  const text = await get.text();
  assert.equal(head.status, 405);
  assert.equal(await head.text(), "");
  assert.equal(head.headers.get("content-length"), String(new TextEncoder().encode(text).length));
  assert.equal(head.headers.get("allow"), "POST");
});

Deno.test("`createWebhookHandler()` answers 413 to a streamed body without Content-Length that grows too big", async () => {
  const publisher = recorder();
  const handler = createWebhookHandler(
    { hooks: HOOKS, secrets: SECRETS, maxBodyBytes: 10 },
    publisher,
  );
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      controller.enqueue(bytes("0123456789"));
    },
  });
  const response = await handler(
    new Request("http://e/hooks/ci", {
      method: "POST",
      body,
      headers: { Authorization: "Bearer ci-token" },
    }),
  );
  assert.equal(response.status, 413);
  await response.body?.cancel();
});

Deno.test("`createWebhookHandler()` refuses to start when a hook's secret is missing", () => {
  assert.throws(
    () => createWebhookHandler({ hooks: { github: HOOKS.github! }, secrets: {} }, recorder()),
    (error: Error) =>
      error instanceof TypeError &&
      error.message.startsWith(
        'Cannot configure webhook "github": secret "github-webhook" is not in the loaded secrets',
      ),
  );
});

Deno.test("`createWebhookHandler()` reads a dotted secret name from a nested map", async () => {
  const publisher = recorder();
  const handler = createWebhookHandler({
    hooks: { ci: { subject: "hooks.ci", verify: "bearer", secret: "webhooks.ci" } },
    secrets: { webhooks: { ci: "nested-token" } },
  }, publisher);
  const response = await handler(post("ci", { Authorization: "Bearer nested-token" }));
  assert.equal(response.status, 202);
});

natsTest(
  "`createJetStreamPublisher()` stores the webhook in JetStream and returns its sequence",
  async (url) => {
    const nc = await connectNats(url);
    try {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: "HOOKS", subjects: ["hooks.>"] });
      const handler = createWebhookHandler(
        { hooks: HOOKS, secrets: SECRETS },
        createJetStreamPublisher(nc),
      );
      const signed = async () =>
        post("github", {
          "Content-Type": "application/json",
          "X-Hub-Signature-256": await githubSignature("gh-secret"),
          "X-GitHub-Delivery": "d-1",
        });
      const first = await handler(await signed());
      assert.deepEqual(await first.json(), {
        hook: "github",
        subject: "hooks.github",
        stream: "HOOKS",
        seq: 1,
        duplicate: false,
      });
      const again = await handler(await signed());
      assert.deepEqual(await again.json(), {
        hook: "github",
        subject: "hooks.github",
        stream: "HOOKS",
        seq: 1,
        duplicate: true,
      });
      const bad = await handler(
        post("github", { "X-Hub-Signature-256": await githubSignature("wrong") }),
      );
      assert.equal(bad.status, 401);
      await bad.body?.cancel();
      assert.equal(
        (await jsm.streams.info("HOOKS")).state.messages,
        1,
        "the bad request published nothing",
      );
      const stored = await jsm.streams.getMessage("HOOKS", { seq: 1 });
      assert.equal(new TextDecoder().decode(stored!.data), BODY);
      assert.equal(stored!.header?.get("Content-Type"), "application/json");

      const unstored = createWebhookHandler({
        hooks: { ci: { subject: "elsewhere.ci", verify: "bearer", secret: "ci" } },
        secrets: SECRETS,
      }, createJetStreamPublisher(nc));
      const refused = await unstored(post("ci", { Authorization: "Bearer ci-token" }));
      assert.equal(refused.status, 503);
      const { error } = await refused.json();
      assert.equal(error.code, "unavailable");
      assert.match(error.message, /no JetStream stream stores this subject/);
    } finally {
      await nc.close();
    }
  },
);
