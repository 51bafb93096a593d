/** Writes to the console. */
export default function run() {
  console.log("hello", { a: 1 });
  console.error("oops");
  return "done";
}
