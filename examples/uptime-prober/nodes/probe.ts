import type { Context } from "pipedreamer";

/** One endpoint to probe: a declared service and a path. */
export interface Endpoint {
  name: string;
  service: string;
  path: string;
}

/** Probes every endpoint of `config.endpoints` once, in parallel. */
export default async function probe(ctx: Context) {
  const endpoints = (ctx.config.endpoints ?? []) as Endpoint[];
  const slowMs = Number(ctx.config.slowMs ?? 2000);
  return await Promise.all(endpoints.map(async (e) => {
    const started = Date.now();
    try {
      const res = await ctx.fetch(e.service, e.path, { method: "GET", signal: ctx.signal });
      await res.body?.cancel();
      return {
        name: e.name,
        up: res.status < 400,
        status: res.status,
        slow: Date.now() - started > slowMs,
      };
    } catch (error) {
      ctx.log.warn("probe failed", { endpoint: e.name });
      return { name: e.name, up: false, status: 0, slow: false, error: (error as Error).message };
    }
  }));
}
