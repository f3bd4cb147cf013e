// Resource routes answer fetch() callers with JSON and plain HTML form posts with redirects,
// so the pages work with and without JavaScript.
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

/** Fields from a form-encoded or JSON body (strings only); a body that is not JSON when it says so is a 400. */
export async function readFields<Name extends string>(
  request: Request,
  names: readonly Name[],
): Promise<Record<Name, string | null>> {
  const pick = (value: unknown) => (typeof value === "string" ? value : null);
  let get: (name: Name) => unknown;
  if ((request.headers.get("Content-Type") ?? "").includes("application/json")) {
    const body = (await request.json().catch(() => {
      throw jsonResponse({ error: "The request body is not valid JSON." }, 400);
    })) as Record<string, unknown> | null;
    const fields = typeof body === "object" && body !== null ? body : {};
    get = (name) => fields[name];
  } else {
    const form = await request.formData().catch(() => null);
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

/** The raw body as text (webhook signatures are over the exact bytes); BodyTooLargeError past `limit` bytes. */
export async function readRawBody(request: Request, limit: number): Promise<string> {
  if (Number(request.headers.get("Content-Length") ?? "0") > limit) throw new BodyTooLargeError();
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      reader.releaseLock();
      throw new BodyTooLargeError();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}
