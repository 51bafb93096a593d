/**
 * Webhook request verification: GitHub's `X-Hub-Signature-256`, a generic HMAC header, or a
 * bearer token. Comparisons take constant time.
 *
 * @module
 */

import { HmacAlgorithm, WebhookVerify } from "../engine/mod.ts";

/** Default header of `verify: hmac`. */
export const DEFAULT_HMAC_HEADER = "X-Signature-256";

/** How to verify one hook. */
export interface VerifySpec {
  verify: WebhookVerify;
  secret: string;
  header?: string;
  algorithm?: HmacAlgorithm;
}

const HASH = { sha1: "SHA-1", sha256: "SHA-256", sha512: "SHA-512" } as const;

/** Undefined when the request is authentic, else why not (never containing the secret). */
export async function verifyRequest(
  spec: VerifySpec,
  headers: Headers,
  body: Uint8Array,
): Promise<string | undefined> {
  const secret = new TextEncoder().encode(spec.secret);
  if (spec.verify === WebhookVerify.Bearer) {
    const value = headers.get("authorization");
    if (!value) return "missing Authorization header";
    const match = /^Bearer\s+(.+)$/i.exec(value.trim());
    if (!match) return "Authorization header is not a bearer token";
    // Digests have one length, so the comparison does not reveal the token's length.
    const [given, expected] = await Promise.all([digest(match[1]!), digest(spec.secret)]);
    return equal(given, expected) ? undefined : "wrong bearer token";
  }
  const github = spec.verify === WebhookVerify.GitHub;
  const name = github ? "X-Hub-Signature-256" : spec.header ?? DEFAULT_HMAC_HEADER;
  const algorithm = github ? HmacAlgorithm.Sha256 : spec.algorithm ?? HmacAlgorithm.Sha256;
  const value = headers.get(name)?.trim();
  if (!value) return `missing ${name} header`;
  const expected = await hmac(algorithm, secret, body);
  const given = github ? parseGitHub(value) : parseSignature(value, algorithm);
  if (!given) return `malformed ${name} header`;
  return equal(given, expected) ? undefined : `${name} does not match the body`;
}

/** HMAC of `body` with `secret`. */
export async function hmac(
  algorithm: HmacAlgorithm,
  secret: Uint8Array,
  body: Uint8Array,
): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey(
    "raw",
    secret as Uint8Array<ArrayBuffer>,
    { name: "HMAC", hash: HASH[algorithm] },
    false,
    ["sign"],
  );
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, body as Uint8Array<ArrayBuffer>));
}

/** Lower-case hex. */
export function toHex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

function parseGitHub(value: string): Uint8Array | undefined {
  const match = /^sha256=([0-9a-fA-F]{64})$/.exec(value);
  return match ? fromHex(match[1]!) : undefined;
}

function parseSignature(value: string, algorithm: HmacAlgorithm): Uint8Array | undefined {
  const bare = value.startsWith(`${algorithm}=`) ? value.slice(algorithm.length + 1) : value;
  if (/^[0-9a-fA-F]+$/.test(bare) && bare.length % 2 === 0) return fromHex(bare);
  try {
    return Uint8Array.from(atob(bare), (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}

function fromHex(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) {
    bytes[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  }
  return bytes;
}

/** Constant-time for equal lengths; the length of an HMAC is public anyway. */
function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
