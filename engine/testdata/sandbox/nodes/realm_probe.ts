/** An innocent node: reports what it can see of other nodes' globals. */
export default function run() {
  const g = globalThis as Record<string, unknown>;
  return {
    pwned: ({} as Record<string, unknown>).pwned ?? null,
    fetchReplaced: (g.fetch as { planted?: boolean }).planted === true,
    stash: g.stash ?? null,
  };
}
