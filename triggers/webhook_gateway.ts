/**
 * The webhook gateway: `POST /hooks/<name>` verifies the request (GitHub signature, generic
 * HMAC header or bearer token) and publishes its body to the hook's subject in JetStream; a
 * queue trigger on that subject then runs the workflow. The response carries the stream
 * sequence, so the sender can correlate.
 *
 * @module
 */

import { headers as natsHeaders, type NatsConnection } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import type { WebhookConfig } from "../engine/mod.ts";
import { verifyRequest, type VerifySpec } from "./_signature.ts";
import type { TriggerMetrics } from "./_metrics.ts";

export { DEFAULT_HMAC_HEADER } from "./_signature.ts";

/** One hook, as declared under `webhooks:` in workflow.yaml (`CompiledWorkflow.webhooks`). */
export type WebhookHookConfig = WebhookConfig;

/** Configuration of {@link createWebhookHandler}. */
export interface WebhookGatewayConfig {
  /** Hooks by name (the last path segment). */
  hooks: Record<string, WebhookHookConfig>;
  /** Loaded secrets; each hook's `secret` names one (a dotted name reaches into a map). */
  secrets: Record<string, unknown>;
  /** Larger bodies get 413. @default 5_242_880 (5 MiB) */
  maxBodyBytes?: number;
  /** Path prefix the handler serves. @default "/hooks/" */
  prefix?: string;
  /** Counts requests by hook and status. @default undefined */
  metrics?: TriggerMetrics;
}

/** Publishes one verified webhook body; resolves once the stream stored it. */
export interface WebhookPublisher {
  publish(
    subject: string,
    data: Uint8Array,
    options: { headers: Record<string, string>; msgId?: string },
  ): Promise<{ stream: string; seq: number; duplicate: boolean }>;
}

/** The `hook` label of requests to a name no hook has (one series, whatever the name). */
export const UNKNOWN_HOOK_LABEL = "(unknown)";

/** `error.code` of each status the gateway answers (the HTTP API's codes, SPEC §7). */
const ERROR_CODES: Record<number, string> = {
  401: "unauthorized",
  404: "not_found",
  405: "method_not_allowed",
  413: "payload_too_large",
  503: "unavailable",
};

/** Request headers copied onto the published message. */
const FORWARDED = ["content-type", "x-github-event", "x-github-delivery", "x-github-hook-id"];

/**
 * Builds the `/hooks/<name>` handler. Secrets are resolved now, so a missing one fails at
 * start-up rather than at the first request; they never appear in responses or errors.
 *
 * Statuses: 202 `{ hook, subject, stream, seq, duplicate }`; 401 bad or missing signature
 * (nothing published); 404 unknown hook; 405 not POST; 413 body too large; 503 publish failed.
 * Errors have the HTTP API's shape `{ error: { code, message } }`. Requests to unknown names
 * are counted under one `hook` label, {@link UNKNOWN_HOOK_LABEL}, so random names cannot grow
 * the metrics.
 *
 * @throws {TypeError} when a hook's secret is missing or not text
 * @example
 * ```ts
 * const handler = createWebhookHandler(
 *   { hooks: workflow.webhooks ?? {}, secrets },
 *   createJetStreamPublisher(nc),
 * );
 * const response = await handler(new Request("http://x/hooks/github", { method: "POST", body }));
 * ```
 */
export function createWebhookHandler(
  config: WebhookGatewayConfig,
  publisher: WebhookPublisher,
): (request: Request) => Promise<Response> {
  const prefix = config.prefix ?? "/hooks/";
  const maxBody = config.maxBodyBytes ?? 5 * 1024 * 1024;
  const specs = new Map<string, VerifySpec & { subject: string }>();
  for (const [name, hook] of Object.entries(config.hooks)) {
    specs.set(name, { ...hook, secret: resolveSecret(name, hook.secret, config.secrets) });
  }
  return async (request) => {
    const path = new URL(request.url).pathname;
    const name = decodeName(path.startsWith(prefix) ? path.slice(prefix.length) : "");
    const spec = specs.get(name);
    const label = spec ? name : UNKNOWN_HOOK_LABEL;
    const respond = (status: number, body: Record<string, unknown>, headers = {}) => {
      config.metrics?.add("pipedreamer_webhook_requests_total", { hook: label, status });
      const text = `${JSON.stringify(body, null, 2)}\n`;
      return new Response(request.method === "HEAD" ? null : text, {
        status,
        headers: {
          "content-type": "application/json; charset=utf-8",
          "content-length": String(new TextEncoder().encode(text).length),
          ...headers,
        },
      });
    };
    const fail = (status: number, message: string, headers = {}) =>
      respond(status, { error: { code: ERROR_CODES[status] ?? "internal", message } }, headers);
    if (!spec) {
      const known = [...specs.keys()].map((k) => `"${k}"`).join(", ") || "none";
      return fail(404, `Cannot find webhook "${name}": configured hooks: ${known}`);
    }
    if (request.method !== "POST") {
      // HEAD answers what GET would, without the body.
      const method = request.method === "HEAD" ? "GET" : request.method;
      return fail(405, `Cannot ${method} webhook "${name}": use POST`, {
        Allow: "POST",
      });
    }
    const body = await readBody(request, maxBody);
    if (body === undefined) {
      return fail(413, `Cannot accept webhook "${name}": the body exceeds ${maxBody} bytes`);
    }
    const problem = await verifyRequest(spec, request.headers, body);
    if (problem) return fail(401, `Cannot verify webhook "${name}": ${problem}`);
    const headers: Record<string, string> = { "Pipedreamer-Webhook": name };
    for (const key of FORWARDED) {
      const value = request.headers.get(key);
      if (value) headers[key === "content-type" ? "Content-Type" : key] = value;
    }
    const msgId = request.headers.get("x-github-delivery") ??
      request.headers.get("idempotency-key") ?? undefined;
    try {
      const ack = await publisher.publish(spec.subject, body, {
        headers,
        ...(msgId ? { msgId: `${name}:${msgId}` } : {}),
      });
      return respond(202, { hook: name, subject: spec.subject, ...ack });
    } catch (error) {
      return fail(
        503,
        `Cannot publish webhook "${name}" to "${spec.subject}": ${
          (error as Error).message
        }; retry later`,
      );
    }
  };
}

/**
 * A {@link WebhookPublisher} on JetStream: a subject that no stream stores is an error (a
 * webhook must not vanish), as is a NATS outage.
 *
 * @example
 * ```ts
 * const publisher = createJetStreamPublisher(await connectNats("nats://127.0.0.1:4222"));
 * ```
 */
export function createJetStreamPublisher(nc: NatsConnection): WebhookPublisher {
  const js = jetstream(nc);
  return {
    async publish(subject, data, options) {
      const h = natsHeaders();
      for (const [key, value] of Object.entries(options.headers)) h.set(key, value);
      try {
        const ack = await js.publish(subject, data, {
          headers: h,
          ...(options.msgId ? { msgID: options.msgId } : {}),
        });
        return { stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate };
      } catch (error) {
        // The client reports "no responders" as JetStream not being enabled.
        const message = (error as Error).name === "JetStreamNotEnabled"
          ? "no JetStream stream stores this subject"
          : (error as Error).message;
        throw new Error(message, { cause: error });
      }
    },
  };
}

function resolveSecret(hook: string, name: string, secrets: Record<string, unknown>): string {
  let value: unknown = secrets[name];
  if (value === undefined && name.includes(".")) {
    value = name.split(".").reduce<unknown>(
      (node, key) =>
        typeof node === "object" && node !== null
          ? (node as Record<string, unknown>)[key]
          : undefined,
      secrets,
    );
  }
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    const map = value as Record<string, unknown>;
    value = map.secret ?? map.token ?? map.key;
  }
  if (typeof value === "string" && value.trim() !== "") return value.trim();
  throw new TypeError(
    `Cannot configure webhook "${hook}": secret "${name}" is ${
      value === undefined ? "not in the loaded secrets" : "not text"
    }; add it to .secrets.yaml (or .secrets/${name}, /app/secrets/${name} in the cluster) as ` +
      `text or as a map with "secret"`,
  );
}

/** The hook name of a path segment; a malformed escape is kept as is (an unknown hook). */
function decodeName(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The body, or undefined when it is larger than `max` bytes. */
async function readBody(request: Request, max: number): Promise<Uint8Array | undefined> {
  const declared = Number(request.headers.get("content-length") ?? Number.NaN);
  if (declared > max) return undefined;
  if (!request.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of request.body) {
    size += chunk.length;
    if (size > max) return undefined; // leaving the loop cancels the stream
    chunks.push(chunk);
  }
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.length;
  }
  return body;
}
