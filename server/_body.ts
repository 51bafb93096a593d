/**
 * Request bodies: size-limited while streaming (Content-Length is only a hint), strict UTF-8,
 * JSON only.
 *
 * @module
 */

import { ErrorCode, HttpError } from "./_http_error.ts";

/** 1 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** Reads the body's bytes; 413 as soon as more than `maxBytes` arrived (or were announced). */
export async function readBodyBytes(request: Request, maxBytes: number): Promise<Uint8Array> {
  const tooLarge = () =>
    new HttpError(
      ErrorCode.PayloadTooLarge,
      `Cannot read request body: it exceeds the limit of ${maxBytes} bytes`,
      // The rest of the body is never read: close the connection instead of draining it.
      { details: { maxBytes }, headers: { connection: "close" } },
    );
  const announced = Number(request.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(announced) && announced > maxBytes) throw tooLarge();
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => {});
        throw tooLarge();
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof HttpError) throw error;
    throw new HttpError(
      ErrorCode.BadRequest,
      `Cannot read request body: ${(error as Error).message}`,
      { cause: error },
    );
  } finally {
    reader.releaseLock();
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

/**
 * True for `application/json`, `application/<x>+json`, `text/plain` (what `fetch()` sends for a
 * string body without a Content-Type) and `application/x-www-form-urlencoded` (what `curl -d`
 * sends): the body is then parsed as JSON; parameters are ignored.
 */
export function isJsonMediaType(contentType: string): boolean {
  const type = contentType.split(";")[0]!.trim().toLowerCase();
  return type === "application/json" || type === "text/plain" ||
    type === "application/x-www-form-urlencoded" ||
    /^application\/[\w.+-]+\+json$/.test(type);
}

/**
 * Parses `text` as JSON; 400 naming `what` (e.g. "request body") when it is not.
 */
export function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HttpError(
      ErrorCode.BadRequest,
      `Cannot parse ${what} as JSON: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/**
 * The JSON body of a request, or `undefined` when it has none (no bytes, or only whitespace).
 * 415 for a Content-Type that cannot carry JSON (see {@link isJsonMediaType}; a missing one is
 * accepted), 413 over `maxBytes`,
 * 400 for invalid UTF-8 or invalid JSON.
 */
export async function readJsonBody(request: Request, maxBytes: number): Promise<unknown> {
  const contentType = request.headers.get("content-type");
  if (contentType !== null && contentType.trim() !== "" && !isJsonMediaType(contentType)) {
    throw new HttpError(
      ErrorCode.UnsupportedMediaType,
      "Cannot read request body: its Content-Type is not JSON; send application/json (curl --json)",
    );
  }
  const bytes = await readBodyBytes(request, maxBytes);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (error) {
    throw new HttpError(
      ErrorCode.BadRequest,
      "Cannot read request body: it is not valid UTF-8",
      { cause: error },
    );
  }
  if (text.trim() === "") return undefined;
  return parseJson(text, "request body");
}
