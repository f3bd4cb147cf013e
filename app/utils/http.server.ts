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

/** A field from a form-encoded or JSON body; a body that is not JSON when it says so is a 400. */
export async function readField(request: Request, name: string): Promise<string | null> {
  const contentType = request.headers.get("Content-Type") ?? "";
  if (contentType.includes("application/json")) {
    const body = (await request.json().catch(() => {
      throw jsonResponse({ error: "The request body is not valid JSON." }, 400);
    })) as Record<string, unknown> | null;
    const value = typeof body === "object" && body !== null ? body[name] : undefined;
    return typeof value === "string" ? value : null;
  }
  const form = await request.formData().catch(() => null);
  const value = form?.get(name);
  return typeof value === "string" ? value : null;
}
