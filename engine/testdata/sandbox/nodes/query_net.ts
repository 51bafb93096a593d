/** Reports the state of the net permission for each host. */
export default async function run(_ctx: unknown, input: { hosts: string[] }) {
  const states: Record<string, string> = {};
  for (const host of input.hosts) {
    states[host] = (await Deno.permissions.query({ name: "net", host })).state;
  }
  return states;
}
