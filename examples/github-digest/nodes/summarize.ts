import type { Context } from "pipedreamer";

interface Input {
  "fetch-profile": { login: string; name: string; publicRepos: number };
  "fetch-repos": { name: string; url: string; description: string; stars: number }[];
}

/** Joins profile and repositories into a Slack message (fan-in: input keyed by parent). */
export default function summarize(_ctx: Context, input: Input) {
  const profile = input["fetch-profile"];
  const repos = input["fetch-repos"];
  const lines = repos.map((r) =>
    `• <${r.url}|${r.name}> ★${r.stars}${r.description ? ` — ${r.description}` : ""}`
  );
  return {
    text: [
      `*${profile.name}* (${profile.publicRepos} public repositories), recently pushed:`,
      ...lines,
    ].join("\n"),
    repos: repos.length,
  };
}
