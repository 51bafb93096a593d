/**
 * Decides whether a fixture passed, from what it produced.
 *
 * @module
 */

import { isDeepStrictEqual } from "node:util";
import { canonicalJson, jsonDiff } from "./_json_diff.ts";
import type { Fixture } from "./_fixture_file.ts";

/** What a fixture produced: an output, or the failure message. */
export interface Outcome {
  output?: unknown;
  error?: string;
  routes?: string[];
}

/** Whether a fixture passed and, if not, why. */
export interface Verdict {
  passed: boolean;
  /** One line (secrets redacted). */
  failure?: string;
  /** Expected vs actual (secrets redacted). */
  diff?: string;
}

/** Requests no fixture entry answered, per list. */
export interface Unmatched {
  /** `ctx.fetch` requests, as `GET github /user/repos`. */
  fetch: string[];
  /** `ctx.k8s` calls, as `GET /api/v1/pods?labelSelector=app%3Dweb`. */
  k8s: string[];
}

/** The failure line naming unmatched requests and the list to add each to; undefined if none. */
function describeUnmatched(unmatched: Unmatched): string | undefined {
  const parts: string[] = [];
  if (unmatched.fetch.length > 0) {
    parts.push(
      `unmatched request: ${unmatched.fetch.join(", ")}; add it to the fixture's "fetch" list`,
    );
  }
  if (unmatched.k8s.length > 0) {
    parts.push(
      `unmatched k8s request: ${unmatched.k8s.join(", ")}; add it to the fixture's "k8s" list`,
    );
  }
  return parts.length > 0 ? `${parts.join("; ")} or run with --live` : undefined;
}

/**
 * Judges what a fixture produced against its expectations (`error`, `routes`, `expected`).
 * An unmatched request is the root cause of whatever failed after it, so it is named first.
 */
export function judgeFixture(
  fixture: Fixture,
  outcome: Outcome,
  unmatchedRequests: Unmatched,
  redact: (text: string) => string,
): Verdict {
  const unmatched = describeUnmatched(unmatchedRequests);
  const fail = (failure: string, diff?: string): Verdict => ({
    passed: false,
    failure: redact(failure),
    diff: diff === undefined ? undefined : redact(diff),
  });
  if (fixture.error !== undefined) {
    if (outcome.error === undefined) {
      return fail(`expected a failure containing "${fixture.error}", but it succeeded`);
    }
    if (!outcome.error.includes(fixture.error)) {
      return fail(
        `expected a failure containing "${fixture.error}", got: ${outcome.error}` +
          (unmatched ? `; ${unmatched}` : ""),
      );
    }
    return { passed: true };
  }
  if (unmatched !== undefined) return fail(unmatched);
  if (outcome.error !== undefined) return fail(`failed: ${outcome.error}`);
  if (fixture.routes !== undefined && outcome.routes !== undefined) {
    const want = [...fixture.routes].sort();
    const got = [...outcome.routes].sort();
    if (!isDeepStrictEqual(want, got)) {
      return fail(`expected ctx.route(${want.join(", ")}), got ctx.route(${got.join(", ")})`);
    }
  }
  if (fixture.hasExpected) {
    // Fixtures are JSON: compare the output as JSON would carry it (undefined fields vanish).
    const actual = outcome.output === undefined
      ? undefined
      : JSON.parse(canonicalJson(outcome.output));
    if (!isDeepStrictEqual(actual, fixture.expected)) {
      return fail("output does not match expected", jsonDiff(fixture.expected, actual));
    }
  }
  return { passed: true };
}
