import type { Context } from "pipedreamer";

/** A pull request, reduced to what the summary needs. */
export interface PullRequest {
  number: number;
  title: string;
  author: string;
  url: string;
  draft: boolean;
  body: string;
}

/** Open pull requests of `input.repo` ("owner/name"), newest first. */
export default async function fetchPrs(ctx: Context, input: { repo: string }) {
  const perPage = Number(ctx.config.maxPrs ?? 10);
  const res = await ctx.fetch(
    "github",
    `/repos/${input.repo}/pulls?state=open&sort=created&direction=desc&per_page=${perPage}`,
  );
  if (!res.ok) throw new Error(`Cannot list pull requests of "${input.repo}": HTTP ${res.status}`);
  const pulls = await res.json() as {
    number: number;
    title: string;
    user: { login: string };
    html_url: string;
    draft?: boolean;
    body: string | null;
  }[];
  ctx.log.info("pull requests listed", { repo: input.repo, count: pulls.length });
  const prs: PullRequest[] = pulls.map((p) => ({
    number: p.number,
    title: p.title,
    author: p.user.login,
    url: p.html_url,
    draft: p.draft ?? false,
    body: (p.body ?? "").slice(0, 500),
  }));
  return { repo: input.repo, prs };
}
