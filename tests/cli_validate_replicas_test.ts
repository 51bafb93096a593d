import assert from "node:assert/strict";
import { assertExit, cli, stdoutJson } from "./_cli.ts";

const WORKFLOW = `name: tenants
version: 1.0.0
nodes:
  a: { path: ./nodes/a.ts }
concurrency: { key: /tenant, maxRuns: 2, maxRunsTotal: 5 }
`;

Deno.test("`pipedreamer validate` notes that concurrency limits hold per replica when the deployment has several", async () => {
  const dir = await Deno.makeTempDir({ prefix: "pipedreamer-validate-replicas-" });
  try {
    await Deno.mkdir(`${dir}/nodes`);
    await Deno.writeTextFile(`${dir}/nodes/a.ts`, "export default () => 1;\n");
    await Deno.writeTextFile(`${dir}/workflow.yaml`, WORKFLOW);
    const single = await cli(["validate", dir, "--no-typecheck"]);
    assertExit(single, 0);
    assert.doesNotMatch(single.stdout, /note:/);

    await Deno.writeTextFile(
      `${dir}/workflow.yaml`,
      `${WORKFLOW}deployment:\n  replicas: 3\n  store: { secret: tenants-db, key: url }\n`,
    );
    const several = await cli(["validate", dir, "--no-typecheck"]);
    assertExit(several, 0);
    assert.match(
      several.stdout,
      /^note: concurrency limits hold per replica: with up to 3 replicas, maxRuns 2 per value of \/tenant allows up to 6 runs at once and maxRunsTotal 5 \(up to 15 in all\); queueLimit and startDelay also apply per replica$/m,
    );
    const json = await cli(["validate", dir, "--no-typecheck", "-o", "json"]);
    assert.match(
      (stdoutJson(json) as { notes: string[] }).notes[0]!,
      /^note: concurrency limits hold per replica/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
