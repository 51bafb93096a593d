/**
 * `webhooks:` (an addition to SPEC §2, see docs/queues.md) → {@link WebhookConfig} by name.
 * `secret:` names a secret; the value comes from the loaded secrets, never from the YAML.
 *
 * @module
 */

import { HmacAlgorithm, type WebhookConfig, WebhookVerify } from "../workflow_model.ts";
import type { LocatedEntry } from "./located_types.ts";
import type { Checker } from "./_checker.ts";
import { readSubject } from "./_compile_triggers.ts";
import { didYouMean } from "./_suggest.ts";

const KEYS = ["subject", "verify", "secret", "header", "algorithm"] as const;
const HMAC_ONLY = ["header", "algorithm"] as const;
const VERIFY = Object.values(WebhookVerify);
const ALGORITHMS = Object.values(HmacAlgorithm);
const EXAMPLE = "webhooks: { github: { subject: events.github.push, verify: github, " +
  "secret: github-webhook } }";

/** Compiles `webhooks:`; undefined when absent. */
export function compileWebhooks(
  checker: Checker,
  entry: LocatedEntry | undefined,
): Record<string, WebhookConfig> | undefined {
  if (!entry) return undefined;
  const map = checker.map(entry.value, "webhooks", `Write ${EXAMPLE}`);
  if (!map) return undefined;
  const webhooks: Record<string, WebhookConfig> = {};
  for (const hook of map.entries) {
    if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/.test(hook.key)) {
      checker.report(
        hook.keyPos,
        `Invalid webhook name "${hook.key}"`,
        "Use letters, digits, '-' and '_' (at most 63): it is the last segment of /hooks/<name>",
      );
      continue;
    }
    const config = compileWebhook(checker, hook);
    if (config) webhooks[hook.key] = config;
  }
  return webhooks;
}

function compileWebhook(checker: Checker, hook: LocatedEntry): WebhookConfig | undefined {
  const map = checker.map(
    hook.value,
    `webhook "${hook.key}"`,
    `Write ${hook.key}: { subject: events.${hook.key}, verify: bearer, secret: ${hook.key}-hook }`,
  );
  if (!map) return undefined;
  const keys = checker.keys(map, KEYS, "webhook key", {
    token: "Put the token in the secrets and name it: secret: <secret name>",
    type: "Write verify: github | hmac | bearer",
    stream: "The stream is the one that stores the subject (see the queue trigger)",
  });
  let ok = true;
  const need = (key: "subject" | "verify" | "secret", hint: string) => {
    const found = keys.get(key);
    if (!found) {
      checker.report(map.pos, `Webhook "${hook.key}" has no ${key}`, hint);
      ok = false;
    }
    return found;
  };
  const subjectEntry = need("subject", "Add subject: events.github.push");
  const verifyEntry = need("verify", `Add verify: ${VERIFY.join(" | ")}`);
  const secretEntry = need("secret", "Add secret: <name of the secret holding the key>");
  const subject = subjectEntry && readSubject(checker, subjectEntry, false);
  const verifyText = verifyEntry && checker.string(verifyEntry, { example: "github" });
  let verify: WebhookVerify | undefined;
  if (verifyText !== undefined) {
    if ((VERIFY as string[]).includes(verifyText)) verify = verifyText as WebhookVerify;
    else {
      checker.report(
        verifyEntry!.value.pos,
        `Unknown webhook verification "${verifyText}"`,
        didYouMean(verifyText, VERIFY, "values") ?? `Write verify: ${VERIFY.join(" | ")}`,
      );
    }
  }
  const secret = secretEntry &&
    checker.string(secretEntry, { nonEmpty: true, example: "github-webhook" });
  if (secret !== undefined && !/^[A-Za-z0-9_.-]+$/.test(secret)) {
    checker.report(
      secretEntry!.value.pos,
      `Invalid secret name "${secret}"`,
      "Name the secret (letters, digits, '-', '_', '.'); its value belongs in .secrets.yaml",
    );
    ok = false;
  }
  const config: Partial<WebhookConfig> = { subject, verify, secret };
  for (const key of HMAC_ONLY) {
    const found = keys.get(key);
    if (found && verify !== undefined && verify !== WebhookVerify.Hmac) {
      checker.report(found.keyPos, `"${key}" applies to verify: hmac only`, `Remove ${key}:`);
      ok = false;
    }
  }
  const header = keys.get("header");
  if (header) {
    const name = checker.string(header, { nonEmpty: true, example: "X-Signature-256" });
    if (name !== undefined && !/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) {
      checker.report(
        header.value.pos,
        `Invalid header name "${name}"`,
        "Write e.g. header: X-Signature-256",
      );
      ok = false;
    } else if (name !== undefined) config.header = name;
  }
  const algorithm = keys.get("algorithm");
  if (algorithm) {
    const text = checker.string(algorithm, { example: "sha256" });
    if (text !== undefined && (ALGORITHMS as string[]).includes(text)) {
      config.algorithm = text as HmacAlgorithm;
    } else if (text !== undefined) {
      checker.report(
        algorithm.value.pos,
        `Unknown HMAC algorithm "${text}"`,
        `Write algorithm: ${ALGORITHMS.join(" | ")}`,
      );
      ok = false;
    }
  }
  if (!ok || subject === undefined || verify === undefined || secret === undefined) {
    return undefined;
  }
  return config as WebhookConfig;
}
