/**
 * The `RunStore` methods that both stores forward to their leases (epochs, fencing) and
 * durable state (map items, steps, waits): `SqliteStore` and `PostgresStore` inherit them and
 * supply the per-dialect parts (_sqlite_leases.ts / _postgres_leases.ts,
 * _sqlite_durable.ts / _postgres_durable.ts).
 *
 * @module
 */

import type { RunStore } from "./run_store.ts";

/** A store's lease part. */
export type LeaseOps = Pick<
  RunStore,
  "claimLease" | "renewLease" | "releaseLease" | "listClaimable"
>;

/** A store's durable-state part. */
export type DurableOps = Pick<
  RunStore,
  | "putMapItem"
  | "listMapItems"
  | "getStep"
  | "putStep"
  | "putWait"
  | "listWaits"
  | "listDueWaits"
  | "resolveWait"
  | "requeueParked"
>;

/** The forwarding methods, inherited by both stores. */
export abstract class DurableMethods {
  protected abstract readonly durable: DurableOps;
  protected abstract readonly leases: LeaseOps;
  readonly claimRun: RunStore["claimRun"] = async (runId, owner, leaseMs) =>
    (await this.leases.claimLease(runId, owner, leaseMs)) !== undefined;
  readonly claimLease: RunStore["claimLease"] = (...a) => this.leases.claimLease(...a);
  readonly renewLease: RunStore["renewLease"] = (...a) => this.leases.renewLease(...a);
  readonly releaseLease: RunStore["releaseLease"] = (...a) => this.leases.releaseLease(...a);
  readonly listClaimable: RunStore["listClaimable"] = (...a) => this.leases.listClaimable(...a);
  readonly putMapItem: RunStore["putMapItem"] = (...a) => this.durable.putMapItem(...a);
  readonly listMapItems: RunStore["listMapItems"] = (...a) => this.durable.listMapItems(...a);
  readonly getStep: RunStore["getStep"] = (...a) => this.durable.getStep(...a);
  readonly putStep: RunStore["putStep"] = (...a) => this.durable.putStep(...a);
  readonly putWait: RunStore["putWait"] = (...a) => this.durable.putWait(...a);
  readonly listWaits: RunStore["listWaits"] = (...a) => this.durable.listWaits(...a);
  readonly listDueWaits: RunStore["listDueWaits"] = (...a) => this.durable.listDueWaits(...a);
  readonly resolveWait: RunStore["resolveWait"] = (...a) => this.durable.resolveWait(...a);
  readonly requeueParked: RunStore["requeueParked"] = (...a) => this.durable.requeueParked(...a);
}
