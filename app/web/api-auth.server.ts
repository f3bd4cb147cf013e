// /api/v1's request guard: the Bearer key (by hash, cached), its scope and its rate limit (shared by
// every instance); every refusal is a problem-details response, thrown so routes read straight through
// (`answering` turns a thrown one back into the answer).
import type { z } from "zod";
import type { ApiKeyScope } from "~/generated/prisma/enums.ts";
import { type ApiKeyRecord, authenticateApiKey } from "~/services/api/keys.server.ts";
import { BodyTooLargeError, FORM_BODY_LIMIT, readRawBody } from "~/utils/http.server.ts";
import { problem } from "./problem.server.ts";
import { consumeApiRequest } from "./rate-limit.server.ts";

const REFUSALS = {
  missing_api_key: "Send your API key as `Authorization: Bearer tdk_…` (admins create keys at /admin/api-keys).",
  invalid_api_key: "The API key is malformed or unknown.",
  revoked_api_key: "The API key has been revoked.",
  insufficient_scope: "This request needs a key with the write scope.",
} as const;

/** The request's live API key with `scope`, counted against its rate limit; else throws the problem. */
export function requireApiKey(request: Request, scope: ApiKeyScope): Promise<ApiKeyRecord> {
  return requireApiKeyOf(request.headers.get("Authorization"), scope);
}

/** The same from the `Authorization` header's value (the server's direct path has no Request). */
export async function requireApiKeyOf(authorization: string | null, scope: ApiKeyScope): Promise<ApiKeyRecord> {
  const authentication = await authenticateApiKey(authorization, scope);
  if (!authentication.ok) {
    const headers: Record<string, string> =
      authentication.code === "insufficient_scope" ? {} : { "WWW-Authenticate": 'Bearer realm="tierdesk"' };
    throw problem(authentication.code, REFUSALS[authentication.code], { headers });
  }
  const limit = await consumeApiRequest(authentication.key.id);
  if (!limit.allowed) {
    throw problem("rate_limited", `This key's rate limit is reached: retry in ${limit.retryAfterSeconds} s.`, {
      headers: { "Retry-After": String(limit.retryAfterSeconds) },
    });
  }
  return authentication.key;
}

/** Field errors by path ("account", "form" for the body as a whole), as forms show them. */
function fieldErrors(error: z.ZodError): Record<string, string[]> {
  const errors: Record<string, string[]> = {};
  for (const issue of error.issues) (errors[issue.path.join(".") || "form"] ??= []).push(issue.message);
  return errors;
}

/** Validates `value` with `schema`; else throws invalid_request naming each field's problem. */
export function validate<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw problem("invalid_request", `The ${what} is not valid.`, { errors: fieldErrors(parsed.error) });
}

/** The request's body as text; over FORM_BODY_LIMIT, thrown as a 413 problem. */
export async function readApiBody(request: Request): Promise<string> {
  try {
    return await readRawBody(request, FORM_BODY_LIMIT);
  } catch (error) {
    if (error instanceof BodyTooLargeError) throw tooLarge();
    throw error;
  }
}

const tooLarge = () => problem("payload_too_large", `Send at most ${FORM_BODY_LIMIT} bytes.`);

/** A JSON body, validated with `schema`; a body that is not JSON or not valid is thrown as a problem. */
export function parseJsonBody<S extends z.ZodType>(text: string, schema: S): z.output<S> {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw problem("invalid_request", "The request body is not valid JSON.");
  }
  return validate(schema, body, "request body");
}

/** Runs an API answer, returning a thrown problem as the answer itself. */
export async function answering(work: () => Promise<Response>): Promise<Response> {
  try {
    return await work();
  } catch (thrown) {
    if (thrown instanceof Response) return thrown;
    throw thrown;
  }
}
