interface Ctx {
  secrets: Record<string, { token?: string } | undefined>;
  log: { info(message: string): void };
}

/** One user → `{ user, length, services, childToken }`; "boom" fails. */
export default function enrich(ctx: Ctx, user: string) {
  if (user === "boom") throw new Error(`cannot enrich "${user}"`);
  const token = ctx.secrets.child?.token;
  // Logged to prove the value is redacted wherever logs go.
  if (token) ctx.log.info(`child token: ${token}`);
  return {
    user,
    length: user.length,
    services: Object.keys(ctx.secrets).sort(),
    childToken: token === undefined ? "none" : `${token.length} characters`,
  };
}
