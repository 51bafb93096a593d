/** Always throws. */
export default function run(_ctx: unknown, input: { message: string }) {
  throw new RangeError(input.message);
}
