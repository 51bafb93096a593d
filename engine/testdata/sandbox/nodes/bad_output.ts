/** Returns something that cannot leave the sandbox. */
export default function run() {
  return { fn: () => 1 };
}
