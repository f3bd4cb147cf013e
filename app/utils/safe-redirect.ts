// Only same-site relative paths are followed after sign-in: "//evil.com", "/\evil.com" and
// absolute URLs are open redirects and fall back to the default.
const BASE = "http://tierdesk.invalid";

export function safeRedirect(to: FormDataEntryValue | string | null | undefined, fallback = "/"): string {
  if (!to || typeof to !== "string") return fallback;
  const target = to.trim();
  if (!target.startsWith("/") || target.startsWith("//") || target.startsWith("/\\")) return fallback;
  if (/[\u0000-\u001f\u007f]/.test(target)) return fallback;
  try {
    // A browser must resolve it to this same origin. Re-serialising also percent-encodes
    // non-ASCII characters as UTF-8, as a Location header requires.
    const url = new URL(target, BASE);
    if (url.origin !== BASE) return fallback;
    const normalised = `${url.pathname}${url.search}${url.hash}`;
    // Dot segments can collapse into "//host" ("/.//evil.com"): check again after normalising.
    return normalised.startsWith("//") || normalised.startsWith("/\\") ? fallback : normalised;
  } catch {
    return fallback;
  }
}

/**
 * A same-site path on exactly `path` (its query kept), else `path` itself: where a form may send the
 * user back to, once resolved ("/admin/events/../..//evil.com" is no way out).
 */
export function safeRedirectWithin(to: FormDataEntryValue | string | null | undefined, path: string): string {
  const url = new URL(safeRedirect(to, path), BASE);
  return url.pathname === path ? `${url.pathname}${url.search}` : path;
}

/**
 * /login or /signup with where to go afterwards (`next`) and the email to pre-fill (an invitation's),
 * so both survive switching between the two forms.
 */
export function authFormPath(path: "/login" | "/signup", next: string, email: string | null) {
  const query = new URLSearchParams();
  if (next) query.set("next", next);
  if (email) query.set("email", email);
  const search = query.toString();
  return search ? `${path}?${search}` : path;
}
