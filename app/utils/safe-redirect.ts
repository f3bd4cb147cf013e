// Only same-site relative paths are followed after sign-in: "//evil.com", "/\evil.com" and
// absolute URLs are open redirects and fall back to the default.
export function safeRedirect(to: FormDataEntryValue | string | null | undefined, fallback = "/"): string {
  if (!to || typeof to !== "string") return fallback;
  const target = to.trim();
  if (!target.startsWith("/") || target.startsWith("//") || target.startsWith("/\\")) return fallback;
  if (/[\u0000-\u001f]/.test(target)) return fallback;
  try {
    // A browser must resolve it to this same origin.
    const url = new URL(target, "http://tierdesk.invalid");
    if (url.origin !== "http://tierdesk.invalid") return fallback;
  } catch {
    return fallback;
  }
  return target;
}
