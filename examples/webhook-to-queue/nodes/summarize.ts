import type { Context } from "pipedreamer";

/** The fields of GitHub's push event this workflow reads. */
export interface PushEvent {
  ref: string;
  repository: { full_name: string };
  pusher?: { name?: string };
  commits: { id: string; message: string; author?: { name?: string } }[];
}

/** Root node: the push event (the webhook body, as published to the subject) → a summary. */
export default function summarize(ctx: Context, push: PushEvent) {
  const branch = push.ref.replace(/^refs\/(heads|tags)\//, "");
  const max = Number(ctx.config.maxCommits ?? 10);
  const commits = push.commits.slice(0, max).map((commit) => ({
    id: commit.id.slice(0, 7),
    title: commit.message.split("\n", 1)[0] ?? "",
    author: commit.author?.name ?? "unknown",
  }));
  ctx.log.info("push received", {
    repo: push.repository.full_name,
    branch,
    commits: commits.length,
  });
  return {
    repo: push.repository.full_name,
    branch,
    pusher: push.pusher?.name ?? "unknown",
    total: push.commits.length,
    commits,
  };
}
