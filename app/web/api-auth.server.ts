// /api/v1's request guard: the Bearer key (by hash, cached), its scope and its rate limit (shared by
// every instance); every refusal is a problem-details response, thrown so routes read straight through.
import type { z } from "zod";
import type { ApiKeyScope } from "~/generated/prisma/enums.ts";
import { type ApiKeyRecord, authenticateApiKey } from "~/services/api/keys.server.ts";
import { BodyTooLargeError, FORM_BODY_LIMIT, readRawBody } from "~/utils/http.server.ts";
import { problem } from "./problem.server.ts";
import { consumeAttempt } from "./rate-limit.server.ts";

const REFUSALS = {
  missing_api_key: "Send your API key as `Authorization: Bearer tdk_…` (admins create keys at /admin/api-keys).",
  invalid_api_key: "The API key is malformed or unknown.",
  revoked_api_key: "The API key has been revoked.",
  insufficient_scope: "This request needs a key with the write scope.",
} as const;

/** The request's live API key with `scope`, counted against its rate limit; else throws the problem. */
export async function requireApiKey(request: Request, scope: ApiKeyScope): Promise<ApiKeyRecord> {
  const authentication = await authenticateApiKey(request.headers.get("Authorization"), scope);
  if (!authentication.ok) {
    const headers: Record<string, string> =
      authentication.code === "insufficient_scope" ? {} : { "WWW-Authenticate": 'Bearer realm="tierdesk"' };
    throw problem(authentication.code, REFUSALS[authentication.code], { headers });
  }
  const limit = await consumeAttempt([["apiPerKey", String(authentication.key.id)]]);
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

/** The JSON body, validated with `schema`; a body that is not JSON, too large or not valid is thrown as a problem. */
export async function readJsonBody<S extends z.ZodType>(request: Request, schema: S): Promise<z.output<S>> {
  let text: string;
  try {
    text = await readRawBody(request, FORM_BODY_LIMIT);
  } catch (error) {
    if (error instanceof BodyTooLargeError)
      throw problem("payload_too_large", `Send at most ${FORM_BODY_LIMIT} bytes.`);
    throw error;
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw problem("invalid_request", "The request body is not valid JSON.");
  }
  return validate(schema, body, "request body");
}
