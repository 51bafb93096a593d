import type { Context } from "pipedreamer";

export default function run(_ctx: Context, repos: { name: string }[]) {
  return repos.map((repo) => repo.name);
}
