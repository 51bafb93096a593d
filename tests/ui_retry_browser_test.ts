/**
 * The dashboard's retry and timeline in a real browser (Debian's chromium, headless, through
 * playwright-core) against `pipedreamer serve`: the timeline of a failed run, the attempt
 * history in the node panel, "Retry from failed node" and "Re-run from here". With
 * UI_SCREENSHOTS=docs the timeline screenshots of the docs are refreshed.
 *
 * @module
 */

import assert from "node:assert/strict";
import { chromium, type Page } from "playwright-core";
import { ignoreWhenMissing } from "../testing/mod.ts";
import { startServe } from "./_serve.ts";
import { Counter, flakyProject } from "./_flaky.ts";

const CHROMIUM = "/usr/bin/chromium";
const hasChromium = await Deno.stat(CHROMIUM).then((s) => s.isFile, () => false);
const ignore = ignoreWhenMissing(
  !hasChromium,
  `tests/ui_retry_browser_test.ts: ${CHROMIUM} is missing (apt-get install -y chromium)`,
);
const shots = Deno.env.get("UI_SCREENSHOTS") ??
  await Deno.makeTempDir({ prefix: "pipedreamer-ui-shots-" });

function graphNode(page: Page, id: string, state: string) {
  return page.getByRole("button", { name: new RegExp(`^${id}: ${state}`) });
}

Deno.test({
  name: "dashboard: timeline, attempt history, Retry from failed node and Re-run from here",
  ignore,
  async fn() {
    await using counter = new Counter();
    await using project = await flakyProject(counter);
    await using server = await startServe([
      "serve",
      project.dir,
      ...["--port", "0", "--host", "127.0.0.1", "--no-auth"],
      ...["--data", project.data, "--config-dir", project.configDir],
    ]);
    counter.failing.add("middle");
    const failed = await (await fetch(`${server.url}/run`, { method: "POST", body: '{"n":1}' }))
      .json();
    assert.equal(failed.status, "failed");

    const profile = await Deno.makeTempDir({ prefix: "pipedreamer-chromium-" });
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
      viewport: { width: 1280, height: 900 },
    });
    const errors: string[] = [];
    try {
      const page = context.pages()[0] ?? await context.newPage();
      page.on("pageerror", (error) => errors.push(error.message));

      // The runs list shows the error and an input preview.
      await page.goto(`${server.url}/`);
      const row = page.locator(`tr[data-run="${failed.runId}"]`);
      await row.waitFor();
      assert.match(await row.innerText(), /"n":\s?1/);
      assert.match(await row.innerText(), /refusal #2/);
      await page.goto(`${server.url}/#/runs/${failed.runId}`);

      // The failed run: its timeline shows both attempts of middle and the wait between them.
      await page.locator("#run-status").getByText("failed").waitFor();
      const timeline = page.locator("svg.timeline");
      await timeline.waitFor();
      const middleBars = timeline.locator('g.tl-attempt[data-node="middle"]');
      assert.equal(await middleBars.count(), 2);
      assert.equal(await timeline.locator("g.tl-attempt.status-failed").count(), 2);
      assert.equal(await timeline.locator('g.tl-retry-wait[data-node="middle"]').count(), 1);
      await graphNode(page, "middle", "failed").click();
      const detail = page.getByRole("complementary", { name: "Node details" });
      const attempts = detail.locator("table.attempts tbody tr");
      await attempts.first().waitFor();
      assert.equal(await attempts.count(), 2);
      assert.match(await attempts.nth(0).innerText(), /refusal #1/);
      assert.match(await attempts.nth(1).innerText(), /refusal #2/);
      await page.locator("#timeline").screenshot({ path: `${shots}/timeline-failed.png` });
      await page.screenshot({ path: `${shots}/run-failed.png`, fullPage: true });

      // Retry from the failed node: first is reused (not called again), middle and last run.
      counter.failing.clear();
      await page.getByRole("button", { name: "Retry from failed node" }).click();
      await page.waitForURL((url) => !url.hash.includes(failed.runId));
      await page.locator("#run-status").getByText("succeeded").waitFor();
      const retryId = page.url().split("/").at(-1)!;
      assert.equal(counter.count("first"), 1);
      assert.equal(counter.count("middle", retryId), 1);
      await page.locator("svg.timeline").getByText(/output reused from run/).waitFor();
      assert.match(await page.locator("#run-header").innerText(), /Retry of/i);
      await page.locator("#timeline").screenshot({ path: `${shots}/timeline-retry.png` });

      // Re-run from here on the last node: only last runs again.
      await graphNode(page, "last", "succeeded").click();
      await detail.getByRole("button", { name: "Re-run from here" }).click();
      await page.waitForURL((url) => !url.hash.includes(retryId));
      await page.locator("#run-status").getByText("succeeded").waitFor();
      const fromId = page.url().split("/").at(-1)!.split("/")[0]!;
      assert.equal(counter.count("middle", fromId), 0);
      assert.equal(counter.count("last", fromId), 1);
      assert.equal(counter.count("first"), 1);
      console.log(`timeline screenshots: ${shots}`);
    } finally {
      await context.close();
      await Deno.remove(profile, { recursive: true });
    }
    assert.deepEqual(errors, [], "the page threw");
  },
});
