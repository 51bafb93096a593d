import { strict as assert } from "node:assert";
import { createProgressRenderer, formatBytes } from "./_progress.ts";

const digest = `sha256:${"1a2b3c4d5e6f".padEnd(64, "0")}`;

Deno.test("`createProgressRenderer()` prints start and finish lines when stderr is not a terminal", () => {
  let out = "";
  const render = createProgressRenderer((t) => out += t);
  render({ kind: "step", message: "Pushing x" });
  render({
    kind: "transfer",
    direction: "push",
    digest,
    state: "started",
    bytes: 0,
    total: 3 * 1024 * 1024,
  });
  render({
    kind: "transfer",
    direction: "push",
    digest,
    state: "progress",
    bytes: 1024,
    total: 3 * 1024 * 1024,
  });
  render({
    kind: "transfer",
    direction: "push",
    digest,
    state: "done",
    bytes: 3 * 1024 * 1024,
    total: 3 * 1024 * 1024,
  });
  render({ kind: "transfer", direction: "push", digest, state: "exists", bytes: 5, total: 5 });
  assert.equal(
    out,
    "Pushing x\npushing sha256:1a2b3c4d5e6f (3.0 MiB)\npushing sha256:1a2b3c4d5e6f done\nsha256:1a2b3c4d5e6f already in the registry\n",
  );
});

Deno.test("`createProgressRenderer()` redraws one line per blob on a terminal", () => {
  let out = "";
  const render = createProgressRenderer((t) => out += t, { tty: true });
  render({ kind: "transfer", direction: "push", digest, state: "started", bytes: 0, total: 2048 });
  render({
    kind: "transfer",
    direction: "push",
    digest,
    state: "progress",
    bytes: 1024,
    total: 2048,
  });
  render({ kind: "step", message: "next" });
  assert.equal(out, "\rpushing sha256:1a2b3c4d5e6f  1.0 KiB / 2.0 KiB  50%\nnext\n");
});

Deno.test("`formatBytes()` picks the unit", () => {
  assert.deepEqual([formatBytes(12), formatBytes(2048), formatBytes(5 * 1024 * 1024)], [
    "12 B",
    "2.0 KiB",
    "5.0 MiB",
  ]);
});
