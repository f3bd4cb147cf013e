// Reading requests within limits, and answering fetch() callers with JSON and plain HTML form posts
// with redirects, so the pages work with and without JavaScript.
import { hasControlCharacter } from "./validation.ts";

export function wantsJson(request: Request) {
  const contentType = request.headers.get("Content-Type") ?? "";
  const accept = request.headers.get("Accept") ?? "";
  return contentType.includes("application/json") || accept.includes("application/json");
}

export function jsonResponse(body: unknown, status = 200, headers: Record<string, string> = {}) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store", ...headers },
  });
}

/** The most a form post or a JSON call may send (the webhook routes allow WEBHOOK_BODY_LIMIT). */
export const FORM_BODY_LIMIT = 64 * 1024;
/** What a webhook route reads at most (Stripe's own events stay far below it). */
export const WEBHOOK_BODY_LIMIT = 1024 * 1024;

function payloadTooLarge(limit: number, what = "The request body") {
  // The rest of the body is left unread: close the connection rather than keep it.
  return jsonResponse({ error: `${what} is larger than ${limit / 1024} KiB.` }, 413, { Connection: "close" });
}

function badRequest(error: string) {
  return jsonResponse({ error }, 400);
}

async function readBoundedBody(request: Request, limit: number): Promise<Buffer> {
  try {
    return await readRawBytes(request, limit);
  } catch (error) {
    if (error instanceof BodyTooLargeError) throw payloadTooLarge(limit);
    throw badRequest("The request body could not be read.");
  }
}

/**
 * The posted form, read up to FORM_BODY_LIMIT (a larger body is answered 413 before the rest is read).
 * A control character is refused with a 400, except in `freeText` fields: their schemas say so at the
 * field, keeping what was typed.
 */
export async function readForm(
  request: Request,
  { freeText = [] }: { freeText?: readonly string[] } = {},
): Promise<FormData> {
  const contentType = request.headers.get("Content-Type") ?? "";
  const body = await readBoundedBody(request, FORM_BODY_LIMIT);
  let form: FormData;
  if (/^multipart\/form-data/i.test(contentType)) {
    form = await new Response(new Uint8Array(body), { headers: { "Content-Type": contentType } })
      .formData()
      .catch(() => {
        throw badRequest("The form could not be read.");
      });
  } else {
    form = new FormData();
    for (const [name, value] of new URLSearchParams(body.toString("utf8"))) form.append(name, value);
  }
  for (const [name, value] of form) {
    if (typeof value === "string" && !freeText.includes(name) && hasControlCharacter(value)) {
      throw badRequest(`The field "${name.slice(0, 64)}" contains a control character.`);
    }
  }
  return form;
}

/**
 * Fields from a form-encoded or JSON body (strings only), read up to FORM_BODY_LIMIT; a body that is
 * not JSON when it says so is a 400.
 */
export async function readFields<Name extends string>(
  request: Request,
  names: readonly Name[],
): Promise<Record<Name, string | null>> {
  const pick = (value: unknown) => (typeof value === "string" ? value : null);
  let get: (name: Name) => unknown;
  if ((request.headers.get("Content-Type") ?? "").includes("application/json")) {
    const text = (await readBoundedBody(request, FORM_BODY_LIMIT)).toString("utf8");
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw badRequest("The request body is not valid JSON.");
    }
    const fields = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
    get = (name) => fields[name];
  } else {
    // Its callers check each value against the pattern it must have (control characters included).
    const form = await readForm(request, { freeText: names }).catch((error: unknown) => {
      if (error instanceof Response) throw error;
      return null;
    });
    get = (name) => form?.get(name);
  }
  return Object.fromEntries(names.map((name) => [name, pick(get(name))])) as Record<Name, string | null>;
}

/** A field from a form-encoded or JSON body; a body that is not JSON when it says so is a 400. */
export async function readField(request: Request, name: string): Promise<string | null> {
  return (await readFields(request, [name]))[name] ?? null;
}

export class BodyTooLargeError extends Error {
  name = "BodyTooLargeError";
}

/** The raw body's bytes; BodyTooLargeError past `limit` bytes (the rest is left unread). */
async function readRawBytes(request: Request, limit: number): Promise<Buffer> {
  if (Number(request.headers.get("Content-Length") ?? "0") > limit) throw new BodyTooLargeError();
  if (!request.body) return Buffer.alloc(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      // Not cancel(): that destroys the socket the 413 must still be written to.
      reader.releaseLock();
      throw new BodyTooLargeError();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

/** The raw body as text (webhook signatures are over the exact bytes); BodyTooLargeError past `limit` bytes. */
export async function readRawBody(request: Request, limit: number): Promise<string> {
  return (await readRawBytes(request, limit)).toString("utf8");
}
