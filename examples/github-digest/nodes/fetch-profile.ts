import type { Context } from "pipedreamer";

/** The user's public profile. `github.token` in secrets is sent as a Bearer token. */
export default async function fetchProfile(ctx: Context, input: { user: string }) {
  const res = await ctx.fetch("github", `/users/${encodeURIComponent(input.user)}`);
  if (!res.ok) throw new Error(`Cannot fetch GitHub user "${input.user}": HTTP ${res.status}`);
  const user = await res.json() as { login: string; name: string | null; public_repos: number };
  return { login: user.login, name: user.name ?? user.login, publicRepos: user.public_repos };
}
