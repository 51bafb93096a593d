import assert from "node:assert/strict";
import { pinByDigest, readBuildRecord, writeBuildRecord } from "./_build_record.ts";

const DIGEST = `sha256:${"ab".repeat(32)}`;

Deno.test("deploy pins the image build --push pushed for this version by its digest", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assert.equal(await readBuildRecord(dir), undefined);
    const image = "ghcr.io/acme/hello:1.0.0";
    await writeBuildRecord(dir, { image, digest: DIGEST, version: "1.0.0" });
    const record = await readBuildRecord(dir);
    assert.equal(pinByDigest(image, "1.0.0", record), `${image}@${DIGEST}`);
    // Another version, another image, or an image already pinned: unchanged.
    assert.equal(pinByDigest(image, "1.1.0", record), image);
    assert.equal(
      pinByDigest("ghcr.io/acme/other:1.0.0", "1.0.0", record),
      "ghcr.io/acme/other:1.0.0",
    );
    assert.equal(pinByDigest(`${image}@${DIGEST}`, "1.0.0", record), `${image}@${DIGEST}`);
    await Deno.writeTextFile(`${dir}/.pipedreamer/build.json`, "{ not json");
    assert.equal(await readBuildRecord(dir), undefined, "a broken record pins nothing");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
