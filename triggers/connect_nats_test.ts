import assert from "node:assert/strict";
import { connectNats, redactUrl, splitUrlCredentials } from "./connect_nats.ts";
import { natsTest } from "./testdata/nats_testing.ts";
import { ignoreWithoutNats, startNatsServer } from "../testing/mod.ts";

natsTest("`connectNats()` connects to a real server", async (url) => {
  const nc = await connectNats(url, { secret: undefined });
  try {
    assert.equal(nc.isClosed(), false);
    await nc.flush();
  } finally {
    await nc.close();
  }
});

Deno.test("`connectNats()` names the URL without its credentials when the server is unreachable", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close(); // a port nobody listens on
  await assert.rejects(
    connectNats(`nats://user:pw@127.0.0.1:${port}`, { timeoutMs: 1_000 }),
    (error: Error) =>
      error.message.startsWith(`Cannot connect to NATS at "nats://***@127.0.0.1:${port}"`) &&
      !error.message.includes("pw") && error.cause !== undefined,
  );
});

for (
  const [name, secret] of [
    ["a number", 42],
    ["a list", ["token"]],
    ["a map without credentials", { url: "nats://x" }],
    ["a user without a password", { user: "u" }],
  ] as const
) {
  Deno.test(`\`connectNats()\` rejects a nats secret that is ${name}`, async () => {
    await assert.rejects(connectNats("nats://127.0.0.1:1", { secret }), TypeError);
  });
}

Deno.test("`redactUrl()` hides user info of every server", () => {
  assert.equal(
    redactUrl("nats://a:b@h1:4222,nats://tok@h2:4222,nats://h3"),
    "nats://***@h1:4222,nats://***@h2:4222,nats://h3",
  );
});

Deno.test("`splitUrlCredentials()` takes a token or user and password out of the servers", () => {
  assert.deepEqual(splitUrlCredentials("nats://tok%40en@h1:4222, nats://h2:4222"), {
    servers: ["nats://h1:4222", "nats://h2:4222"],
    auth: { token: "tok@en" },
  });
  assert.deepEqual(splitUrlCredentials("tls://u:p:w@h1,h2"), {
    servers: ["tls://h1", "h2"],
    auth: { user: "u", pass: "p:w" },
  });
  assert.deepEqual(splitUrlCredentials("nats://h1"), { servers: ["nats://h1"], auth: {} });
});

Deno.test({
  name: "`connectNats()` authenticates with the token of a URL (a URL from a Secret file)",
  ignore: ignoreWithoutNats(),
  async fn() {
    await using server = await startNatsServer({ token: "url-token" });
    const nc = await connectNats(`nats://url-token@127.0.0.1:${server.port}`);
    await nc.flush();
    await nc.close();
    await assert.rejects(
      connectNats(`nats://wrong@127.0.0.1:${server.port}`, { timeoutMs: 2_000 }),
      (error: Error) => !error.message.includes("wrong"),
    );
  },
});

Deno.test({
  name: "`connectNats()` authenticates with the token of the nats secret",
  ignore: ignoreWithoutNats(),
  async fn() {
    await using server = await startNatsServer({ token: "s3cret-token" });
    for (const secret of ["s3cret-token", { token: "s3cret-token" }]) {
      const nc = await connectNats(server.url, { secret });
      await nc.flush();
      await nc.close();
    }
    await assert.rejects(
      connectNats(server.url, { secret: { token: "wrong" }, timeoutMs: 2_000 }),
      (error: Error) =>
        /^Cannot connect to NATS/.test(error.message) && !error.message.includes("wrong"),
    );
  },
});
