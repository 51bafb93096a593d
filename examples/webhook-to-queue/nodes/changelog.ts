import type { Context } from "pipedreamer";

/** What `summarize` returns. */
export interface PushSummary {
  repo: string;
  branch: string;
  pusher: string;
  total: number;
  commits: { id: string; title: string; author: string }[];
}

/** Sink: the summary as a short changelog text. */
export default function changelog(_ctx: Context, summary: PushSummary) {
  const noun = summary.total === 1 ? "commit" : "commits";
  const lines = summary.commits.map((c) => `- ${c.id} ${c.title} (${c.author})`);
  const more = summary.total > summary.commits.length
    ? [`- … and ${summary.total - summary.commits.length} more`]
    : [];
  return {
    repo: summary.repo,
    branch: summary.branch,
    text: [
      `${summary.pusher} pushed ${summary.total} ${noun} to ${summary.repo}@${summary.branch}`,
      ...lines,
      ...more,
    ]
      .join("\n"),
  };
}
