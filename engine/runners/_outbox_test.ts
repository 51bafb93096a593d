import assert from "node:assert/strict";
import { type BatchMessage, Outbox } from "./_outbox.ts";

type Msg = { id: number; bad?: boolean };

function recorder(quietHops?: number) {
  const posts: (Msg | BatchMessage<Msg>)[] = [];
  const failures: [Msg, string][] = [];
  const outbox = new Outbox<Msg>({
    post(message) {
      const list = "t" in message ? message.messages : [message];
      if (list.some((m) => m.bad)) throw new DOMException("cannot clone", "DataCloneError");
      posts.push(message);
    },
    failed: (message, error) => failures.push([message, (error as Error).message]),
    quietHops,
  });
  return { outbox, posts, failures };
}

/** Lets every queued microtask (and the ones they queue) run. */
const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

Deno.test("`Outbox` posts the messages of one turn as one batch, in order", async () => {
  const { outbox, posts } = recorder();
  outbox.send({ id: 1 });
  outbox.send({ id: 2 });
  outbox.send({ id: 3 });
  assert.equal(posts.length, 0, "nothing goes out synchronously");
  await settle();
  assert.deepEqual(posts, [{ t: "batch", messages: [{ id: 1 }, { id: 2 }, { id: 3 }] }]);
});

Deno.test("`Outbox` posts a lone message as itself", async () => {
  const { outbox, posts } = recorder();
  outbox.send({ id: 7 });
  await settle();
  assert.deepEqual(posts, [{ id: 7 }]);
});

Deno.test("`Outbox` waits `quietHops` microtasks without a new message before posting", async () => {
  const { outbox, posts } = recorder(3);
  outbox.send({ id: 1 });
  // Two hops later another message joins the same batch.
  queueMicrotask(() => queueMicrotask(() => outbox.send({ id: 2 })));
  await settle();
  assert.deepEqual(posts, [{ t: "batch", messages: [{ id: 1 }, { id: 2 }] }]);
});

Deno.test("`Outbox` fails only the message that cannot be posted and posts the others", async () => {
  const { outbox, posts, failures } = recorder();
  outbox.send({ id: 1 });
  outbox.send({ id: 2, bad: true });
  outbox.send({ id: 3 });
  await settle();
  assert.deepEqual(posts, [{ id: 1 }, { id: 3 }]);
  assert.deepEqual(failures, [[{ id: 2, bad: true }, "cannot clone"]]);
});

Deno.test("`Outbox.flush()` posts at once and `clear()` drops what is queued", async () => {
  const { outbox, posts } = recorder();
  outbox.send({ id: 1 });
  outbox.flush();
  assert.deepEqual(posts, [{ id: 1 }]);
  outbox.send({ id: 2 });
  outbox.clear();
  await settle();
  assert.deepEqual(posts, [{ id: 1 }]);
});
