/**
 * The NATS flags of `dlq`, `replay` (and `serve`/`dev` for queue triggers): `--nats-url` (or env
 * NATS_URL) and `--nats-creds <file>` (a NATS .creds file, or a file holding a token).
 *
 * @module
 */

import type { Command } from "commander";
import type * as Triggers from "../triggers/mod.ts";
import type { NatsConnection } from "../triggers/mod.ts";
import { CliFailure } from "./_output.ts";

/**
 * triggers' `NATS_URL_ENV` and `DEFAULT_NATS_URL`, repeated so that registering the NATS flags
 * does not load triggers/ (and the NATS client) for every command; the types keep them equal.
 */
const NATS_URL_ENV: typeof Triggers.NATS_URL_ENV = "NATS_URL";
const DEFAULT_NATS_URL: typeof Triggers.DEFAULT_NATS_URL = "nats://127.0.0.1:4222";

/** Parsed NATS flags. */
export interface NatsFlags {
  natsUrl?: string;
  natsCreds?: string;
}

/** Adds `--nats-url` and `--nats-creds` to a command. */
export function addNatsOptions(command: Command): Command {
  return command
    .option(
      "--nats-url <url>",
      `NATS server(s), comma-separated (default env ${NATS_URL_ENV}, else ${DEFAULT_NATS_URL})`,
    )
    .option("--nats-creds <file>", "NATS credentials: a .creds file, or a file holding a token");
}

/** The URL the flags name. */
export function natsUrl(flags: NatsFlags): string {
  return flags.natsUrl ?? Deno.env.get(NATS_URL_ENV) ?? DEFAULT_NATS_URL;
}

/**
 * Connects as the flags say.
 *
 * @throws {CliFailure} when the credentials file cannot be read or NATS is unreachable
 */
export async function openNats(flags: NatsFlags): Promise<NatsConnection> {
  let secret: unknown;
  if (flags.natsCreds !== undefined) {
    let text: string;
    try {
      text = await Deno.readTextFile(flags.natsCreds);
    } catch (error) {
      throw new CliFailure(
        `Cannot read --nats-creds "${flags.natsCreds}": ${(error as Error).message}`,
      );
    }
    secret = text.includes("-----BEGIN NATS USER JWT-----") ? { creds: text } : text.trim();
  }
  const { connectNats } = await import("../triggers/mod.ts");
  try {
    return await connectNats(natsUrl(flags), { secret, name: "pipedreamer-cli" });
  } catch (error) {
    throw new CliFailure((error as Error).message, { cause: error });
  }
}

/**
 * Connects, runs `body`, closes. Errors of the work become one-line failures (exit 1); misuse
 * (RangeError, TypeError) stays as it is.
 */
export async function withNats<T>(
  flags: NatsFlags,
  body: (nc: NatsConnection) => Promise<T>,
): Promise<T> {
  const nc = await openNats(flags);
  try {
    return await body(nc);
  } catch (error) {
    if (error instanceof RangeError || error instanceof TypeError) throw error;
    throw new CliFailure((error as Error).message, { cause: error });
  } finally {
    await nc.close();
  }
}

/** A payload for printing: text when it is UTF-8, else base64. */
export function payloadText(data: Uint8Array): { text: string } | { base64: string } {
  try {
    return { text: new TextDecoder("utf-8", { fatal: true }).decode(data) };
  } catch {
    let binary = "";
    for (const byte of data) binary += String.fromCharCode(byte);
    return { base64: btoa(binary) };
  }
}
