import type { Context } from "pipedreamer";

/** Turns `"3, 1, 4"` into `{ numbers: [3, 1, 4] }`; rejects anything that is not a number. */
export default function parse(ctx: Context, input: { csv?: string } | undefined) {
  const csv = input?.csv ?? "3,1,4,1,5,9,2,6";
  const numbers = csv.split(",").map((part) => {
    const value = Number(part.trim());
    if (part.trim() === "" || !Number.isFinite(value)) {
      throw new Error(`Cannot parse "${part.trim()}" as a number`);
    }
    return value;
  });
  ctx.log.info("parsed", { count: numbers.length });
  return { numbers };
}
