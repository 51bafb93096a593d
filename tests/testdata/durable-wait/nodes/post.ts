import type { Context } from "pipedreamer";

/** "Posts" the approval it received. */
export default function post(_ctx: Context, approval: { approved?: boolean; comment?: string }) {
  return { posted: approval.approved === true, comment: approval.comment ?? "" };
}
