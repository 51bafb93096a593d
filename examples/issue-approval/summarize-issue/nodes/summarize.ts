import type { Context } from "pipedreamer";

/** One issue → its digest line, e.g. "#12 Crash on start [bug, p1]". */
export default function summarize(
  _ctx: Context,
  issue: { number: number; title: string; labels?: string[] },
) {
  const labels = issue.labels?.length ? ` [${issue.labels.join(", ")}]` : "";
  return { number: issue.number, line: `#${issue.number} ${issue.title.trim()}${labels}` };
}
