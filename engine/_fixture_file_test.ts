import assert from "node:assert/strict";
import { createFixtureFetchMock, parseFixture } from "./_fixture_file.ts";
import type { FetchRequestInfo } from "./types.ts";

function request(service: string, method: string, path: string): FetchRequestInfo {
  return { service, method, path, url: `https://x${path}`, headers: {} };
}

Deno.test("`parseFixture()` applies defaults to fetch entries", () => {
  const fixture = parseFixture(JSON.stringify({
    input: 1,
    fetch: [{ service: "github", path: "/user" }],
    expected: null,
  }));
  assert.equal(fixture.hasExpected, true);
  assert.equal(fixture.expected, null);
  assert.deepEqual(fixture.fetch, [{
    service: "github",
    method: "GET",
    path: "/user",
    status: 200,
    headers: undefined,
    body: undefined,
  }]);
});

Deno.test("`parseFixture()` keeps the k8s list as written, for the Kubernetes mock", () => {
  const k8s = [{ path: "/api/v1/nodes", query: { labelSelector: "a=b" }, body: { items: [] } }];
  assert.deepEqual(parseFixture(JSON.stringify({ k8s, expected: 1 })).k8s, k8s);
  assert.equal(parseFixture("{}").k8s, undefined);
});

for (
  const [name, doc, message] of [
    ["invalid JSON", "{", /invalid JSON/],
    ["a non-object", "[]", /must be an object/],
    ["an unknown key", '{"expect": 1}', /unknown key "expect"; allowed keys: /],
    ["expected with error", '{"expected": 1, "error": "x"}', /either "expected" or "error"/],
    ["a fetch entry without path", '{"fetch": [{"service": "a"}]}', /fetch\[0\] needs/],
    ["an unknown fetch key", '{"fetch": [{"service": "a", "path": "/", "times": 2}]}', /"times"/],
    ["routes that are not strings", '{"routes": [1]}', /"routes" must be a list/],
    [
      "a k8s value that is not a list",
      '{"k8s": {"path": "/api/v1/nodes"}}',
      /"k8s" must be a list/,
    ],
  ] as const
) {
  Deno.test(`\`parseFixture()\` rejects ${name}`, () => {
    assert.throws(() => parseFixture(doc), (error: Error) => {
      assert.ok(error instanceof TypeError);
      assert.match(error.message, /^Cannot read fixture/);
      assert.match(error.message, message);
      return true;
    });
  });
}

Deno.test("`createFixtureFetchMock()` matches service, method and path; a query only when given", async () => {
  const { mock, unmatched } = createFixtureFetchMock(
    parseFixture(JSON.stringify({
      fetch: [
        { service: "github", path: "/user/repos", body: ["any query"] },
        { service: "github", path: "/search?q=x", body: ["exact query"] },
        { service: "slack", method: "post", path: "/hook", status: 204 },
      ],
    })).fetch,
  );
  assert.deepEqual((await mock(request("github", "GET", "/user/repos?page=2"))).body, [
    "any query",
  ]);
  assert.deepEqual((await mock(request("github", "get", "/search?q=x"))).body, ["exact query"]);
  assert.equal((await mock(request("slack", "POST", "/hook"))).status, 204);
  await assert.rejects(
    mock(request("github", "GET", "/search?q=y")),
    /Cannot fetch GET github \/search\?q=y: no entry/,
  );
  await assert.rejects(mock(request("slack", "GET", "/hook")), /GET slack \/hook/);
  assert.deepEqual(unmatched, ["GET github /search?q=y", "GET slack /hook"]);
});

Deno.test("`createFixtureFetchMock()` answers same-request entries in order, the last repeating", async () => {
  const { mock } = createFixtureFetchMock(
    parseFixture(JSON.stringify({
      fetch: [
        { service: "api", path: "/x", status: 500 },
        { service: "api", path: "/x", status: 200 },
      ],
    })).fetch,
  );
  const statuses = [];
  for (let i = 0; i < 4; i++) statuses.push((await mock(request("api", "GET", "/x"))).status);
  assert.deepEqual(statuses, [500, 200, 200, 200]);
});
