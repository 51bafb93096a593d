interface Ctx {
  secrets: Record<string, unknown>;
}

/** The enriched users, the tag, and which secret services this node sees. */
export default function total(ctx: Ctx, input: { enrich: unknown[]; tag: unknown }) {
  return { users: input.enrich, tag: input.tag, services: Object.keys(ctx.secrets).sort() };
}
