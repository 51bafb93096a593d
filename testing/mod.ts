/**
 * Test support shared across layers (never imported by production code).
 *
 * @module
 */

export * from "./spawn_server.ts";
