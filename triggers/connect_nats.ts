/**
 * `connectNats()`: one NATS connection for the queue triggers, the webhook gateway and the
 * `dlq`/`replay` commands, with credentials from a secret (`/app/secrets/nats` in the cluster).
 *
 * @module
 */

import {
  connect,
  credsAuthenticator,
  type NatsConnection,
  nkeyAuthenticator,
} from "@nats-io/transport-node";

/** Options of {@link connectNats}. */
export interface ConnectNatsOptions {
  /**
   * Credentials: a string is a token; a map may hold `token`, `user` + `password`, `creds` (the
   * text of a `.creds` file) or `nkey` (an nkey seed). Never logged.
   * @default undefined (credentials in the URL, or none)
   */
  secret?: unknown;
  /** Client name shown by the server (`nats server report connections`). @default "pipedreamer" */
  name?: string;
  /** Connect timeout. @default 5_000 */
  timeoutMs?: number;
}

/** Environment variable read by the CLI when `--nats-url` is not given. */
export const NATS_URL_ENV = "NATS_URL";
/** The URL used when neither `--nats-url` nor NATS_URL is set. */
export const DEFAULT_NATS_URL = "nats://127.0.0.1:4222";

/**
 * Connects to NATS, reconnecting forever after a lost connection (in-flight work is redelivered
 * by JetStream).
 *
 * @throws {TypeError} for a malformed secret
 * @throws {Error} "Cannot connect to NATS …" when the server is unreachable or refuses the
 *   credentials (cause set)
 * @example
 * ```ts
 * const nc = await connectNats("nats://127.0.0.1:4222", { secret: { token: "s3cret" } });
 * await nc.drain();
 * ```
 */
export async function connectNats(
  url: string,
  options: ConnectNatsOptions = {},
): Promise<NatsConnection> {
  const { servers, auth: fromUrl } = splitUrlCredentials(url);
  const auth = options.secret !== undefined && options.secret !== null
    ? credentials(options.secret)
    : fromUrl;
  try {
    return await connect({
      servers,
      name: options.name ?? "pipedreamer",
      timeout: options.timeoutMs ?? 5_000,
      maxReconnectAttempts: -1,
      ...auth,
    });
  } catch (error) {
    absorbLateSocketErrors();
    throw new Error(
      `Cannot connect to NATS at "${redactUrl(url)}": ${(error as Error).message}; check ` +
        "--nats-url and the nats secret",
      { cause: error },
    );
  }
}

/** How long after a failed connect a reset of its abandoned socket is absorbed. */
const LATE_SOCKET_ERROR_MS = 2_000;

/**
 * After the server refuses a connection (e.g. an authorization violation), the NATS transport
 * can still see the server reset the abandoned socket and emit `ECONNRESET` with no listener left,
 * which Deno reports as an uncaught error that would end the process. The connect failure has
 * already been reported, so such a reset is absorbed for a short while; any other error is not.
 */
function absorbLateSocketErrors(): void {
  const onError = (event: ErrorEvent) => {
    const code = (event.error as { code?: unknown } | undefined)?.code;
    if (code === "ECONNRESET" || code === "EPIPE") event.preventDefault();
  };
  globalThis.addEventListener("error", onError);
  const timer = setTimeout(
    () => globalThis.removeEventListener("error", onError),
    LATE_SOCKET_ERROR_MS,
  );
  Deno.unrefTimer(timer);
}

type Auth = {
  token?: string;
  user?: string;
  pass?: string;
  authenticator?: ReturnType<typeof credsAuthenticator>;
};

function credentials(secret: unknown): Auth {
  if (secret === undefined || secret === null) return {};
  if (typeof secret === "string") return secret.trim() ? { token: secret.trim() } : {};
  if (typeof secret !== "object" || Array.isArray(secret)) {
    throw new TypeError(
      "Cannot read the nats secret: expected a token or a map with token, user and password, " +
        "creds or nkey",
    );
  }
  const map = secret as Record<string, unknown>;
  const text = (key: string) => typeof map[key] === "string" ? map[key].trim() : undefined;
  const encode = (value: string) => new TextEncoder().encode(value);
  const creds = text("creds");
  if (creds) return { authenticator: credsAuthenticator(encode(creds)) };
  const nkey = text("nkey") ?? text("seed");
  if (nkey) return { authenticator: nkeyAuthenticator(encode(nkey)) };
  const token = text("token");
  if (token) return { token };
  const user = text("user") ?? text("username");
  const pass = text("password") ?? text("pass");
  if (user && pass) return { user, pass };
  throw new TypeError(
    `Cannot read the nats secret: it has keys ${
      Object.keys(map).map((k) => `"${k}"`).join(", ") || "(none)"
    } but needs token, user and password, creds or nkey`,
  );
}

/**
 * The servers of a URL list without their user info, and the credentials it held
 * (`nats://<token>@host`, `nats://<user>:<password>@host`, percent-decoded): the NATS client
 * ignores user info in server URLs, so a URL from a Secret would otherwise connect without them.
 */
export function splitUrlCredentials(url: string): { servers: string[]; auth: Auth } {
  let auth: Auth = {};
  const servers = url.split(",").map((s) => s.trim()).filter(Boolean).map((server) => {
    const m = /^([a-z]+:\/\/)?([^/@]*)@(.*)$/.exec(server);
    if (!m) return server;
    if (auth.token === undefined && auth.user === undefined) {
      const info = m[2]!;
      const colon = info.indexOf(":");
      auth = colon < 0
        ? { token: decode(info) }
        : { user: decode(info.slice(0, colon)), pass: decode(info.slice(colon + 1)) };
    }
    return `${m[1] ?? ""}${m[3]}`;
  });
  return { servers, auth };
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The URL without its user info, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^/@]*@/g, "//***@");
}
