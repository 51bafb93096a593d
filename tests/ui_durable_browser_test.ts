/**
 * The dashboard's durable views in a real browser (Debian's chromium, headless, playwright-core)
 * against a real `pipedreamer serve`: a run parked at a wait for approval shows what it waits
 * for, and Approve (with a comment) resumes it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { chromium } from "playwright-core";
import { ignoreWhenMissing } from "../testing/mod.ts";
import { startServe } from "./_serve.ts";

const CHROMIUM = "/usr/bin/chromium";
const hasChromium = await Deno.stat(CHROMIUM).then((s) => s.isFile, () => false);
const ignore = ignoreWhenMissing(
  !hasChromium,
  `tests/ui_durable_browser_test.ts: ${CHROMIUM} is missing (apt-get install -y chromium)`,
);

Deno.test({
  name: "dashboard: a run waiting for approval shows it and Approve with a comment resumes it",
  ignore,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "pipedreamer-ui-durable-" });
    const profile = await Deno.makeTempDir({ prefix: "pipedreamer-chromium-" });
    try {
      const dir = `${root}/durable-wait`;
      await Deno.mkdir(`${dir}/nodes`, { recursive: true });
      const source = new URL("./testdata/durable-wait/", import.meta.url).pathname;
      await Deno.copyFile(`${source}/workflow.yaml`, `${dir}/workflow.yaml`);
      for (const file of ["start.ts", "post.ts"]) {
        await Deno.copyFile(`${source}/nodes/${file}`, `${dir}/nodes/${file}`);
      }
      await using server = await startServe([
        "serve",
        dir,
        ...["--port", "0", "--host", "127.0.0.1", "--data", `${root}/data`, "--no-auth"],
      ]);
      const submitted = await fetch(`${server.url}/runs`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      const { runId } = await submitted.json();

      const context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
        viewport: { width: 1280, height: 860 },
      });
      const errors: string[] = [];
      try {
        const page = context.pages()[0] ?? await context.newPage();
        page.on("pageerror", (error) => errors.push(error.message));
        await page.goto(`${server.url}/#/runs/${runId}`);
        // The sleep first (a waiting node with its due time), then the wait for approval.
        const panel = page.getByRole("region", { name: "Waiting" });
        await panel.getByText(/waits\s+for the event\s+approval/).waitFor({ timeout: 60_000 });
        // The graph shows the node's state and what it waits for.
        await page.getByRole("button", { name: /^approve: waiting · for approval until / })
          .waitFor();
        await page.getByRole("button", { name: /^nap: succeeded/ }).waitFor();
        // The approval's answer is held until the page has shown the run's end: the answer (the
        // run still running) arrives after the stream's end event and must not revive the run.
        const status = page.locator("#run-status");
        await page.route(`**/runs/${runId}/events/approval`, async (route) => {
          const response = await route.fetch();
          await status.getByText("succeeded").waitFor({ timeout: 60_000 });
          await route.fulfill({ response });
        });
        await panel.getByLabel("Comment").fill("looks good");
        await panel.getByRole("button", { name: "Approve" }).click();
        await page.getByText("Approved.").waitFor({ timeout: 60_000 });
        await status.getByText("succeeded").waitFor();
        const record = await (await fetch(`${server.url}/runs/${runId}`)).json();
        assert.equal(record.status, "succeeded");
        assert.deepEqual(record.result, { posted: true, comment: "looks good" });
        assert.deepEqual(record.nodes.approve.output, { approved: true, comment: "looks good" });
      } finally {
        await context.close();
      }
      assert.deepEqual(errors, [], "the page threw");
    } finally {
      await Deno.remove(profile, { recursive: true }).catch(() => {});
      await Deno.remove(root, { recursive: true });
    }
  },
});
