/**
 * Message payload → run input. JSON becomes the input itself; other content types arrive as
 * `{ contentType, data }` (text) or `{ contentType, base64 }` (binary).
 *
 * @module
 */

/** The run input of a message that is not JSON. */
export interface RawPayload {
  /** The message's Content-Type header, or the detected type when it had none. */
  contentType: string;
  /** The payload as text, for text content types. */
  data?: string;
  /** The payload base64-encoded, for binary content types. */
  base64?: string;
}

/** What {@link decodePayload} produced: the run input, or why there can be none. */
export type DecodedPayload = { ok: true; input: unknown } | { ok: false; error: string };

const TEXT_TYPES = new Set([
  "application/xml",
  "application/x-www-form-urlencoded",
  "application/yaml",
  "application/x-yaml",
  "application/javascript",
  "application/x-ndjson",
]);

/**
 * Decodes a message payload into a run input. An empty payload is `{}` (as `exec` without
 * `--input`). Without a Content-Type the payload is JSON when it parses as JSON, else text when
 * it is valid UTF-8, else binary. A payload declared as JSON that does not parse cannot ever
 * become a run: that is the `ok: false` case, dead-lettered without retries.
 *
 * @example
 * ```ts
 * const decoded = decodePayload(new TextEncoder().encode('{"a":1}'), "application/json");
 * // { ok: true, input: { a: 1 } }
 * ```
 */
export function decodePayload(data: Uint8Array, contentType?: string): DecodedPayload {
  const type = contentType?.trim() ?? "";
  const mime = type.split(";")[0]!.trim().toLowerCase();
  if (data.length === 0) return { ok: true, input: {} };
  const text = utf8(data);
  if (mime === "") {
    if (text !== undefined) {
      try {
        return { ok: true, input: JSON.parse(text) };
      } catch {
        return { ok: true, input: { contentType: "text/plain", data: text } };
      }
    }
    return { ok: true, input: { contentType: "application/octet-stream", base64: base64(data) } };
  }
  if (mime === "application/json" || mime.endsWith("+json")) {
    try {
      if (text === undefined) throw new Error("the payload is not valid UTF-8");
      return { ok: true, input: JSON.parse(text) };
    } catch (error) {
      return {
        ok: false,
        error: `Cannot decode the payload as JSON (Content-Type "${type}"): ${
          (error as Error).message
        }`,
      };
    }
  }
  if (isText(mime) && text !== undefined) {
    return { ok: true, input: { contentType: type, data: text } satisfies RawPayload };
  }
  return { ok: true, input: { contentType: type, base64: base64(data) } satisfies RawPayload };
}

function isText(mime: string): boolean {
  return mime.startsWith("text/") || mime.endsWith("+xml") || TEXT_TYPES.has(mime);
}

function utf8(data: Uint8Array): string | undefined {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(data);
  } catch {
    return undefined;
  }
}

function base64(data: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < data.length; i += 0x8000) {
    binary += String.fromCharCode(...data.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}
