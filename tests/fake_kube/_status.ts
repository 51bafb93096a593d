/**
 * `Status` error bodies as the API server sends them.
 *
 * @module
 */

/** A failed request: the HTTP status and the Status body. */
export class StatusError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly details?: Record<string, unknown>;

  constructor(code: number, reason: string, message: string, details?: Record<string, unknown>) {
    super(message);
    this.code = code;
    this.reason = reason;
    this.details = details;
  }

  /** The JSON response the API server returns for this error. */
  toResponse(): Response {
    return Response.json({
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    }, { status: this.code });
  }
}

/** `<plural>.<group>` as the API server names a resource in messages. */
export function qualified(plural: string, group: string): string {
  return group === "" ? plural : `${plural}.${group}`;
}

export function notFound(plural: string, group: string, name: string): StatusError {
  return new StatusError(404, "NotFound", `${qualified(plural, group)} "${name}" not found`, {
    name,
    group,
    kind: plural,
  });
}

export function alreadyExists(plural: string, group: string, name: string): StatusError {
  return new StatusError(
    409,
    "AlreadyExists",
    `${qualified(plural, group)} "${name}" already exists`,
    {
      name,
      group,
      kind: plural,
    },
  );
}

export function conflict(plural: string, group: string, name: string, detail: string): StatusError {
  return new StatusError(
    409,
    "Conflict",
    `Operation cannot be fulfilled on ${qualified(plural, group)} "${name}": ${detail}`,
    { name, group, kind: plural },
  );
}

/** 422 with one cause per invalid field, like the API server's field validation. */
export function invalid(
  kind: string,
  name: string,
  causes: { field: string; message: string }[],
): StatusError {
  const list = causes.map((c) => `${c.field}: ${c.message}`).join(", ");
  return new StatusError(422, "Invalid", `${kind} "${name}" is invalid: ${list}`, {
    name,
    kind,
    causes: causes.map((c) => ({
      reason: "FieldValueInvalid",
      message: c.message,
      field: c.field,
    })),
  });
}

export function badRequest(message: string): StatusError {
  return new StatusError(400, "BadRequest", message);
}
