/**
 * Entry script of a sandbox worker (see engine/runners/worker_runner.ts): the node host of
 * engine/runners/_node_host.ts over `postMessage`, spinning for the next call when idle.
 *
 * @module
 */

import { startNodeHost } from "./_node_host.ts";
import type { FromWorker, Posted, ToWorker, WorkerInit } from "./_worker_protocol.ts";

interface WorkerScope {
  postMessage(message: Posted<FromWorker>): void;
  onmessage: ((event: MessageEvent<Posted<ToWorker> | WorkerInit>) => void) | null;
}
const scope = globalThis as unknown as WorkerScope;
const postMessage = scope.postMessage.bind(scope);

let bell: Int32Array | undefined;
let idleSpinMs = 0;
/** Moving average of whether a spin caught the next call (1) or ran out (0). */
let hitRate = 1;
/** Times the worker ran out of calls without spinning, since the last spin. */
let skipped = 0;

/** While spins mostly miss, one idle moment in this many still spins, to notice a change. */
const PROBE_EVERY = 16;

/**
 * With no call left, keeps the thread awake a moment for the next one (see WorkerInit), but
 * only while that mostly catches it: when the host takes longer (a busy server), spinning
 * would only take a CPU from it.
 */
function spinForNextCall(running: number): void {
  if (bell === undefined || idleSpinMs <= 0 || running > 0) return;
  if (hitRate < 0.5 && ++skipped < PROBE_EVERY) return;
  skipped = 0;
  const rung = Atomics.load(bell, 0);
  const until = performance.now() + idleSpinMs;
  while (Atomics.load(bell, 0) === rung && performance.now() < until) {
    // Busy on purpose: the host's next post ends it.
  }
  hitRate += ((Atomics.load(bell, 0) !== rung ? 1 : 0) - hitRate) / 8;
}

const receive = startNodeHost({
  post: postMessage,
  afterPost: spinForNextCall,
  refuseClose: true,
});

scope.onmessage = (event) => {
  const data = event.data;
  if (data.t === "init") {
    bell = new Int32Array(data.bell);
    idleSpinMs = data.idleSpinUs / 1000;
    return;
  }
  receive(data);
};
