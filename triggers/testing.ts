/**
 * Test helpers of the triggers layer for any layer's tests (server/, cli/, tests/): a real,
 * throwaway nats-server with JetStream. Not part of the runtime API: production code imports
 * mod.ts.
 *
 * @module
 */

export {
  findNatsServer,
  ignoreWithoutNats,
  type NatsServer,
  startNatsServer,
  type StartNatsServerOptions,
} from "./_nats_server.ts";
