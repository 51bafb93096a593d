/**
 * The web dashboard in a real browser: Debian's chromium driven headless by playwright-core,
 * against the real CLI (`pipedreamer dev` and `pipedreamer serve`) in a subprocess. Assertions
 * read what the page shows (roles, labels, text), as a user would. Screenshots go to
 * $UI_SCREENSHOTS (default: a temp dir, printed).
 *
 * @module
 */

import assert from "node:assert/strict";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import type { LogLine, RunRecord } from "../engine/mod.ts";
import { openStore } from "../store/mod.ts";
import { ignoreWhenMissing } from "../testing/mod.ts";
import { ROOT } from "./_cli.ts";
import { CallbackServer, gatedProject, gatedServeArgs, startServe } from "./_serve.ts";

const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const hasChromium = await Deno.stat(CHROMIUM).then((s) => s.isFile, () => false);
const ignore = ignoreWhenMissing(
  !hasChromium,
  `tests/ui_browser_test.ts: ${CHROMIUM} is missing (apt-get install -y chromium)`,
);

const shots = Deno.env.get("UI_SCREENSHOTS") ??
  await Deno.makeTempDir({ prefix: "pipedreamer-ui-shots-" });

/** A fresh browser profile (new, empty user-data-dir), closed and removed on dispose. */
async function openBrowser(): Promise<
  { context: BrowserContext; page: Page; [Symbol.asyncDispose](): Promise<void> }
> {
  assert.ok(hasChromium, `Cannot run the browser tests: ${CHROMIUM} is missing (CI=true)`);
  const profile = await Deno.makeTempDir({ prefix: "pipedreamer-chromium-" });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1280, height: 860 },
  });
  const page = context.pages()[0] ?? await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  return {
    context,
    page,
    async [Symbol.asyncDispose]() {
      await context.close();
      await Deno.remove(profile, { recursive: true });
      assert.deepEqual(errors, [], "the page threw");
    },
  };
}

/** A copy of an example (dev keeps its store inside the workflow directory). */
async function exampleCopy(name: string) {
  const root = await Deno.makeTempDir({ prefix: "pipedreamer-ui-" });
  const dir = `${root}/${name}`;
  const copy = async (from: string, to: string) => {
    await Deno.mkdir(to, { recursive: true });
    for await (const entry of Deno.readDir(from)) {
      if (entry.name === ".pipedreamer") continue;
      if (entry.isDirectory) await copy(`${from}/${entry.name}`, `${to}/${entry.name}`);
      else await Deno.copyFile(`${from}/${entry.name}`, `${to}/${entry.name}`);
    }
  };
  await copy(`${ROOT}/examples/${name}`, dir);
  return { dir, [Symbol.asyncDispose]: () => Deno.remove(root, { recursive: true }) };
}

/** The accessible name of the graph node `id`, as a screen reader reads it. */
function graphNode(page: Page, id: string, state: string) {
  return page.getByRole("button", { name: new RegExp(`^${id}: ${state}`) });
}

/** The page's `document`, as far as {@link waitForRows} reads it. */
type RowsDocument = {
  document: { querySelectorAll(selector: string): ArrayLike<{ textContent: string | null }> };
};

/** Waits until the runs table shows exactly `count` runs, each containing `text`. */
function waitForRows(page: Page, count: number, text = ""): Promise<unknown> {
  return page.waitForFunction(([count, text]) => {
    const rows = Array.from(
      (globalThis as unknown as RowsDocument).document.querySelectorAll(
        "table.runs tbody tr[data-run]",
      ),
    );
    return rows.length === count && rows.every((row) => row.textContent?.includes(text));
  }, [count, text] as const);
}

Deno.test({
  name: "dashboard in `dev`: schema errors inline, a run's live graph, node output, workflow page",
  ignore,
  async fn() {
    await using example = await exampleCopy("routing");
    await using server = await startServe(["dev", example.dir, "--port", "0"]);
    await using browser = await openBrowser();
    const { page } = browser;
    await page.goto(`${server.url}/`);
    await page.getByRole("heading", { name: "Runs of routing 1.0.0" }).waitFor();
    assert.equal(await page.getByRole("heading", { name: "Sign in" }).count(), 0);

    // The input schema requires "text": the server's 400 details appear next to the field.
    const field = page.getByLabel("Run input (JSON)");
    await field.fill("{}");
    await page.getByRole("button", { name: "Start run" }).click();
    await page.getByRole("alert").getByText("must have required property 'text'").waitFor();
    assert.equal(await field.getAttribute("aria-invalid"), "true");
    await field.fill("{ not json");
    await page.getByRole("button", { name: "Start run" }).click();
    await page.getByRole("alert").getByText(/The input is not valid JSON/).waitFor();

    await field.fill('{"text": "the app crashes when I click save"}');
    await page.getByRole("button", { name: "Start run" }).click();
    await page.waitForURL(/#\/runs\/[0-9a-f-]{36}$/);
    await page.locator("#run-status").getByText("succeeded").waitFor();
    await graphNode(page, "classify", "succeeded").waitFor();
    await graphNode(page, "handle-bug", "succeeded").waitFor();
    await graphNode(page, "handle-feature", "skipped").waitFor();
    await graphNode(page, "reply", "succeeded").waitFor();

    await graphNode(page, "classify", "succeeded").click();
    const detail = page.getByRole("complementary", { name: "Node details" });
    await detail.getByRole("heading", { name: /Node classify/ }).waitFor();
    const output = JSON.parse(await detail.getByTestId("node-output").innerText());
    assert.deepEqual(output, { text: "the app crashes when I click save", kind: "bug" });
    assert.match(await detail.innerText(), /Routed to\s+handle-bug/i);
    assert.match(await page.locator("#run-log").innerText(), /classify\s+ticket classified/);
    await page.screenshot({ path: `${shots}/run-dev.png`, fullPage: true });

    await page.getByRole("link", { name: "Workflow" }).click();
    await page.getByRole("heading", { name: "Workflow routing" }).waitFor();
    const text = await page.locator("main").innerText();
    assert.match(text, /Triggers\s+manual/);
    assert.match(text, /[0-9a-f]{64}/, "no code hash");
    assert.match(text, /handle-bug\s+module nodes\/handle-bug\.ts\s+none/);
    await graphNode(page, "reply", "module").waitFor();
    await page.screenshot({ path: `${shots}/workflow.png`, fullPage: true });

    // A phone: nothing wider than the screen.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole("link", { name: "Runs", exact: true }).click();
    await page.getByRole("heading", { name: "Runs of routing 1.0.0" }).waitFor();
    const [scrollWidth, width] = await page.evaluate<[number, number]>(
      "[document.documentElement.scrollWidth, innerWidth]",
    );
    assert.ok(scrollWidth <= width, `the page scrolls sideways on a phone (${scrollWidth})`);
    await page.screenshot({ path: `${shots}/runs-phone.png`, fullPage: true });
    console.log(`dashboard screenshots: ${shots}`);
  },
});

Deno.test({
  name: "dashboard in `serve`: token once per session, live nodes, output, cancel, re-run, list",
  ignore,
  async fn() {
    await using callback = new CallbackServer();
    await using project = await gatedProject(callback);
    await using server = await startServe(gatedServeArgs(project));
    await using browser = await openBrowser();
    const { page, context } = browser;
    const requests: { url: string; status: number }[] = [];
    page.on("response", (r) => requests.push({ url: r.url(), status: r.status() }));

    // Without the token: the shell loads, the data does not, and the page asks for the token.
    await page.goto(`${server.url}/`);
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    assert.ok(requests.some((r) => r.url.endsWith("/api/workflow") && r.status === 401));
    assert.equal(await page.locator("table").count(), 0);
    assert.doesNotMatch(await page.locator("body").innerText(), /gated/);
    await page.getByLabel("API token").fill("wrong");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").getByText("The server rejected the token").waitFor();
    await page.getByLabel("API token").fill(project.token);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Runs of gated 1.0.0" }).waitFor();
    assert.equal(
      await page.evaluate(() => sessionStorage.getItem("pipedreamer.token")),
      project.token,
    );
    assert.equal(await page.evaluate(() => localStorage.length), 0);
    assert.deepEqual(await context.cookies(), []);

    // Start a run from the form; watch its nodes change state live.
    callback.hold("first");
    callback.hold("middle");
    await page.getByLabel("Run input (JSON)").fill('{"n": 1}');
    await page.getByRole("button", { name: "Start run" }).click();
    await page.waitForURL(/#\/runs\/[0-9a-f-]{36}$/);
    const runId = page.url().split("/").at(-1)!;
    await page.evaluate(() => ((globalThis as { marker?: number }).marker = 1));
    await graphNode(page, "first", "running").waitFor();
    await graphNode(page, "middle", "pending").waitFor();
    await page.locator("#run-status").getByText("running").waitFor();
    callback.release("first");
    await graphNode(page, "first", "succeeded").waitFor();
    await graphNode(page, "middle", "running").waitFor();
    assert.equal(await page.evaluate(() => (globalThis as { marker?: number }).marker), 1);
    await page.locator("#announcer").getByText("Node middle running").waitFor({
      state: "attached",
    });

    // Open a node's output with the keyboard: focus, arrows, Enter.
    await graphNode(page, "first", "succeeded").focus();
    await page.keyboard.press("Enter");
    const detail = page.getByRole("complementary", { name: "Node details" });
    await detail.getByRole("heading", { name: /Node first/ }).waitFor();
    const output = JSON.parse(await detail.getByTestId("node-output").innerText());
    assert.deepEqual(output, { n: 1, first: { node: "first", call: 1 } });
    assert.match(await detail.innerText(), /Input\s+\{\s+"n": 1\s+\}/);
    assert.match(await detail.innerText(), /released first/);
    await page.keyboard.press("ArrowRight");
    await page.keyboard.press("Enter");
    await detail.getByRole("heading", { name: /Node middle/ }).waitFor();
    assert.match(await detail.innerText(), /Not finished yet/);
    await page.screenshot({ path: `${shots}/run-live.png`, fullPage: true });

    // Cancel the running run.
    await page.getByRole("button", { name: "Cancel run" }).click();
    await page.locator("#run-status").getByText("cancelled").waitFor();
    await graphNode(page, "middle", "cancelled").waitFor();
    await page.getByRole("button", { name: "Re-run with the same input" }).waitFor();

    // Re-run it with the same input: a new run page, its first node live again.
    callback.hold("first");
    await page.getByRole("button", { name: "Re-run with the same input" }).click();
    await page.waitForURL((url) =>
      /#\/runs\/[0-9a-f-]{36}$/.test(url.hash) && !url.hash.includes(runId)
    );
    const rerunId = page.url().split("/").at(-1)!;
    await graphNode(page, "first", "running").waitFor();
    const rerun = await fetch(`${server.url}/runs/${rerunId}`, {
      headers: { authorization: `Bearer ${project.token}` },
    }).then((r) => r.json());
    assert.deepEqual(rerun.input, { n: 1 });

    // The runs list: both runs, a filter, and a new run appearing live.
    await page.getByRole("link", { name: "Runs", exact: true }).click();
    const rows = page.locator("table.runs tbody tr");
    await page.locator(`tr[data-run="${runId}"]`).getByText("cancelled").waitFor();
    await page.locator(`tr[data-run="${rerunId}"]`).getByText("running").waitFor();
    const started = await fetch(`${server.url}/runs`, {
      method: "POST",
      headers: { authorization: `Bearer ${project.token}`, "content-type": "application/json" },
      body: '{"n": 2}',
    }).then((r) => r.json());
    await page.locator(`tr[data-run="${started.runId}"]`).waitFor();
    assert.equal(await rows.count(), 3);
    callback.release("first");
    callback.release("middle");
    await page.locator(`tr[data-run="${started.runId}"]`).getByText("succeeded").waitFor();
    await page.getByLabel("Status").selectOption("cancelled");
    await page.waitForURL(/#\/\?status=cancelled$/);
    await waitForRows(page, 1);
    assert.equal(await page.locator(`tr[data-run="${runId}"]`).count(), 1);
    await page.screenshot({ path: `${shots}/runs.png`, fullPage: true });

    // The token lives in this tab's session only: never in a URL; a new tab asks again.
    assert.ok(requests.every((r) => !r.url.includes(project.token)), "the token leaked into a URL");
    await page.reload();
    await page.getByRole("heading", { name: "Runs of gated 1.0.0" }).waitFor();
    const other = await context.newPage();
    await other.goto(`${server.url}/`);
    await other.getByRole("heading", { name: "Sign in" }).waitFor();
    await other.close();
    await page.getByRole("button", { name: "Forget token" }).click();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem("pipedreamer.token")), null);
  },
});

Deno.test({
  name: "dashboard pages through 10,000 runs 50 at a time, filtered on the server",
  ignore,
  async fn() {
    await using example = await exampleCopy("routing");
    const store = await openStore(undefined, { dataDir: `${example.dir}/.pipedreamer` });
    const base = Date.parse("2025-01-01T00:00:00.000Z");
    for (let i = 0; i < 10_000; i++) {
      await store.createRun({
        runId: crypto.randomUUID(),
        workflow: "routing",
        version: "1.0.0",
        status: i % 100 === 0 ? "failed" : "succeeded",
        input: { text: `ticket ${i}` },
        nodes: {},
        trigger: i % 2 === 0 ? "manual" : "cron",
        startedAt: new Date(base + i * 1000).toISOString(),
        durationMs: 5,
      });
    }
    await store.close();
    await using server = await startServe(["dev", example.dir, "--port", "0"]);
    await using browser = await openBrowser();
    const { page } = browser;
    const listCalls: string[] = [];
    page.on("request", (r) => {
      if (new URL(r.url()).pathname === "/runs") listCalls.push(new URL(r.url()).search);
    });
    const rows = page.locator("table.runs tbody tr[data-run]");
    const ids = () => rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-run")));

    await page.goto(`${server.url}/`);
    await rows.first().waitFor();
    assert.equal(await rows.count(), 50);
    const first = await ids();
    await page.getByRole("link", { name: "Older →" }).click();
    await page.waitForURL(/cursor=/);
    await page.getByRole("link", { name: "← Newer" }).waitFor();
    const second = await ids();
    assert.equal(second.length, 50);
    assert.ok(second.every((id) => !first.includes(id)), "the second page repeats runs");
    await page.getByRole("link", { name: "← Newer" }).click();
    await page.waitForURL(/#\/$/);
    await page.locator(".pager [aria-disabled=true]", { hasText: "Newer" }).waitFor();
    assert.deepEqual(await ids(), first);

    await page.getByLabel("Status").selectOption("failed");
    await page.waitForURL(/status=failed$/);
    // A full page of failed runs only: the filter is applied by the server.
    await waitForRows(page, 50, "failed");
    assert.ok(listCalls.length >= 4);
    assert.ok(listCalls.every((q) => /(^|[?&])limit=50(&|$)/.test(q)), listCalls.join(" "));
  },
});

/** The graph's texts that reach past their node box (as rendered, before any clipping). */
function graphLabelOverflow(page: Page): Promise<string[]> {
  return page.locator("#graph g.node").evaluateAll((groups) =>
    groups.flatMap((g) => {
      const box = g.querySelector("rect.node-box")!.getBoundingClientRect();
      return Array.from(g.querySelectorAll("text"), (text) => text as typeof g).flatMap((text) => {
        const r = text.getBoundingClientRect();
        return r.right > box.right - 2 || r.left < box.left
          ? [`${g.getAttribute("data-node")}: "${text.textContent}" ${r.right} > ${box.right}`]
          : [];
      });
    })
  );
}

Deno.test({
  name:
    "dashboard timeline draws every attempt of a retried node; runs search by id and date; error and input columns; log filter",
  ignore,
  async fn() {
    await using example = await exampleCopy("routing");
    let clock = Date.parse("2025-01-10T12:00:00.000Z");
    const store = await openStore(undefined, {
      dataDir: `${example.dir}/.pipedreamer`,
      now: () => clock,
    });
    const t = (ms: number) => new Date(Date.parse("2025-01-20T09:00:00.000Z") + ms).toISOString();
    // One bar per attempt: classify failed twice (with waits before its retries), then passed.
    const nodes = {
      classify: {
        status: "succeeded",
        attempts: 3,
        startedAt: t(0),
        finishedAt: t(6_000),
        durationMs: 1_000,
        output: { kind: "bug" },
        history: [
          {
            attempt: 1,
            status: "failed",
            startedAt: t(0),
            finishedAt: t(1_000),
            error: { message: "HTTP 503" },
          },
          {
            attempt: 2,
            status: "failed",
            startedAt: t(2_000),
            finishedAt: t(3_000),
            error: { message: "HTTP 502" },
          },
          { attempt: 3, status: "succeeded", startedAt: t(5_000), finishedAt: t(6_000) },
        ],
      },
      // No history (an older record): one bar from the node's own start and finish.
      "handle-bug": {
        status: "failed",
        attempts: 1,
        startedAt: t(6_000),
        finishedAt: t(9_500),
        // Longer than the bar (time spent outside attempts): the box's longest status line.
        durationMs: 65_000,
        error: { message: "tracker said no" },
      },
      "handle-feature": { status: "skipped", attempts: 0 },
      "handle-question": { status: "skipped", attempts: 0 },
      reply: { status: "skipped", attempts: 0 },
    };
    const older = "0a000000-0000-4000-8000-000000000001";
    await store.createRun({
      runId: older,
      workflow: "routing",
      version: "1.0.0",
      status: "succeeded",
      input: { text: "an old question" },
      nodes: {},
      trigger: "manual",
      startedAt: "2025-01-10T12:00:00.000Z",
      durationMs: 5,
    });
    clock = Date.parse("2025-01-20T09:00:00.000Z");
    const retried = "7f000000-0000-4000-8000-000000000002";
    await store.createRun({
      runId: retried,
      workflow: "routing",
      version: "1.0.0",
      status: "failed",
      input: { text: "the export button crashes", customer: "ACME" },
      error: { node: "handle-bug", message: "tracker said no" },
      nodes: nodes as unknown as RunRecord["nodes"],
      trigger: "manual",
      startedAt: t(0),
      finishedAt: t(9_600),
      durationMs: 9_600,
    });
    const log = (ms: number, node: string | undefined, level: LogLine["level"], msg: string) => ({
      ts: t(ms),
      level,
      msg,
      runId: retried,
      ...(node === undefined ? {} : { node }),
    });
    await store.appendLogs(retried, [
      log(0, "classify", "info", "classifying"),
      log(1_000, "classify", "warn", "upstream 503, retrying"),
      log(5_500, "classify", "debug", "labels: bug"),
      log(7_000, "handle-bug", "info", "filing the bug"),
      log(9_500, "handle-bug", "error", "tracker said no"),
      log(9_600, undefined, "warn", "run failed at handle-bug"),
    ]);
    await store.close();

    await using server = await startServe(["dev", example.dir, "--port", "0"]);
    await using browser = await openBrowser();
    const { page } = browser;
    const listCalls: string[] = [];
    page.on("request", (r) => {
      if (new URL(r.url()).pathname === "/runs") listCalls.push(new URL(r.url()).search);
    });

    // The timeline: a bar per attempt, failures as failures, the waits between them.
    await page.goto(`${server.url}/#/runs/${retried}`);
    const timeline = page.getByRole("group", { name: /^Timeline of run 7f000000/ });
    await timeline.waitFor();
    const bars = (node: string) =>
      page.locator(`#timeline .tl-bar[data-node="${node}"]`).evaluateAll((els) =>
        els.map((el) =>
          [
            el.getAttribute("data-kind"),
            el.getAttribute("data-attempt"),
            el.getAttribute("data-status"),
            // Drawn, not collapsed: the bar has a visible width.
            (el.querySelector("rect")?.getBoundingClientRect().width ?? 0) > 1,
          ].join(" ")
        )
      );
    assert.deepEqual(await bars("classify"), [
      "attempt 1 failed true",
      "retry-wait  waiting true",
      "attempt 2 failed true",
      "retry-wait  waiting true",
      "attempt 3 succeeded true",
    ]);
    assert.deepEqual(await bars("handle-bug"), ["attempt 1 failed true"]);
    assert.deepEqual(await bars("reply"), []);
    await timeline.locator(".tl-note", { hasText: "skipped" }).first().waitFor();
    // Failed attempts are drawn in the failure colour, the success in another.
    const fills = await page.locator('#timeline .tl-bar[data-node="classify"] rect').evaluateAll(
      (rects) =>
        rects.map((r) =>
          (globalThis as unknown as { getComputedStyle(e: unknown): { fill: string } })
            .getComputedStyle(r).fill
        ),
    );
    assert.equal(fills[0], fills[2]);
    assert.notEqual(fills[0], fills[4]);
    assert.equal(
      await page.locator('#timeline .tl-bar[data-attempt="1"] title').first().textContent(),
      `classify · attempt 1 · failed · 1.0 s\nfrom ${t(0)}\nto ${t(1_000)}\nHTTP 503`,
    );
    const card = page.locator("section", { has: page.locator("#timeline") });
    await card.screenshot({ path: `${shots}/timeline.png` });
    // `UI_TIMELINE_SHOT=docs/img/timeline.png` refreshes the picture in docs/server.md.
    const docShot = Deno.env.get("UI_TIMELINE_SHOT");
    if (docShot) await card.screenshot({ path: docShot });
    await page.screenshot({ path: `${shots}/run-timeline.png`, fullPage: true });
    // Clicking a row selects its node.
    await page.locator('#timeline .tl-row[data-node="handle-bug"] .tl-label').click();
    await page.waitForURL(/\/nodes\/handle-bug$/);
    await page.getByRole("heading", { name: /^Node handle-bug/ }).waitFor();

    // No graph label leaves its box (long status lines are cut, the tooltip keeps them).
    await page.locator("#graph .node-meta", { hasText: "failed · 1 min 05 s" }).waitFor();
    assert.deepEqual(await graphLabelOverflow(page), []);

    // The run log filtered by node and by level.
    const logLines = () => page.locator("#run-log .log-msg").allTextContents();
    await page.getByText("run failed at handle-bug").waitFor();
    assert.equal((await logLines()).length, 6);
    await page.getByLabel("Node", { exact: true }).selectOption("classify");
    assert.deepEqual(await logLines(), ["classifying", "upstream 503, retrying", "labels: bug"]);
    await page.getByLabel("Level", { exact: true }).selectOption("warn");
    assert.deepEqual(await logLines(), ["upstream 503, retrying"]);
    await page.getByText("1 of 6 lines shown").waitFor();
    await page.getByLabel("Node", { exact: true }).selectOption("");
    assert.deepEqual(await logLines(), [
      "upstream 503, retrying",
      "tracker said no",
      "run failed at handle-bug",
    ]);
    await page.getByLabel("Node", { exact: true }).selectOption("handle-feature");
    await page.getByText("No log lines match the filter.").waitFor();

    // The runs list: error and input columns, search by id prefix, filter by day.
    await page.goto(`${server.url}/`);
    await waitForRows(page, 2);
    const row = page.locator(`tr[data-run="${retried}"]`);
    assert.equal(
      await row.locator(".cell-error").textContent(),
      "handle-bug: tracker said no",
    );
    assert.equal(
      await row.locator(".cell-preview").textContent(),
      '{"text":"the export button crashes","customer":"ACME"}',
    );
    await page.getByLabel("Run id").fill("0a00");
    await page.getByLabel("Run id").press("Enter");
    await page.waitForURL(/q=0a00/);
    await waitForRows(page, 1, "0a000000");
    assert.match(listCalls.at(-1)!, /[?&]q=0a00(&|$)/);
    await page.getByRole("link", { name: "Clear" }).click();
    await waitForRows(page, 2);
    await page.getByLabel("From").fill("2025-01-15");
    await page.waitForURL(/since=2025-01-15/);
    await waitForRows(page, 1, "7f000000");
    assert.match(listCalls.at(-1)!, /[?&]since=2025-01-1[45]T/);
    await page.getByLabel("to", { exact: true }).fill("2025-01-19");
    await page.getByText("No runs match the search.").waitFor();
    await page.screenshot({ path: `${shots}/runs-search.png`, fullPage: true });

    await page.getByRole("link", { name: "Workflow" }).click();
    await page.locator("#graph g.node").first().waitFor();
    assert.deepEqual(await graphLabelOverflow(page), []);
  },
});
