/**
 * What tests/testdata/hostile's report must say when every hostile node was contained; shared
 * by the engine's own (tests/containment_e2e_test.ts) and the image's
 * (tests/image_containment_e2e_test.ts) containment tests.
 *
 * @module
 */

import assert from "node:assert/strict";

/** The hostile workflow's directory, from the repository root. */
export const HOSTILE_DIR = "tests/testdata/hostile";

/** Asserts the `report` node's result: each hostile node failed alone, saying why. */
export function assertContained(result: Record<string, unknown>): void {
  assert.equal(
    result.bomb,
    'Cannot run node "bomb": it exceeded its memory limit of 48 MiB; raise limits: { memory: … } ' +
      "on the node in workflow.yaml if it needs more",
  );
  assert.equal(result.killer, "every kill was refused: NotCapable, NotCapable, NotCapable");
  assert.match(
    String(result.suicide),
    /^Cannot run node "suicide": its sandbox process was killed by signal SIGKILL/,
  );
}
