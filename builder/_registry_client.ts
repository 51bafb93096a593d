/**
 * A client for the OCI distribution API (https://github.com/opencontainers/distribution-spec):
 * pull a manifest (choosing the platform from an index) and blobs, push blobs (monolithic or
 * chunked, skipping blobs the registry has, mounting across repositories) and manifests.
 * Authentication: anonymous, basic, and the bearer-token flow of `WWW-Authenticate`
 * (realm, service, scope), with credentials from the docker config file.
 *
 * @module
 */

import { digestOf } from "./_digest.ts";
import { readDockerCredentials, type RegistryCredentials } from "./_docker_config.ts";
import { type ImageReference, isLoopbackRegistry } from "./_image_reference.ts";
import type { ContentBlob } from "./_oci_layout.ts";
import {
  type Descriptor,
  type ImageIndex,
  type ImageManifest,
  INDEX_MEDIA_TYPES,
  MANIFEST_MEDIA_TYPES,
  type Platform,
  platformMatches,
} from "./_oci.ts";
import { type ProgressCallback, TransferState } from "./_progress.ts";
import { authorizationFor, parseChallenge } from "./_registry_auth.ts";

/** Options of {@link RegistryClient}. */
export interface RegistryClientOptions {
  /** Use plain HTTP for loopback registries (never for others). @default false */
  insecure?: boolean;
  /** Looks up credentials per registry. @default the docker config file (`~/.docker/config.json`) */
  credentials?: (registry: string) => Promise<RegistryCredentials | undefined>;
  /** Blobs larger than this are uploaded in chunks of this size. @default 16 MiB */
  chunkSize?: number;
  /** Receives transfer progress. @default none */
  onProgress?: ProgressCallback;
  /** The fetch implementation. @default globalThis.fetch */
  fetch?: typeof fetch;
}

/** A fetched manifest. */
export interface FetchedManifest {
  mediaType: string;
  digest: string;
  data: Uint8Array;
}

/** An error answered by a registry. `status` is the HTTP status. */
export class RegistryError extends Error {
  override name = "RegistryError";
  /** HTTP status of the failed response. */
  status: number;
  /** Whether trying again later may succeed (5xx, 429). */
  retryable: boolean;
  constructor(message: string, status: number, options?: ErrorOptions) {
    super(message, options);
    this.status = status;
    this.retryable = status === 429 || status >= 500;
  }
}

const MANIFEST_ACCEPT = [...INDEX_MEDIA_TYPES, ...MANIFEST_MEDIA_TYPES].join(", ");

/**
 * Talks to one or more registries; remembers tokens per registry and repository.
 *
 * @example
 * ```ts
 * const client = new RegistryClient({ insecure: true });
 * const ref = parseImageReference("127.0.0.1:5000/base:1");
 * const { manifest } = await client.pullManifest(ref, { os: "linux", architecture: "amd64" });
 * ```
 */
export class RegistryClient {
  #options: RegistryClientOptions;
  #fetch: typeof fetch;
  #auth = new Map<string, string>();

  constructor(options: RegistryClientOptions = {}) {
    this.#options = options;
    this.#fetch = options.fetch ?? globalThis.fetch;
  }

  /**
   * Fetches the manifest for `ref` (tag or digest) and, when it is an index, the manifest for
   * `platform`.
   *
   * @throws {RegistryError} when the registry refuses or the platform is not in the index
   */
  async pullManifest(
    ref: ImageReference,
    platform: Platform,
  ): Promise<{ manifest: ImageManifest; fetched: FetchedManifest }> {
    let fetched = await this.getManifest(ref, ref.digest ?? ref.tag ?? "latest");
    if (INDEX_MEDIA_TYPES.includes(fetched.mediaType)) {
      const index = parseJson<ImageIndex>(fetched.data, "image index");
      const entry = index.manifests.find((m) => platformMatches(m.platform, platform));
      if (!entry) {
        const available = index.manifests.map((m) =>
          m.platform ? `${m.platform.os}/${m.platform.architecture}` : "unknown"
        );
        throw new RegistryError(
          `Cannot pull "${ref.repository}" for ${platform.os}/${platform.architecture}: the image has only ${
            available.map((p) => `"${p}"`).join(", ")
          }; choose another --base`,
          404,
        );
      }
      fetched = await this.getManifest(ref, entry.digest);
    }
    if (!MANIFEST_MEDIA_TYPES.includes(fetched.mediaType)) {
      throw new RegistryError(
        `Cannot pull "${ref.repository}": unsupported manifest media type "${fetched.mediaType}"`,
        415,
      );
    }
    return { manifest: parseJson<ImageManifest>(fetched.data, "image manifest"), fetched };
  }

  /**
   * Fetches one manifest by tag or digest; a digest reference is verified.
   *
   * @throws {RegistryError} when the registry refuses or the content does not match its digest
   */
  async getManifest(ref: ImageReference, reference: string): Promise<FetchedManifest> {
    const response = await this.#request(ref, "GET", `/manifests/${reference}`, {
      headers: { accept: MANIFEST_ACCEPT },
    });
    await expectStatus(response, [200], `pull manifest "${ref.repository}:${reference}"`);
    const data = new Uint8Array(await response.arrayBuffer());
    const digest = await digestOf(data);
    if (reference.startsWith("sha256:") && digest !== reference) {
      throw new RegistryError(
        `Cannot pull manifest "${ref.repository}@${reference}": the content has digest "${digest}"`,
        502,
      );
    }
    const headerType = response.headers.get("content-type")?.split(";")[0]?.trim();
    const bodyType = parseJson<{ mediaType?: string }>(data, "manifest").mediaType;
    return { mediaType: bodyType ?? headerType ?? "", digest, data };
  }

  /**
   * Downloads a blob and verifies its digest and size.
   *
   * @throws {RegistryError} when the registry refuses or the content does not match
   */
  async getBlob(ref: ImageReference, descriptor: Descriptor): Promise<Uint8Array> {
    this.#progress("pull", descriptor, TransferState.Started, 0);
    let response = await this.#request(ref, "GET", `/blobs/${descriptor.digest}`, {
      redirect: "manual",
    });
    // Registries redirect blob downloads to storage; the credentials must not follow.
    for (let hops = 0; hops < 5 && [301, 302, 303, 307, 308].includes(response.status); hops++) {
      await response.body?.cancel();
      const location = new URL(response.headers.get("location") ?? "", response.url);
      response = await this.#fetch(location, { redirect: "manual" });
    }
    await expectStatus(response, [200], `pull blob "${descriptor.digest}"`);
    const data = new Uint8Array(await response.arrayBuffer());
    const digest = await digestOf(data);
    if (digest !== descriptor.digest || data.length !== descriptor.size) {
      throw new RegistryError(
        `Cannot pull blob "${descriptor.digest}": received ${data.length} bytes with digest "${digest}"`,
        502,
      );
    }
    this.#progress("pull", descriptor, TransferState.Done, data.length);
    return data;
  }

  /** Whether the repository already has the blob. */
  async hasBlob(ref: ImageReference, digest: string): Promise<boolean> {
    const response = await this.#request(ref, "HEAD", `/blobs/${digest}`);
    await response.body?.cancel();
    if (response.status === 200) return true;
    if (response.status === 404) return false;
    await expectStatus(response, [200], `check blob "${digest}"`);
    return false;
  }

  /**
   * Uploads a blob unless the repository has it. With `mountFrom` (a repository on the same
   * registry that has the blob) the registry is asked to mount it instead of uploading.
   * `content` may be a loader, called only when the blob must really be uploaded.
   *
   * @throws {RegistryError} when the registry refuses an upload step
   */
  async pushBlob(
    ref: ImageReference,
    descriptor: Descriptor,
    content: Uint8Array | (() => Promise<Uint8Array>),
    options: { mountFrom?: string } = {},
  ): Promise<"exists" | "mounted" | "uploaded"> {
    if (await this.hasBlob(ref, descriptor.digest)) {
      this.#progress("push", descriptor, TransferState.Exists, descriptor.size);
      return "exists";
    }
    const query = options.mountFrom && options.mountFrom !== ref.repository
      ? `?mount=${encodeURIComponent(descriptor.digest)}&from=${
        encodeURIComponent(options.mountFrom)
      }`
      : "";
    const start = await this.#request(ref, "POST", `/blobs/uploads/${query}`, {
      headers: { "content-length": "0" },
    });
    if (start.status === 201 && query) {
      await start.body?.cancel();
      this.#progress("push", descriptor, TransferState.Mounted, descriptor.size);
      return "mounted";
    }
    await expectStatus(start, [202], `start upload of blob "${descriptor.digest}"`);
    let location = this.#location(ref, start);
    const data = typeof content === "function" ? await content() : content;
    this.#progress("push", descriptor, TransferState.Started, 0);
    const chunkSize = this.#options.chunkSize ?? 16 * 1024 * 1024;
    let body: Uint8Array = data;
    if (data.length > chunkSize) {
      for (let offset = 0; offset < data.length; offset += chunkSize) {
        const chunk = data.subarray(offset, Math.min(offset + chunkSize, data.length));
        const patch = await this.#request(ref, "PATCH", location, {
          body: chunk,
          headers: {
            "content-type": "application/octet-stream",
            "content-range": `${offset}-${offset + chunk.length - 1}`,
            "content-length": String(chunk.length),
          },
        });
        await expectStatus(patch, [202], `upload chunk of blob "${descriptor.digest}"`);
        location = this.#location(ref, patch);
        this.#progress("push", descriptor, TransferState.Progress, offset + chunk.length);
      }
      body = new Uint8Array();
    }
    const separator = location.includes("?") ? "&" : "?";
    const put = await this.#request(
      ref,
      "PUT",
      `${location}${separator}digest=${encodeURIComponent(descriptor.digest)}`,
      {
        body,
        headers: {
          "content-type": "application/octet-stream",
          "content-length": String(body.length),
        },
      },
    );
    await expectStatus(put, [201], `finish upload of blob "${descriptor.digest}"`);
    this.#progress("push", descriptor, TransferState.Done, data.length);
    return "uploaded";
  }

  /**
   * Uploads a manifest under `reference` (a tag or its digest) and returns its digest.
   *
   * @throws {RegistryError} when the registry refuses it or reports another digest
   */
  async putManifest(
    ref: ImageReference,
    reference: string,
    manifest: ContentBlob,
  ): Promise<string> {
    const response = await this.#request(ref, "PUT", `/manifests/${reference}`, {
      body: manifest.data,
      headers: { "content-type": manifest.descriptor.mediaType },
    });
    await expectStatus(response, [201], `push manifest "${ref.repository}:${reference}"`);
    const reported = response.headers.get("docker-content-digest");
    if (reported && reported !== manifest.descriptor.digest) {
      throw new RegistryError(
        `Cannot push manifest "${ref.repository}:${reference}": the registry stored digest "${reported}" instead of "${manifest.descriptor.digest}"`,
        502,
      );
    }
    return manifest.descriptor.digest;
  }

  /**
   * `https://host`, or `http://host` for a loopback registry when `insecure` is set: plain
   * HTTP never goes to any other host.
   */
  baseUrl(registry: string): string {
    const host = registry === "docker.io" ? "registry-1.docker.io" : registry;
    return this.#options.insecure && isLoopbackRegistry(registry)
      ? `http://${host}`
      : `https://${host}`;
  }

  #location(ref: ImageReference, response: Response): string {
    const location = response.headers.get("location");
    if (!location) {
      throw new RegistryError(
        `Cannot upload to "${ref.repository}": the registry sent no Location header`,
        502,
      );
    }
    return new URL(location, `${this.baseUrl(ref.registry)}/`).toString();
  }

  /** Sends a request, answering one 401 challenge (basic or bearer) and retrying once. */
  async #request(
    ref: ImageReference,
    method: string,
    pathOrUrl: string,
    init: { headers?: Record<string, string>; body?: Uint8Array; redirect?: RequestRedirect } = {},
  ): Promise<Response> {
    const base = this.baseUrl(ref.registry);
    const url = pathOrUrl.startsWith("http")
      ? pathOrUrl
      : `${base}/v2/${ref.repository}${pathOrUrl}`;
    const key = `${ref.registry}/${ref.repository}`;
    // Credentials go only to the registry itself, never to another host in a Location.
    const sameOrigin = new URL(url).origin === new URL(base).origin;
    const send = (authorization?: string) =>
      this.#fetch(url, {
        method,
        headers: {
          ...init.headers,
          ...(authorization && sameOrigin ? { authorization } : {}),
        },
        body: init.body as BodyInit | undefined,
        redirect: init.redirect,
      }).catch((error) => {
        throw new RegistryError(
          `Cannot reach registry "${ref.registry}" (${method} ${new URL(url).pathname}): ${
            error instanceof Error ? error.message : String(error)
          }`,
          503,
          { cause: error },
        );
      });
    let response = await send(this.#auth.get(key));
    if (response.status !== 401) return response;
    const challenge = parseChallenge(response.headers.get("www-authenticate") ?? "");
    await response.body?.cancel();
    if (!challenge) {
      throw new RegistryError(
        `Cannot access "${key}": the registry refused without a challenge`,
        401,
      );
    }
    const credentials = await (this.#options.credentials ?? ((r) => readDockerCredentials(r)))(
      ref.registry,
    );
    const authorization = await authorizationFor(challenge, credentials, {
      fetch: this.#fetch,
      checkUrl: (realm) => this.#checkRealm(realm, ref.registry),
    }).catch((error) => {
      if (error instanceof TypeError) throw error;
      throw new RegistryError(error instanceof Error ? error.message : String(error), 401, {
        cause: error,
      });
    });
    this.#auth.set(key, authorization);
    response = await send(authorization);
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel();
      throw new RegistryError(
        `Cannot access "${key}": the registry rejected the ${
          credentials ? "credentials" : "anonymous request"
        } (HTTP ${response.status}); log in with docker login or skopeo login`,
        response.status,
      );
    }
    return response;
  }

  #checkRealm(realm: URL, registry: string): void {
    if (realm.protocol === "https:") return;
    if (realm.protocol === "http:" && this.#options.insecure && isLoopbackRegistry(realm.host)) {
      return;
    }
    throw new TypeError(
      `Cannot authenticate to "${registry}": token realm "${realm.origin}" is not HTTPS (plain HTTP is allowed only for loopback with --insecure-registry)`,
    );
  }

  #progress(
    direction: "push" | "pull",
    descriptor: Descriptor,
    state: TransferState,
    bytes: number,
  ): void {
    this.#options.onProgress?.({
      kind: "transfer",
      direction,
      digest: descriptor.digest,
      state,
      bytes,
      total: descriptor.size,
    });
  }
}

async function expectStatus(response: Response, ok: number[], action: string): Promise<void> {
  if (ok.includes(response.status)) return;
  let detail = `HTTP ${response.status}`;
  try {
    const body = await response.json() as { errors?: { code?: string; message?: string }[] };
    const first = body.errors?.[0];
    if (first) detail += ` ${first.code ?? ""}: ${first.message ?? ""}`.trimEnd();
  } catch {
    // Not a distribution error document: the status says enough.
  }
  throw new RegistryError(`Cannot ${action}: ${detail}`, response.status);
}

function parseJson<T>(data: Uint8Array, what: string): T {
  try {
    return JSON.parse(new TextDecoder().decode(data)) as T;
  } catch (error) {
    throw new RegistryError(`Cannot read ${what}: the registry sent invalid JSON`, 502, {
      cause: error,
    });
  }
}
