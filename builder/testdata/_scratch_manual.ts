import { pushHostBaseImage, startRegistry } from "./oci_tools.ts";
const reg = await startRegistry();
console.log("registry", reg.host);
await pushHostBaseImage(reg.host, "test/base", "1");
console.log("base pushed");
await Deno.writeTextFile("/tmp/reghost", reg.host);
await new Promise((r) => setTimeout(r, 3600_000));
