import assert from "node:assert/strict";
import { join } from "node:path";
import { CanarySplit, isCanaryRun, parseCanaryFile } from "./_canary.ts";
import { runCountsOf } from "./_canary_routes.ts";

Deno.test("isCanaryRun(): every share from 1 to 99 is exact over any 100 consecutive runs", () => {
  for (let p = 1; p <= 99; p++) {
    for (const start of [0, 1, 37, 100, 12_345]) {
      let canary = 0;
      for (let n = start; n < start + 100; n++) if (isCanaryRun(n, p)) canary++;
      assert.equal(canary, p, `p=${p} from run ${start}`);
    }
  }
  // 10 %: runs 9, 19, 29, … (the 10th, 20th, …).
  assert.deepEqual(
    [...Array(30).keys()].filter((n) => isCanaryRun(n, 10)),
    [9, 19, 29],
  );
});

Deno.test("parseCanaryFile() accepts a canary or nothing and names what is wrong", () => {
  assert.equal(parseCanaryFile("", "f"), undefined);
  assert.equal(parseCanaryFile("{}", "f"), undefined);
  assert.deepEqual(
    parseCanaryFile('{"url":"http://c.ns.svc:8080/","percent":5,"version":"1.1.0"}', "f"),
    { url: "http://c.ns.svc:8080", percent: 5, version: "1.1.0" },
  );
  const bad: [string, RegExp][] = [
    ["{", /Cannot read canary file f: /],
    ["[]", /expected a JSON object/],
    ['{"url":"ftp://x","percent":5,"version":"1"}', /"url" must be an http\(s\) base URL/],
    ['{"url":"http://x/path","percent":5,"version":"1"}', /"url" must be an http\(s\) base URL/],
    [
      '{"url":"http://x","percent":0,"version":"1"}',
      /"percent" must be an integer from 1 to 99, got 0/,
    ],
    ['{"url":"http://x","percent":"5","version":"1"}', /"percent" must be an integer/],
    ['{"url":"http://x","percent":5}', /"version" must be a non-empty string/],
    ['{"url":"http://x","percent":5,"version":"1","extra":1}', /unknown field "extra"/],
  ];
  for (const [text, message] of bad) assert.throws(() => parseCanaryFile(text, "f"), message);
});

Deno.test("CanarySplit re-reads its file: a new canary starts a new sequence; a bad file is no canary", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "canary.json");
    const errors: string[] = [];
    const split = new CanarySplit(file, { onError: (e) => errors.push(String(e)) });
    assert.equal(await split.decide(), undefined, "no file: no canary");
    const write = async (value: unknown) => {
      await Deno.writeTextFile(`${file}.tmp`, JSON.stringify(value));
      await Deno.rename(`${file}.tmp`, file);
    };
    await write({ url: "http://c:1", percent: 50, version: "2" });
    const decided = [];
    for (let i = 0; i < 4; i++) decided.push((await split.decide())?.version ?? "live");
    assert.deepEqual(decided, ["live", "2", "live", "2"]);
    // A repeated key goes where it went; a key that could not reach the canary stays live.
    assert.equal((await split.decide("k"))?.version, undefined);
    assert.equal((await split.decide("k"))?.version, undefined);
    assert.equal((await split.decide("j"))?.version, "2");
    split.tookBack("j");
    assert.equal((await split.decide("j"))?.version, undefined);
    assert.deepEqual(split.routed(), { live: 4, canary: 2 });
    await write({ url: "http://c:1", percent: 25, version: "2" });
    assert.deepEqual(split.routed(), { live: 4, canary: 2 }, "read on the next decision only");
    const next = [];
    for (let i = 0; i < 4; i++) next.push((await split.decide())?.version ?? "live");
    assert.deepEqual(next, ["live", "live", "live", "2"]);
    assert.deepEqual(split.routed(), { live: 3, canary: 1 });
    await Deno.writeTextFile(file, "not json");
    assert.equal(await split.decide(), undefined);
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /Cannot read canary file/);
    await Deno.remove(file);
    assert.equal(await split.target(), undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runCountsOf() sums pipedreamer_runs_total by status into a failure rate", () => {
  const text = [
    "# HELP pipedreamer_runs_total Runs finished, by final status.",
    'pipedreamer_runs_total{workflow="w",status="succeeded"} 7',
    'pipedreamer_runs_total{workflow="w",status="failed"} 2',
    'pipedreamer_runs_total{workflow="w",status="cancelled"} 1',
    'pipedreamer_runs_in_flight{workflow="w"} 3',
  ].join("\n");
  assert.deepEqual(runCountsOf(text), {
    finished: { succeeded: 7, failed: 2, cancelled: 1 },
    total: 10,
    failed: 2,
    failureRate: 0.2,
  });
  assert.deepEqual(runCountsOf(""), { finished: {}, total: 0, failed: 0, failureRate: null });
});
