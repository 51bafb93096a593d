import { strict as assert } from "node:assert";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { createTar, gzip, sourceDateEpoch, type TarEntry } from "./_tar.ts";
import { assertTools, ignoreWithout, run } from "./testdata/oci_tools.ts";

const text = (s: string) => new TextEncoder().encode(s);

const ENTRIES: TarEntry[] = [
  { path: "app/bin/tool", type: "file", mode: 0o755, data: text("#!/bin/sh\necho hi\n") },
  { path: "app/engine/main.js", type: "file", data: text("console.log(1)\n") },
  { path: "app/link", type: "symlink", linkname: "bin/tool" },
  { path: `app/${"deep/".repeat(30)}file.txt`, type: "file", data: text("deep") },
  { path: `app/${"x".repeat(120)}.txt`, type: "file", data: text("long name") },
  { path: "tmp", type: "directory", mode: 0o1777 },
];

Deno.test("`createTar()` gives the same bytes for the same entries in any order", () => {
  const a = createTar(ENTRIES, { mtime: 0 });
  const b = createTar([...ENTRIES].reverse(), { mtime: 0 });
  assert.deepEqual(a, b);
  assert.equal(a.length % 512, 0);
  assert.notDeepEqual(createTar(ENTRIES, { mtime: 1 }), a);
});

Deno.test("`gzip()` is deterministic and round-trips", () => {
  const tar = createTar(ENTRIES, { mtime: 0 });
  const once = gzip(tar);
  assert.deepEqual(gzip(tar), once);
  // No mtime and no file name in the gzip header.
  assert.deepEqual([...once.subarray(4, 8)], [0, 0, 0, 0]);
  assert.deepEqual(new Uint8Array(gunzipSync(once)), tar);
});

Deno.test({
  name:
    "`createTar()` writes what GNU tar reads: parents, modes, owners, mtime, symlinks, long names",
  ignore: ignoreWithout(["tar"], "tar listing"),
  async fn() {
    assertTools(["tar"]);
    const dir = await Deno.makeTempDir();
    try {
      const archive = join(dir, "layer.tar");
      await Deno.writeFile(archive, createTar(ENTRIES, { mtime: 1_700_000_000 }));
      const { stdout } = await run("tar", [
        "--list",
        "--verbose",
        "--numeric-owner",
        "--full-time",
        "--utc",
        "--file",
        archive,
      ]);
      const lines = stdout.trim().split("\n");
      const names = lines.map((l) => l.split(/\s+/).slice(5).join(" "));
      assert.deepEqual(names.slice(0, 4), ["app/", "app/bin/", "app/bin/tool", "app/deep/"]);
      assert.ok(names.includes("app/link -> bin/tool"));
      assert.ok(names.includes(`app/${"deep/".repeat(30)}file.txt`));
      assert.ok(names.includes(`app/${"x".repeat(120)}.txt`));
      assert.ok(lines.every((l) => l.includes(" 0/0 ") && l.includes("2023-11-14 22:13:20")));
      assert.match(lines.find((l) => l.endsWith("app/bin/tool"))!, /^-rwxr-xr-x /);
      assert.match(lines.find((l) => l.endsWith("app/engine/main.js"))!, /^-rw-r--r-- /);
      assert.match(lines.find((l) => l.endsWith(" tmp/"))!, /^drwxrwxrwt /);

      await Deno.mkdir(join(dir, "out"));
      await run("tar", ["--extract", "--file", archive, "--directory", join(dir, "out")]);
      assert.equal(
        await Deno.readTextFile(join(dir, "out", `app/${"x".repeat(120)}.txt`)),
        "long name",
      );
      assert.equal(await Deno.readTextFile(join(dir, "out/app/link")), "#!/bin/sh\necho hi\n");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("`createTar()` rejects unsafe and ambiguous entries", async (t) => {
  const cases: [string, TarEntry[], RegExp][] = [
    ["an absolute path", [{ path: "/etc/passwd", type: "file", data: text("") }], /relative/],
    ["a .. component", [{ path: "app/../etc", type: "directory" }], /relative/],
    ["a duplicate", [
      { path: "a", type: "directory" },
      { path: "a/", type: "directory" },
    ], /duplicate path/],
    ["a file without data", [{ path: "a", type: "file" }], /needs data/],
    ["a symlink without target", [{ path: "a", type: "symlink" }], /needs a linkname/],
  ];
  for (const [name, entries, message] of cases) {
    await t.step(name, () => {
      assert.throws(
        () => createTar(entries, { mtime: 0 }),
        (e) => e instanceof TypeError && message.test(e.message),
      );
    });
  }
});

Deno.test("`sourceDateEpoch()` reads SOURCE_DATE_EPOCH and rejects garbage", () => {
  const previous = Deno.env.get("SOURCE_DATE_EPOCH");
  try {
    Deno.env.delete("SOURCE_DATE_EPOCH");
    assert.equal(sourceDateEpoch(), 0);
    Deno.env.set("SOURCE_DATE_EPOCH", "1700000000");
    assert.equal(sourceDateEpoch(), 1_700_000_000);
    Deno.env.set("SOURCE_DATE_EPOCH", "yesterday");
    assert.throws(() => sourceDateEpoch(), /Cannot use SOURCE_DATE_EPOCH "yesterday"/);
  } finally {
    if (previous === undefined) Deno.env.delete("SOURCE_DATE_EPOCH");
    else Deno.env.set("SOURCE_DATE_EPOCH", previous);
  }
});
