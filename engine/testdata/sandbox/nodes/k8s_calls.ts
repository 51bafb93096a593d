import type { Context } from "pipedreamer";

/** One `ctx.k8s` call the test asks for. */
interface K8sCall {
  op: "get" | "list" | "request";
  path: string;
  method?: string;
  body?: unknown;
  selectors?: { labelSelector?: string; fieldSelector?: string };
}

/**
 * Makes `ctx.k8s` calls and reports what came back: values, or each error's shape. With
 * `rethrow`, the first error fails the node. Without `ctx.k8s`, says so.
 */
export default async function run(
  ctx: Context,
  input: { calls: K8sCall[]; rethrow?: boolean },
) {
  const k8s = ctx.k8s;
  if (k8s === undefined) return { k8s: "absent", keyInCtx: "k8s" in ctx };
  const results: unknown[] = [];
  ctx.log.info("calling", { count: input.calls.length });
  for (const call of input.calls) {
    try {
      if (call.op === "get") results.push({ value: await k8s.get(call.path) });
      else if (call.op === "list") {
        results.push({ value: await k8s.list(call.path, call.selectors) });
      } else {
        results.push({ value: await k8s.request(call.method ?? "GET", call.path, call.body) });
      }
    } catch (error) {
      if (input.rethrow) throw error;
      const e = error as Error & { status?: number; reason?: string; nonRetryable?: boolean };
      results.push({
        error: {
          name: e.name,
          message: e.message,
          status: e.status,
          reason: e.reason,
          nonRetryable: e.nonRetryable === true,
        },
      });
    }
  }
  return { namespace: k8s.namespace, keys: Object.keys(k8s).sort(), results };
}
