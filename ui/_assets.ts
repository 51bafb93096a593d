/**
 * The dashboard's files, embedded through static text imports so `deno compile` keeps them in
 * the binary (no CDN, no files next to it, works offline).
 *
 * @module
 */

import appJs from "./dist/app.js" with { type: "text" };
import appCss from "./app.css" with { type: "text" };
import indexHtml from "./index.html" with { type: "text" };

/** One embedded file. */
export interface Asset {
  body: string;
  contentType: string;
  /** Strong ETag (a content hash), also used as the `?v=` cache buster of the page's links. */
  etag: string;
  version: string;
}

async function asset(body: string, contentType: string): Promise<Asset> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(body));
  const version = [...new Uint8Array(digest).slice(0, 8)]
    .map((b) => b.toString(16).padStart(2, "0"))
    .join("");
  return { body, contentType, etag: `"${version}"`, version };
}

let assets: Promise<Record<string, Asset>> | undefined;

/** The assets by path below the dashboard root ("assets/app.js", "assets/app.css"). */
export function embeddedAssets(): Promise<Record<string, Asset>> {
  assets ??= (async () => ({
    "assets/app.js": await asset(appJs, "text/javascript; charset=utf-8"),
    "assets/app.css": await asset(appCss, "text/css; charset=utf-8"),
  }))();
  return assets;
}

/** The page shell with the API path and asset versions filled in. */
export async function pageShell(apiBase: string): Promise<Asset> {
  const files = await embeddedAssets();
  const page = indexHtml
    .replace("{{API_BASE}}", apiBase)
    .replace("{{JS_VERSION}}", files["assets/app.js"]!.version)
    .replace("{{CSS_VERSION}}", files["assets/app.css"]!.version);
  return await asset(page, "text/html; charset=utf-8");
}
