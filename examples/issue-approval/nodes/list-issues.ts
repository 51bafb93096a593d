import type { Context } from "pipedreamer";

/** An issue, reduced to what the summary needs. */
export interface Issue {
  number: number;
  title: string;
  labels: string[];
}

/** Open issues of `input.repo` ("owner/name"), newest first, pull requests left out. */
export default async function listIssues(ctx: Context, input: { repo: string }) {
  const perPage = Number(ctx.config.maxIssues ?? 10);
  const res = await ctx.fetch(
    "github",
    `/repos/${input.repo}/issues?state=open&per_page=${perPage}`,
  );
  if (!res.ok) throw new Error(`Cannot list issues of "${input.repo}": HTTP ${res.status}`);
  const issues = await res.json() as {
    number: number;
    title: string;
    labels: { name: string }[];
    pull_request?: unknown;
  }[];
  return {
    repo: input.repo,
    issues: issues.filter((i) => i.pull_request === undefined).map((i): Issue => ({
      number: i.number,
      title: i.title,
      labels: i.labels.map((l) => l.name),
    })),
  };
}
