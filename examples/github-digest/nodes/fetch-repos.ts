import type { Context } from "pipedreamer";

/** A repository as the GitHub API returns it (the fields used here). */
export interface Repo {
  full_name: string;
  html_url: string;
  description: string | null;
  stargazers_count: number;
  pushed_at: string;
}

/** The user's most recently pushed repositories (runs alongside fetch-profile). */
export default async function fetchRepos(ctx: Context, input: { user: string }) {
  const perPage = Number(ctx.config.repos ?? 5);
  const path = `/users/${encodeURIComponent(input.user)}/repos?sort=pushed&per_page=${perPage}`;
  const res = await ctx.fetch("github", path, {
    headers: { accept: "application/vnd.github+json" },
  });
  if (!res.ok) throw new Error(`Cannot list repositories of "${input.user}": HTTP ${res.status}`);
  const repos = await res.json() as Repo[];
  ctx.log.info("repositories listed", { count: repos.length });
  return repos.map((r) => ({
    name: r.full_name,
    url: r.html_url,
    description: r.description ?? "",
    stars: r.stargazers_count,
    pushedAt: r.pushed_at,
  }));
}
