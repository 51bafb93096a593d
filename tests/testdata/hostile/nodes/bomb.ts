/** Allocates until its heap limit ends its sandbox. */
export default function bomb(): never {
  const hoard: number[][] = [];
  for (;;) hoard.push(new Array(100_000).fill(1));
}
