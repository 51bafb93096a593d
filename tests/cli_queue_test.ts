import assert from "node:assert/strict";
import { headers as natsHeaders } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { connectNats, DeadLetterHeader } from "../triggers/mod.ts";
import { ignoreWithoutNats, startNatsServer } from "../testing/mod.ts";
import { assertExit, cli, ROOT, stdoutJson } from "./_cli.ts";

const ignore = ignoreWithoutNats();

/** A server with stream EVENTS (events.push + its dead letters) holding what the test puts in. */
async function withEvents(fn: (url: string) => Promise<void>) {
  await using server = await startNatsServer();
  const nc = await connectNats(server.url);
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "EVENTS", subjects: ["events.push", "events.push.dlq"] });
    const js = jsm.jetstream();
    for (const [i, error] of ['node "a": boom', 'node "a": bang'].entries()) {
      const h = natsHeaders();
      h.set("Content-Type", "application/json");
      h.set(DeadLetterHeader.OriginalSubject, "events.push");
      h.set(DeadLetterHeader.Error, error);
      h.set(DeadLetterHeader.RunId, `run-${i}`);
      h.set(DeadLetterHeader.DeliveryCount, "5");
      await js.publish("events.push.dlq", JSON.stringify({ i }), { headers: h });
    }
    await fn(server.url);
  } finally {
    await nc.close();
  }
}

async function messages(url: string, subject: string): Promise<string[]> {
  const nc = await connectNats(url);
  try {
    const jsm = await jetstreamManager(nc);
    const out: string[] = [];
    const last = (await jsm.streams.info("EVENTS")).state.last_seq;
    for (let seq = 1; seq <= last; seq++) {
      const m = await jsm.streams.getMessage("EVENTS", { seq }).catch(() => null);
      if (m?.subject === subject) out.push(new TextDecoder().decode(m.data));
    }
    return out;
  } finally {
    await nc.close();
  }
}

Deno.test({
  name: "`pipedreamer dlq list` prints the dead letters, as text and as JSON",
  ignore,
  fn: () =>
    withEvents(async (url) => {
      const text = await cli(["dlq", "list", "events.push.dlq", "--nats-url", url]);
      assertExit(text, 0);
      const lines = text.stdout.trimEnd().split("\n");
      assert.equal(lines.length, 3);
      assert.match(
        lines[0]!,
        /^1 {2}\S+ {2}events\.push {2}deliveries 5 {2}run run-0 {2}node "a": boom$/,
      );
      assert.equal(lines[2], "2 dead letters on events.push.dlq");

      const json = await cli(["dlq", "list", "events.push.dlq", "--limit", "1", "-o", "json"], {
        env: { NATS_URL: url },
      });
      assertExit(json, 0);
      const letters = stdoutJson<Record<string, unknown>[]>(json);
      assert.equal(letters.length, 1);
      assert.equal(letters[0]!.text, '{"i":0}');
      assert.equal(letters[0]!.originalSubject, "events.push");
      assert.equal(letters[0]!.deliveryCount, 5);
    }),
});

Deno.test({
  name: "`pipedreamer dlq replay` republishes to the original subject and removes the letter",
  ignore,
  fn: () =>
    withEvents(async (url) => {
      const result = await cli([
        "dlq",
        "replay",
        "events.push.dlq",
        "--limit",
        "1",
        "--nats-url",
        url,
      ]);
      assertExit(result, 0);
      assert.equal(result.stdout, "1 → events.push (seq 3)\n1 dead letter replayed\n");
      assert.deepEqual(await messages(url, "events.push"), ['{"i":0}']);
      assert.deepEqual(await messages(url, "events.push.dlq"), ['{"i":1}']);
    }),
});

Deno.test({
  name: "`pipedreamer replay --subject` republishes what the stream stored since an age",
  ignore,
  fn: () =>
    withEvents(async (url) => {
      const result = await cli(
        [
          "replay",
          "--subject",
          "events.push.dlq",
          "--since",
          "1h",
          "--nats-url",
          url,
          "-o",
          "json",
        ],
      );
      assertExit(result, 0);
      const [report] = stdoutJson<
        { subject: string; messages: { seq: number; replayedSeq: number }[] }[]
      >(result);
      assert.deepEqual(report!.messages.map((m) => [m.seq, m.replayedSeq]), [[1, 3], [2, 4]]);
      assert.equal((await messages(url, "events.push.dlq")).length, 4);

      const dry = await cli([
        "replay",
        "--subject",
        "events.push.dlq",
        "--since",
        "2000-01-01T00:00:00Z",
        "--dry-run",
        "--limit",
        "1",
        "--nats-url",
        url,
      ]);
      assertExit(dry, 0);
      assert.match(
        dry.stderr,
        /events\.push\.dlq: would replay 1 message since 2000-01-01T00:00:00\.000Z/,
      );
    }),
});

for (
  const [name, args, code, pattern] of [
    [
      "a bad --since",
      ["replay", "--subject", "a", "--since", "yesterday"],
      2,
      /Cannot use --since "yesterday": expected an ISO time/,
    ],
    [
      "a missing --since",
      ["replay", "--subject", "a"],
      2,
      /required option '--since <time>' not specified/,
    ],
    ["a bad --limit", ["dlq", "list", "a.dlq", "--limit", "0"], 2, /Cannot use --limit "0"/],
    [
      "a workflow without a JetStream trigger",
      ["replay", `${ROOT}/examples/hello-world`, "--since", "1h"],
      1,
      /Cannot replay workflow "hello-world": it has no queue trigger with stream:/,
    ],
    [
      "an unreachable server",
      ["dlq", "list", "a.dlq", "--nats-url", "nats://127.0.0.1:1"],
      1,
      /^Error: Cannot connect to NATS at "nats:\/\/127\.0\.0\.1:1"/,
    ],
  ] as const
) {
  Deno.test(`\`pipedreamer ${args[0]}\` exits ${code} for ${name}`, async () => {
    const result = await cli([...args]);
    assertExit(result, code);
    assert.match(result.stderr, pattern);
    assert.doesNotMatch(result.stderr, /\n\s+at /, "no stack trace");
  });
}
