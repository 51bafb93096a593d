/** Allocates until its heap limit ends it. */
export default function run(): never {
  const hoard: number[][] = [];
  for (;;) hoard.push(new Array(100_000).fill(1));
}
