/**
 * Content digests as OCI writes them (`sha256:<hex>`).
 *
 * @module
 */

/** sha256 of `data` as lowercase hex. */
export async function sha256Hex(data: Uint8Array | string): Promise<string> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const hash = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(hash), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** OCI digest of `data`: `sha256:<hex>`. */
export async function digestOf(data: Uint8Array | string): Promise<string> {
  return `sha256:${await sha256Hex(data)}`;
}

/**
 * The hex part of a `sha256:` digest.
 *
 * @throws {TypeError} when `digest` is not a well-formed sha256 digest
 */
export function digestHex(digest: string): string {
  const match = /^sha256:([0-9a-f]{64})$/.exec(digest);
  if (!match?.[1]) {
    throw new TypeError(`Cannot use digest "${digest}": expected "sha256:" and 64 hex digits`);
  }
  return match[1];
}
