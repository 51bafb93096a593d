import process from "node:process";

/** Writes to stdout through every API a node has: each must become a log line. */
export default async function run() {
  console.log("console.log line");
  await Deno.stdout.write(new TextEncoder().encode("Deno.stdout line\n"));
  process.stdout.write("process.stdout line\n");
  let stdin = "readable";
  try {
    Deno.stdin.readSync(new Uint8Array(1));
  } catch (error) {
    stdin = (error as Error).message;
  }
  return { stdin };
}
