import type { Context } from "pipedreamer";

interface Probe {
  name: string;
  up: boolean;
  status: number;
  slow: boolean;
}

/** Up/down summary of one probe round. */
export default function report(ctx: Context, probes: Probe[]) {
  const down = probes.filter((p) => !p.up).map((p) => p.name);
  const slow = probes.filter((p) => p.up && p.slow).map((p) => p.name);
  if (down.length > 0) ctx.log.error("endpoints down", { down });
  return { checked: probes.length, up: probes.length - down.length, down, slow };
}
