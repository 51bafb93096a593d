import type { Context } from "pipedreamer";

interface Stats {
  count: number;
  min: number;
  max: number;
  mean: number;
  median: number;
  stdev: number;
}

/** One readable line from the Python node's output. */
export default function format(_ctx: Context, stats: Stats) {
  return {
    ...stats,
    text: `${stats.count} numbers from ${stats.min} to ${stats.max}: ` +
      `mean ${stats.mean}, median ${stats.median}, stdev ${stats.stdev}`,
  };
}
