/**
 * Test support shared across layers (never imported by production code).
 *
 * @module
 */

export * from "./spawn_server.ts";
export * from "./ignore_without.ts";
export * from "./nats_server.ts";
export * from "./postgres_server.ts";
export * from "./fake_clock.ts";
export * from "./wait_for.ts";
export * from "./dag.ts";
export * from "./test_runner.ts";
